"""Every network fault against a real misbehaving HTTP server on 127.0.0.1: each download ends
within its bounds with a French reason, and one bad source never stops the good ones."""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.common import warehouse
from pipelines.common.download import Bounds, fetch, looks_like_html, make_session
from pipelines.decp.sources import Source, fetch_sources

BODY = b'{"marches": {"marche": [{"id": "1"}]}}'


class Misbehaving(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args) -> None:
        return None

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        Misbehaving.hits[self.path] = Misbehaving.hits.get(self.path, 0) + 1
        if self.path == "/good.json":
            return self._answer(200, BODY)
        if self.path == "/one-byte-a-second.json":
            self.send_response(200)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            try:
                for _ in range(5000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                return None
        if self.path == "/silent.json":
            time.sleep(30)  # never answers within the budget
            return None
        if self.path == "/retry-after-an-hour.json":
            return self._answer(503, b"busy", {"Retry-After": "3600"})
        if self.path == "/loop.json":
            return self._answer(302, b"", {"Location": "/loop.json"})
        if self.path == "/to-file.json":
            return self._answer(302, b"", {"Location": "file:///etc/passwd"})
        if self.path == "/no-doctype.json":
            return self._answer(200, b"<head><title>Erreur 500</title></head><body>oups</body>")
        if self.path == "/huge.json":
            return self._answer(200, b"[" + b" " * 3_000_000 + b"]")
        return self._answer(404, b"")


class QuietServer(ThreadingHTTPServer):
    """A client hanging up on a misbehaving answer (a stall, a huge body) is what these tests
    provoke: not worth a traceback on the test run's output."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def server():
    Misbehaving.hits = {}
    httpd = QuietServer(("127.0.0.1", 0), Misbehaving)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def get(server, path, tmp_path, seconds=3.0, max_bytes=1_000_000):
    started = time.monotonic()
    result = fetch(
        f"{server}{path}",
        tmp_path / "raw",
        "resource",
        ".json",
        quarantine_dir=tmp_path / "quarantine",
        session=make_session(retries=2, backoff=0),
        body_backoff=0,
        bounds=Bounds(seconds=seconds, max_bytes=max_bytes),
    )
    return result, time.monotonic() - started


def test_a_server_sending_one_byte_a_second_is_cut_at_the_time_budget(server, tmp_path):
    result, elapsed = get(server, "/one-byte-a-second.json", tmp_path, seconds=2)
    assert elapsed < 6
    assert result.outcome in ("failed", "quarantined")
    assert "durée maximale dépassée" in result.reason
    assert not list((tmp_path / "raw").glob("*.json"))


def test_a_silent_server_is_given_up_at_the_time_budget(server, tmp_path):
    result, elapsed = get(server, "/silent.json", tmp_path, seconds=2)
    assert elapsed < 6
    assert result.outcome == "failed"


def test_retry_after_an_hour_waits_no_longer_than_the_cap(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PNAD_RETRY_AFTER_MAX", "1")
    result, elapsed = get(server, "/retry-after-an-hour.json", tmp_path, seconds=60)
    assert elapsed < 10  # 2 retries, each waiting 1 s instead of an hour
    assert (result.outcome, result.reason) == ("failed", "HTTP 503")
    assert Misbehaving.hits["/retry-after-an-hour.json"] == 3


def test_a_redirect_loop_fails_that_download_only(server, tmp_path):
    result, elapsed = get(server, "/loop.json", tmp_path)
    assert result.outcome == "failed" and result.reason.startswith("trop de redirections")
    assert Misbehaving.hits["/loop.json"] <= 11


def test_a_redirect_to_a_local_file_is_refused(server, tmp_path):
    result, _ = get(server, "/to-file.json", tmp_path)
    assert result.outcome == "failed"
    assert result.reason.startswith("adresse refusée (seuls http et https sont suivis)")


def test_an_html_page_without_doctype_is_recognised(server, tmp_path):
    result, _ = get(server, "/no-doctype.json", tmp_path)
    assert (result.outcome, result.reason) == (
        "quarantined",
        "page HTML au lieu du fichier de données attendu",
    )
    assert looks_like_html(b"<!-- erreur -->\n<body><p>indisponible</p></body>")
    assert not looks_like_html(b'<?xml version="1.0"?><marches></marches>')
    assert not looks_like_html(b"<marches><marche><id>1</id></marche></marches>")


def test_a_body_over_the_size_limit_is_not_landed(server, tmp_path):
    result, _ = get(server, "/huge.json", tmp_path, max_bytes=1_000_000)
    assert result.outcome == "failed" and result.reason.startswith("taille maximale dépassée")
    assert not list((tmp_path / "raw").glob("*"))


def test_bad_sources_never_stop_the_good_one(server, pnad_paths, monkeypatch):
    monkeypatch.setenv("PNAD_DOWNLOAD_MAX_SECONDS", "2")
    monkeypatch.setenv("PNAD_RETRY_AFTER_MAX", "0")
    bad = ("loop", "to_file", "slow", "busy", "no_doctype")
    paths = ("/loop.json", "/to-file.json", "/one-byte-a-second.json")
    paths += ("/retry-after-an-hour.json", "/no-doctype.json")
    sources = [
        Source(name=name, kind="url", url=f"{server}{path}")
        for name, path in zip(bad, paths, strict=True)
    ]
    sources.append(Source(name="good", kind="url", url=f"{server}/good.json"))
    started = time.monotonic()
    with warehouse.connect(pnad_paths) as con:
        outcomes = fetch_sources(
            con, pnad_paths, sources, log=lambda _: None, session=make_session(1, 0)
        )
        recorded = dict(
            con.execute("select source, outcome from download_manifest order by source").fetchall()
        )
    assert time.monotonic() - started < 30
    assert {source.name: result.outcome for source, result in outcomes} == recorded
    assert recorded["good"] == "downloaded"
    assert all(recorded[name] in ("failed", "quarantined") for name in bad)
    assert (pnad_paths.raw / "good").is_dir() and len(
        list((pnad_paths.raw / "good").iterdir())
    ) == 1


def test_a_source_failing_every_day_keeps_only_its_latest_bodies_in_quarantine(server, tmp_path):
    """An error page received every morning for months does not fill the disk: the five latest
    bodies stay for the operator to look at, the newest among them."""
    from pipelines.common.download import QUARANTINE_KEEP

    received = [get(server, "/no-doctype.json", tmp_path)[0] for _ in range(QUARANTINE_KEEP + 3)]
    assert {r.outcome for r in received} == {"quarantined"}
    kept = sorted((tmp_path / "quarantine").iterdir())
    assert len(kept) == QUARANTINE_KEEP == 5
    assert received[-1].path in kept and received[0].path not in kept
    assert kept[-1].read_bytes().startswith(b"<head><title>Erreur 500")
