"""The fuzz corpus (tests/fuzz_corpus.py) through the ``pnad`` command as a user types it: each
bad input is set aside alone with its reason in French, in bounded time and memory; the good
files' figures equal a clean run's; the next refresh succeeds. Also: personal data never
landed or published, a good file killed twice while parsing is read, two commands at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.common.writer_lock import writer_lock
from pipelines.decp.set_aside import files_needing_attention, retry_files
from pipelines.decp.sources import Source, fetch_sources
from tests.fuzz_corpus import (
    non_utf8_name,
    record,
    wrapped,
    write_decp_cases,
    write_export_cases,
    write_participants_list,
)

PNAD = str(Path(sys.executable).with_name("pnad"))


def pnad(*args: str, home: Path, **env: str) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run a command; (its result, seconds, peak memory in bytes of it and its children)."""
    started = time.monotonic()
    out, err = home.parent / "stdout", home.parent / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [PNAD, *args],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "PNAD_HOME": str(home), **env},
        )
        _, status, usage = os.wait4(process.pid, 0)
    result = subprocess.CompletedProcess(
        process.args,
        os.waitstatus_to_exitcode(status),
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
    )
    return result, time.monotonic() - started, usage.ru_maxrss * 1024


def published_contracts(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        return con.execute(
            "select uid, current_amount, notification_date from contracts order by uid"
        ).fetchall()


BOUNDS = {"PNAD_MAX_CONTENT_BYTES": "64MB", "PNAD_DUCKDB_MEMORY": "1GB"}


def test_every_bad_input_is_set_aside_alone_and_the_good_ones_are_read(tmp_path):
    folder = tmp_path / "corpus"
    cases = write_decp_cases(folder)
    named = non_utf8_name(folder, wrapped(record("GOODNAME")))
    home = tmp_path / "home"
    result, seconds, memory = pnad("ingest", str(folder), "--json", "--quiet", home=home, **BOUNDS)
    assert seconds < 240 and memory < 3 * 10**9
    assert result.returncode == 1  # files could not be read: said, and the rest published
    report = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    for case in cases:
        entry = report[case.name]
        if case.reason:
            assert entry["status"] == "quarantined", case
            assert case.reason in entry["reason"], (case, entry["reason"])
        else:
            assert entry["status"] == "parsed", (case, entry["reason"])
            assert entry["loaded"] == len(case.loads), case
    assert (
        report[
            Path(os.fsdecode(named))
            .name.encode("utf-8", "surrogateescape")
            .decode("utf-8", "replace")
        ]["loaded"]
        == 1
    )
    expected = sorted(f"{'21740056300011'}{cid}" for case in cases for cid in case.loads)
    assert [uid for uid, _, _ in published_contracts(home)] == sorted(
        [*expected, "21740056300011GOODNAME"]
    )

    # the good files alone, in a clean data root, give the same figures
    clean_folder = tmp_path / "clean"
    clean_folder.mkdir()
    for case in cases:
        if not case.reason:
            (clean_folder / case.name).write_bytes((folder / case.name).read_bytes())
    (clean_folder / "named.json").write_bytes(named.read_bytes())
    clean_home = tmp_path / "clean_home"
    clean, _, _ = pnad("ingest", str(clean_folder), "--quiet", home=clean_home, **BOUNDS)
    assert clean.returncode == 0, clean.stderr
    assert published_contracts(home) == published_contracts(clean_home)

    # the next refresh succeeds, reads nothing again and keeps every figure
    again, seconds, _ = pnad("refresh", "--quiet", home=home, **BOUNDS)
    assert again.returncode == 0, again.stderr
    assert seconds < 60
    assert published_contracts(home) == published_contracts(clean_home)


def test_personal_data_is_never_landed_nor_published(tmp_path):
    participants = write_participants_list(tmp_path / "participants.csv")
    good = tmp_path / "good.json"
    good.write_text(wrapped(record("P1")), encoding="utf-8")
    home = tmp_path / "home"
    result, _, _ = pnad("ingest", str(participants), str(good), "--json", "--quiet", home=home)
    report = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    assert report["participants.csv"]["status"] == "not_loaded"
    assert report["good.json"]["loaded"] == 1
    # dropped straight into the landing zone, it is not read either
    manual = home / "raw" / "manual"
    manual.mkdir(parents=True)
    (manual / "liste.csv").write_bytes(participants.read_bytes())
    refreshed, _, _ = pnad("refresh", "--quiet", home=home)
    assert refreshed.returncode == 0, refreshed.stderr
    landed = [p.read_bytes() for p in (home / "raw" / "local").iterdir()]
    assert not any(b"Zorglubeau" in content for content in landed)
    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        status, reason = con.execute(
            "select status, status_reason from ingest_files where relative_path like '%liste.csv'"
        ).fetchone()
        excerpts = con.execute("select raw_excerpt from ingest_rejects").fetchall()
    assert status == "quarantined" and reason.startswith("données personnelles probables")
    assert not any(excerpt and "Zorglubeau" in excerpt for (excerpt,) in excerpts)
    for path in home.rglob("*"):
        if path.is_file() and path.suffix in (".duckdb", ".html", ".md", ".json"):
            assert b"Zorglubeau" not in path.read_bytes(), path


def test_a_local_folder_source_never_copies_personal_data(pnad_paths, tmp_path):
    folder = tmp_path / "partage"
    folder.mkdir()
    write_participants_list(folder / "participants.csv")
    (folder / "day.json").write_text(wrapped(record("L1")), encoding="utf-8")
    source = Source(name="partage", kind="local_folder", path=str(folder))
    with warehouse.connect(pnad_paths) as con:
        outcomes = {
            Path(result.url).name: (result.outcome, result.reason)
            for _, result in fetch_sources(con, pnad_paths, [source], log=lambda _: None)
        }
    assert outcomes["day.json"] == ("downloaded", None)
    outcome, reason = outcomes["participants.csv"]
    assert outcome == "failed" and reason.startswith("données personnelles probables")
    landed = list((pnad_paths.raw / "partage").iterdir())
    assert len(landed) == 1 and b"Zorglubeau" not in landed[0].read_bytes()


def test_bad_files_in_the_drop_folder_are_named_and_never_stop_the_refresh(tmp_path):
    home = tmp_path / "home"
    (home / "raw" / "x").mkdir(parents=True)
    (home / "raw" / "x" / "good.json").write_text(wrapped(record("F1")), encoding="utf-8")
    reasons = write_export_cases(home / "facilitateurs", tmp_path / "ailleurs.csv")
    for attempt in range(2):  # and again at the next refresh
        result, seconds, _ = pnad("refresh", "--quiet", home=home)
        assert seconds < 120
        assert result.returncode == 1, attempt  # the refused exports are named, exit 1
        for name, reason in reasons.items():
            assert name in result.stderr and reason in result.stderr
        assert [uid for uid, _, _ in published_contracts(home)] == ["21740056300011F1"]


def test_a_good_file_killed_twice_while_parsing_is_read_alone_then_kept(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.json"
    good.write_text(wrapped(record("K1"), record("K2")), encoding="utf-8")
    first, _, _ = pnad("ingest", str(good), "--quiet", home=home)
    assert first.returncode == 0, first.stderr
    paths = PnadPaths.resolve(home)
    with warehouse.connect(paths) as con:
        # what two kills while parsing it leave behind (an OOM killer, a CI timeout)
        (file_id,) = con.execute("select file_id from ingest_files").fetchone()
        con.execute("delete from stg_decp_records")
        con.execute("update ingest_files set status = 'registered'")
        con.execute(
            "insert into ingest_parse_attempts (file_id, attempts, last_started_at) "
            "values ($id, 2, now())",
            {"id": file_id},
        )
        (attention,) = files_needing_attention(con)
        assert (attention["state"], attention["attempts"]) == ("interrupted", 2)
    result, _, _ = pnad("refresh", "--quiet", home=home)
    assert result.returncode == 0, result.stderr
    assert [uid for uid, _, _ in published_contracts(home)] == [
        "21740056300011K1",
        "21740056300011K2",
    ]
    with warehouse.connect(paths) as con:
        assert files_needing_attention(con) == []
        assert retry_files(con, paths, [file_id]) == 0  # parsed: nothing to read again


@pytest.mark.slow  # left out of the default run (CI time): pytest -m slow
def test_a_file_that_runs_the_child_out_of_memory_is_set_aside_and_can_be_retried(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.json"
    good.write_text(wrapped(*(record(f"M{i}") for i in range(3))), encoding="utf-8")
    pnad("ingest", str(good), "--quiet", home=home)
    paths = PnadPaths.resolve(home)
    with warehouse.connect(paths) as con:
        (file_id,) = con.execute("select file_id from ingest_files").fetchone()
        con.execute("delete from stg_decp_records")
        con.execute("update ingest_files set status = 'registered'")
        con.execute(
            "insert into ingest_parse_attempts (file_id, attempts, last_started_at) "
            "values ($id, 1, now())",
            {"id": file_id},
        )
    # 200 MB of address space: the child cannot even start DuckDB
    starved, _, _ = pnad(
        "refresh", "--quiet", "--allow-shrink", home=home, PNAD_CHILD_MEMORY="200MB"
    )
    assert starved.returncode == 1
    assert "fichier mis de côté" in starved.stderr and "pnad retry" in starved.stderr
    with warehouse.connect(paths) as con:
        (attention,) = files_needing_attention(con)
    assert attention["state"] == "set_aside" and attention["retry_command"].startswith("pnad retry")
    assert attention["reason"].startswith("la lecture de ce fichier seul")
    retried, _, _ = pnad("retry", file_id[:8], "--quiet", home=home)
    assert retried.returncode == 0, retried.stderr
    assert len(published_contracts(home)) == 3


def test_two_commands_at_once_run_one_after_the_other(tmp_path):
    home = tmp_path / "home"
    first_file, second_file = tmp_path / "a.json", tmp_path / "b.json"
    first_file.write_text(wrapped(record("A1")), encoding="utf-8")
    second_file.write_text(wrapped(record("B1")), encoding="utf-8")
    environment = {**os.environ, "PNAD_HOME": str(home)}
    commands = [[PNAD, "ingest", str(path), "--quiet"] for path in (first_file, second_file)]
    running = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        for command in commands
    ]
    outputs = [process.communicate(timeout=600) for process in running]
    assert [process.returncode for process in running] == [0, 0], outputs
    stderr = "".join(err.decode() for _, err in outputs)
    assert "Could not set lock" not in stderr
    assert [uid for uid, _, _ in published_contracts(home)] == [
        "21740056300011A1",
        "21740056300011B1",
    ]


def test_a_writer_that_waits_too_long_refuses_in_french(tmp_path):
    home = tmp_path / "home"
    paths = PnadPaths.resolve(home).ensure()
    with writer_lock(paths, "test qui écrit"):
        result, seconds, _ = pnad("refresh", "--quiet", home=home, PNAD_WRITER_WAIT="1")
    assert result.returncode == 1
    assert seconds < 30
    assert "une autre commande écrit dans" in result.stderr
    assert "toujours occupée par une autre commande (test qui écrit" in result.stderr


@pytest.mark.parametrize("size", [2_000, 64 * 1024 * 1024 + 10])
def test_a_value_too_large_for_a_record_is_refused_before_memory_follows(tmp_path, size):
    from pipelines.decp import json_split

    source = tmp_path / "huge.json"
    source.write_text('{"marches": [{"id": "' + "x" * size + '"}]}', encoding="utf-8")
    if size < json_split.MAX_RECORD_CHARS:
        document = json_split.split_document(source, tmp_path / "parts", 1 << 20)
        assert sum(part.records for part in document.parts) == 1
        return
    with pytest.raises(json_split.RecordTooLarge, match="dépasse 64 Mo"):
        json_split.split_document(source, tmp_path / "parts", 1 << 20)


def test_a_file_with_a_name_that_is_not_utf8_in_the_landing_zone_is_set_aside(pnad_paths):
    from pipelines.decp import landing

    folder = pnad_paths.raw / "x"
    folder.mkdir(parents=True)
    non_utf8_name(folder, wrapped(record("N8")))
    (folder / "good.json").write_text(wrapped(record("G8")), encoding="utf-8")
    for _ in range(2):  # registered once, and not again
        with warehouse.connect(pnad_paths) as con:
            landing.register_raw_files(con, pnad_paths)
            rows = con.execute(
                "select original_name, status, status_reason from ingest_files order by 1"
            ).fetchall()
    assert rows == [
        ("good.json", "registered", None),
        (
            "march\ufffds.json",
            "quarantined",
            "nom de fichier illisible (octets hors UTF-8) : renommez le fichier pour qu'il soit lu",
        ),
    ]


@pytest.mark.slow  # left out of the default run (CI time): pytest -m slow
def test_a_demo_with_another_seed_replaces_the_earlier_demo_exports(tmp_path):
    from pipelines.facilitators.loading import file_id_of

    home = tmp_path / "home"
    for seed in ("42", "43"):
        result, _, _ = pnad("demo", "--size", "300", "--seed", seed, "--quiet", home=home)
        assert result.returncode == 0, result.stderr[-2000:]
    dropped = sorted(file_id_of(p) for p in (home / "facilitateurs").rglob("*") if p.is_file())
    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        loaded = con.execute(
            "select file_id from facilitator_files where status = 'active' order by file_id"
        ).fetchall()
    # only seed 43's two exports count: seed 42's are gone from the drop folder and the tables
    assert len(dropped) == 2 and [file_id for (file_id,) in loaded] == dropped


def test_a_batch_interrupted_by_a_kill_is_read_again_in_one_child_not_one_per_file(
    tmp_path, monkeypatch
):
    """A kill from outside interrupts a whole batch of innocent files: the next run reads them
    again together in one child process (it took a child per file: a thousand daily files, a
    quarter of an hour); a group that stops its child is split in halves down to the file."""
    from pipelines.decp import set_aside

    paths = PnadPaths.resolve(tmp_path / "home").ensure()
    files = []
    for number in range(40):
        path = tmp_path / f"day{number}.json"
        path.write_text(wrapped(record(f"B{number}")), encoding="utf-8")
        files.append((f"id{number}", str(path)))
    children = []
    real = set_aside.read_alone_in_child

    def counted(paths_, group, fmt):
        children.append(len(group))
        return real(paths_, group, fmt)

    monkeypatch.setattr(set_aside, "read_alone_in_child", counted)
    assert set_aside.stopping_files(paths, files, "decp-json") == {}
    assert children == [40]  # one real child read the 40 files
    # one file among 40 that stops its child: found in halves, 11 children instead of 40
    children.clear()
    monkeypatch.setattr(
        set_aside,
        "read_alone_in_child",
        lambda _, group, __: (
            children.append(len(group)) or ("arrêt" if ("id17", files[17][1]) in group else None)
        ),
    )
    assert set_aside.stopping_files(paths, files, "decp-json") == {"id17": "arrêt"}
    assert len(children) == 11 and children[0] == 40 and min(children) == 1
