"""Configured sources: reading sources.toml with user overrides, and fetching data.gouv.fr
resources from a local HTTP server that plays the data.gouv.fr API."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.common import warehouse
from pipelines.common.download import make_session
from pipelines.decp.sources import Source, SourceConfigError, fetch_sources, load_sources
from tests.conftest import marche

DAILY = json.dumps(
    {"marches": {"marche": [marche("S1", social=["Clause sociale"]), marche("S2")]}}
).encode()
DAILY_2 = json.dumps({"marches": {"marche": [marche("S3")]}}).encode()
HTML = b"<!DOCTYPE html><html><body>Erreur 500</body></html>"


class FakeDataGouv(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    base = ""
    single_last_modified = "2024-07-15T06:12:00.000000+00:00"

    def log_message(self, *args) -> None:
        return None

    def _json(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        FakeDataGouv.hits[self.path] = FakeDataGouv.hits.get(self.path, 0) + 1
        files = {"/files/day1.json": DAILY, "/files/day2.json": DAILY_2, "/files/broken.json": HTML}
        if self.path == "/api/1/datasets/daily-dataset/":
            return self._json(
                {
                    "resources": [
                        {
                            "id": "r-day1",
                            "url": f"{self.base}/files/day1.json",
                            "format": "json",
                            "checksum": {"type": "sha1", "value": hashlib.sha1(DAILY).hexdigest()},
                        },
                        {
                            "id": "r-day2",
                            "url": f"{self.base}/files/day2.json",
                            "format": "JSON",
                            "checksum": {
                                "type": "sha1",
                                "value": hashlib.sha1(DAILY_2).hexdigest(),
                            },
                        },
                        {
                            "id": "r-broken",
                            "url": f"{self.base}/files/broken.json",
                            "format": "json",
                        },
                        {"id": "r-pdf", "url": f"{self.base}/files/notice.pdf", "format": "pdf"},
                    ]
                }
            )
        if self.path == "/api/2/datasets/resources/r-single/":
            return self._json(
                {
                    "resource": {
                        "url": f"{self.base}/files/day2.json",
                        "checksum": None,
                        "last_modified": FakeDataGouv.single_last_modified,
                    }
                }
            )
        if self.path in files:
            body = files[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None


@pytest.fixture
def datagouv(monkeypatch):
    FakeDataGouv.hits = {}
    FakeDataGouv.single_last_modified = "2024-07-15T06:12:00.000000+00:00"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeDataGouv)
    FakeDataGouv.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("PNAD_DATAGOUV_API", f"{FakeDataGouv.base}/api")
    yield FakeDataGouv.base
    httpd.shutdown()
    httpd.server_close()


DAILY_SOURCE = Source(
    name="daily",
    kind="datagouv_dataset",
    dataset="daily-dataset",
    formats=("json",),
    suffix=".json",
)


def test_dataset_resources_are_fetched_and_bad_ones_quarantined(datagouv, pnad_paths):
    with warehouse.connect(pnad_paths) as con:
        outcomes = fetch_sources(
            con,
            pnad_paths,
            [DAILY_SOURCE],
            log=lambda _: None,
            session=make_session(retries=1, backoff=0),
        )
        manifest = con.execute(
            "select resource_id, outcome, checksum_type, http_status from download_manifest "
            "order by resource_id"
        ).fetchall()
    assert [r.outcome for _, r in outcomes] == ["downloaded", "downloaded", "quarantined"]
    assert manifest == [
        ("r-broken", "quarantined", None, 200),
        ("r-day1", "downloaded", "sha1", 200),
        ("r-day2", "downloaded", "sha1", 200),
    ]
    landed = sorted(p.name for p in (pnad_paths.raw / "daily").iterdir())
    assert landed == sorted(
        [
            f"daily-rday1-{hashlib.sha256(DAILY).hexdigest()[:16]}.json",
            f"daily-rday2-{hashlib.sha256(DAILY_2).hexdigest()[:16]}.json",
        ]
    )
    assert "/files/notice.pdf" not in FakeDataGouv.hits  # format filter


def test_unchanged_published_checksum_is_not_downloaded_again(datagouv, pnad_paths):
    with warehouse.connect(pnad_paths) as con:
        fetch_sources(con, pnad_paths, [DAILY_SOURCE], log=lambda _: None)
        again = fetch_sources(con, pnad_paths, [DAILY_SOURCE], log=lambda _: None)
    assert [r.outcome for _, r in again][:2] == ["unchanged", "unchanged"]
    assert FakeDataGouv.hits["/files/day1.json"] == 1


def test_single_resource_through_the_api(datagouv, pnad_paths):
    source = Source(name="single", kind="datagouv_resource", resource_id="r-single")
    with warehouse.connect(pnad_paths) as con:
        ((_, result),) = fetch_sources(con, pnad_paths, [source], log=lambda _: None)
    assert result.outcome == "downloaded" and result.path.read_bytes() == DAILY_2


def test_no_checksum_but_the_same_published_last_modified_is_not_downloaded_again(
    datagouv, pnad_paths
):
    source = Source(name="single", kind="datagouv_resource", resource_id="r-single")
    with warehouse.connect(pnad_paths) as con:
        fetch_sources(con, pnad_paths, [source], log=lambda _: None)
        ((_, again),) = fetch_sources(con, pnad_paths, [source], log=lambda _: None)
        assert (again.outcome, again.reason) == (
            "unchanged",
            "date de mise à jour publiée inchangée : pas téléchargé",
        )
        assert FakeDataGouv.hits["/files/day2.json"] == 1
        # the resource is republished: fetched again (same content here: nothing new lands)
        FakeDataGouv.single_last_modified = "2024-07-16T06:12:00.000000+00:00"
        ((_, third),) = fetch_sources(con, pnad_paths, [source], log=lambda _: None)
        manifest = con.execute(
            "select outcome, published_last_modified from download_manifest order by fetched_at"
        ).fetchall()
    assert third.outcome == "unchanged" and FakeDataGouv.hits["/files/day2.json"] == 2
    assert manifest == [
        ("downloaded", "2024-07-15T06:12:00.000000+00:00"),
        ("unchanged", "2024-07-15T06:12:00.000000+00:00"),
        ("unchanged", "2024-07-16T06:12:00.000000+00:00"),
    ]


def test_user_file_overrides_and_disables_sources(pnad_paths):
    (pnad_paths.home / "sources.toml").write_text(
        '[sources.decp_consolidated]\nkind = "datagouv_resource"\nresource_id = "x"\n'
        "enabled = false\n\n"
        '[sources.my_folder]\nkind = "local_folder"\npath = "/data/decp"\n',
        encoding="utf-8",
    )
    sources = {s.name: s for s in load_sources(pnad_paths)}
    assert sources["decp_consolidated"].enabled is False
    assert sources["my_folder"].path == "/data/decp"
    assert "decp_api_dume" in sources  # shipped sources stay


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[sources.x]\nkind = "ftp"\n', "kind doit valoir l'un de"),
        ('[sources.x]\nkind = "url"\n', "url demande `url`"),
        (
            '[sources.x]\nkind = "url"\nurl = "http://a"\ncolour = "red"\n',
            "sources.x.colour : clé inconnue",
        ),
        ("[sources.x\n", "sources.toml"),
    ],
)
def test_invalid_configuration_is_named(pnad_paths, content, message):
    (pnad_paths.home / "sources.toml").write_text(content, encoding="utf-8")
    with pytest.raises(SourceConfigError, match=message):
        load_sources(pnad_paths)


@pytest.mark.slow  # left out of the default run (CI time): pytest -m slow
def test_pnad_run_end_to_end_against_the_local_api(datagouv, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    folder = tmp_path / "dossier"
    folder.mkdir()
    (folder / "local.json").write_text(
        json.dumps({"marches": {"marche": [marche("LOCAL1")]}}), encoding="utf-8"
    )
    (home / "sources.toml").write_text(
        '[sources.decp_consolidated]\nkind = "datagouv_resource"\nresource_id = "x"\n'
        "enabled = false\n\n"
        '[sources.daily]\nkind = "datagouv_dataset"\ndataset = "daily-dataset"\n'
        'formats = ["json"]\n\n'
        f'[sources.my_folder]\nkind = "local_folder"\npath = "{folder.as_posix()}"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pnad")), "run", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PNAD_HOME": str(home), "PNAD_DATAGOUV_API": f"{datagouv}/api"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "daily : téléchargé" in result.stdout and "daily : mis de côté" in result.stdout
    assert "my_folder : copié -> raw/my_folder/" in result.stdout
    assert "contrats distincts : 4" in result.stdout
