"""What a command costs before its work starts (issue 18): bad input refused without importing
Dagster or pandas, known files not read again for their checksum, files given to ``pnad ingest``
hard-linked into raw/ rather than copied."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.decp import checksums, landing
from pipelines.decp.checksums import ChecksumCache

PROJECT = Path(__file__).resolve().parents[1]
HEAVY = ("dagster", "pandas")


def imported_modules(*args: str, home: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``pnad ARGS`` with ``-X importtime``: the result, and every module it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipelines.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PNAD_HOME": str(home)},
        cwd=PROJECT,
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return result, modules


def test_ingest_of_a_missing_path_fails_before_importing_dagster_or_pandas(tmp_path):
    missing = tmp_path / "absent.json"
    result, modules = imported_modules("ingest", str(missing), home=tmp_path / "home")
    assert result.returncode == 1
    message = [line for line in result.stderr.splitlines() if not line.startswith("import time")]
    assert len(message) == 1 and str(missing) in message[0]
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_report_without_a_publication_fails_before_importing_dagster(tmp_path):
    result, modules = imported_modules("report", "--region", "99", home=tmp_path / "home")
    assert result.returncode == 1
    assert "pnad.duckdb" in result.stderr
    assert not {m for m in modules if m.split(".")[0] == "dagster"}


def test_a_known_file_is_not_read_again_and_a_changed_one_is(tmp_path, monkeypatch):
    data = tmp_path / "decp.json"
    data.write_text('{"marches": {"marche": []}}', encoding="utf-8")
    reads = []
    real = checksums.sha256_of
    monkeypatch.setattr(checksums, "sha256_of", lambda path: reads.append(path) or real(path))
    with duckdb.connect() as con:
        first = ChecksumCache(con)
        digest = first.sha256(data)
        first.save()
        assert ChecksumCache(con).sha256(data) == digest
        assert len(reads) == 1  # the second cache knew it from the working database
        # written again (same size, later time): read again, new checksum
        time.sleep(0.01)
        data.write_text('{"marches": {"marche": {}}}', encoding="utf-8")
        assert ChecksumCache(con).sha256(data) == real(data) != digest
        assert len(reads) == 2


def test_ingest_hard_links_into_raw_and_registration_does_not_read_it_again(tmp_path, monkeypatch):
    source = tmp_path / "given" / "decp.json"
    source.parent.mkdir()
    source.write_text('{"marches": {"marche": []}}', encoding="utf-8")
    paths = PnadPaths.resolve(tmp_path / "home").ensure()
    reads = []
    real = checksums.sha256_of
    monkeypatch.setattr(checksums, "sha256_of", lambda path: reads.append(path) or real(path))
    with warehouse.connect(paths) as con:
        [(_, landed)] = landing.land_local_files(paths, [source], con)
        assert landed.read_bytes() == source.read_bytes()
        assert landed.stat().st_ino == source.stat().st_ino  # a link, not a copy
        summary = landing.register_raw_files(con, paths)
        file_id = con.execute("select file_id from ingest_files").fetchone()[0]
    assert summary.new_files == 1 and file_id == real(source)
    assert reads == [source]  # read once, when landed


def test_a_file_that_cannot_be_linked_is_copied_and_not_read_again(tmp_path, monkeypatch):
    source = tmp_path / "given.json"
    source.write_text('{"marches": {"marche": []}}', encoding="utf-8")
    paths = PnadPaths.resolve(tmp_path / "home").ensure()

    def refused(*_):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refused)
    reads = []
    real = checksums.sha256_of
    monkeypatch.setattr(checksums, "sha256_of", lambda path: reads.append(path) or real(path))
    with warehouse.connect(paths) as con:
        [(_, landed)] = landing.land_local_files(paths, [source], con)
        assert landed.stat().st_ino != source.stat().st_ino  # a copy
        assert landed.read_bytes() == source.read_bytes()
        assert landing.register_raw_files(con, paths).new_files == 1
    assert reads == [source]


def _pnad(*args: str, home: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PNAD_HOME": str(home)},
        cwd=PROJECT,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _published(home: Path) -> tuple:
    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        return con.execute(
            "select count(*), sum(hash(uid, social_status, environmental_status)) from contracts"
        ).fetchone(), con.execute(
            "select sum(hash(scope, year, level, territory_code, contracts, social_yes)) "
            "from pnad_shares"
        ).fetchone()


@pytest.mark.slow  # left out of the default run (CI time): pytest -m slow
def test_nothing_new_keeps_the_pages_and_a_new_file_rewrites_them(tmp_path):
    from pipelines.demo.generator import generate_demo

    home = tmp_path / "home"
    _pnad("demo", "--size", "300", home=home)
    index = (home / "reports" / "index.html").resolve()
    index_inode = index.stat().st_ino  # the publication is pruned later
    before = _published(home)
    _pnad("refresh", "--force", home=home)  # through Dagster, with nothing new
    kept = (home / "reports" / "index.html").resolve()
    assert kept != index  # a new publication...
    assert kept.stat().st_ino == index_inode  # ...whose pages were kept, not rewritten
    assert _published(home) == before
    extra = tmp_path / "extra"
    generate_demo(extra, size=100, seed=7)
    _pnad("ingest", str(extra), home=home)
    rewritten = (home / "reports" / "index.html").resolve()
    assert rewritten.stat().st_ino != index_inode
    assert _published(home)[0][0] > before[0][0]


def _recorded_install(tmp_path: Path) -> PnadPaths:
    """A data root as a successful refresh leaves it: raw files, a drop folder, the working and
    published databases, and the refresh's stamp recorded."""
    from pipelines.service import unchanged

    paths = PnadPaths.resolve(tmp_path / "home").ensure()
    (paths.raw / "local").mkdir()
    (paths.raw / "local" / "decp.json").write_text('{"marches": []}', encoding="utf-8")
    paths.facilitator_drop.mkdir()
    duckdb.connect(str(paths.work_db)).close()
    duckdb.connect(str(paths.published_db)).close()
    assert unchanged.record(paths, unchanged.inputs_listing(paths))
    assert unchanged.last_unchanged(paths) is not None
    return paths


@pytest.mark.parametrize(
    "change",
    [
        "a new raw file",
        "a raw file written again",
        "an export dropped",
        "the working database written",
        "a settings file",
        "another day",
        "another memory setting",
    ],
)
def test_a_refresh_is_skipped_only_when_nothing_it_reads_changed(tmp_path, monkeypatch, change):
    from pipelines.service import unchanged

    paths = _recorded_install(tmp_path)
    raw_file = paths.raw / "local" / "decp.json"
    if change == "a new raw file":
        (paths.raw / "local" / "decp2.json").write_text("{}", encoding="utf-8")
    elif change == "a raw file written again":  # same size, later time
        time.sleep(0.01)
        raw_file.write_text('{"marches": {}}', encoding="utf-8")
    elif change == "an export dropped":
        (paths.facilitator_drop / "abc").mkdir()
        (paths.facilitator_drop / "abc" / "heures.csv").write_text("a;b\n", encoding="utf-8")
    elif change == "the working database written":
        with duckdb.connect(str(paths.work_db)) as con:
            con.execute("create table withdrawn as select 1 as export_id")
    elif change == "a settings file":
        (paths.home / "sources.toml").write_text("[sources]\n", encoding="utf-8")
    elif change == "another day":
        from datetime import datetime

        monkeypatch.setattr(unchanged, "paris_now", lambda: datetime(2099, 1, 2, 6, 0))
    elif change == "another memory setting":
        monkeypatch.setenv("PNAD_DUCKDB_MEMORY", "1GB")
    assert unchanged.last_unchanged(paths) is None


def test_a_file_arriving_during_a_refresh_is_not_skipped_by_the_next(tmp_path):
    from pipelines.service import unchanged

    paths = _recorded_install(tmp_path)
    before = unchanged.inputs_listing(paths)
    (paths.raw / "local" / "late.json").write_text("{}", encoding="utf-8")  # while it ran
    assert not unchanged.record(paths, before)
    assert unchanged.last_unchanged(paths) is None
    # files the run itself removed (a release pruned) do not prevent the record
    (paths.raw / "local" / "late.json").unlink()
    before = unchanged.inputs_listing(paths)
    (paths.raw / "local" / "decp.json").unlink()
    assert unchanged.record(paths, before)
    assert unchanged.last_unchanged(paths) is not None
