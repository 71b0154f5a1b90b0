"""Snapshot sources (a whole consolidation republished every day, as decp.parquet): each new
release replaces the previous one, a broken or shrunk one is set aside, old raw releases are
pruned; an incremental source still adds up. The source is served by a real HTTP server on
127.0.0.1 and fetched, parsed, built and published as `pnad run` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.decp.set_aside import retry_files
from pipelines.decp.sources import SourceConfigError, fetch_sources, load_sources
from pipelines.service.status import service_status
from tests.conftest import build_and_publish, marche
from tests.test_reference_downloads import ReferenceServer
from tests.test_reference_downloads import server as reference_server

server = reference_server  # a real HTTP server on 127.0.0.1 serving ReferenceServer.files

BUYER = "21740056300011"


def release(*records: dict) -> bytes:
    return json.dumps({"marches": {"marche": list(records)}}, ensure_ascii=False).encode()


def serve(body: bytes) -> None:
    """The current release at /decp.json, as data.gouv.fr serves decp.parquet."""
    ReferenceServer.files = {"/decp.json": (200, body)}


def configure(paths: PnadPaths, server: str, settings: str = "", suffix: str = ".json") -> None:
    """The shipped decp_consolidated pointed at the local server, as a user would override it."""
    (paths.home / "sources.toml").write_text(
        f'[sources.decp_consolidated]\nkind = "url"\nurl = "{server}/decp.json"\n'
        f'suffix = "{suffix}"\n{settings}',
        encoding="utf-8",
    )


def day(paths: PnadPaths, body: bytes, run_id: str) -> str:
    """One day of service: the source republished, fetched, everything rebuilt and published;
    returns the fetch outcome."""
    serve(body)
    with warehouse.connect(paths) as con:
        ((_, result),) = fetch_sources(con, paths, load_sources(paths), log=lambda _: None)
    build_and_publish(paths, run_id)
    return result.outcome


def published(paths: PnadPaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def working(paths: PnadPaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.work_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def figures(paths: PnadPaths) -> tuple[list[tuple], list[tuple]]:
    """What a user checks: the shares, and each contract's amount and statuses."""
    return (
        published(paths, "select * from pnad_shares order by all"),
        published(
            paths,
            "select uid, current_amount, social_status, environmental_status from contracts "
            "order by uid",
        ),
    )


def clean_build(tmp_path: Path, body: bytes) -> PnadPaths:
    """A from-scratch build on one release alone (a fresh data root, the file dropped in)."""
    paths = PnadPaths.resolve(tmp_path / "clean").ensure()
    (paths.raw / "local").mkdir(parents=True)
    (paths.raw / "local" / "release.json").write_bytes(body)
    build_and_publish(paths, "clean")
    return paths


RELEASE_1 = release(
    marche("A", BUYER),
    marche("B", BUYER, social=["Clause sociale"]),
    marche("C", BUYER),
    marche("D", BUYER, environmental=["Clause environnementale"]),
)
# A corrected (amount, a social clause declared), B and C as they were, D withdrawn, E new.
RELEASE_2 = release(
    marche("A", BUYER, amount=250_000, social=["Clause sociale"]),
    marche("B", BUYER, social=["Clause sociale"]),
    marche("C", BUYER),
    marche("E", BUYER, notified="2024-06-01", published="2024-06-03"),
)


def test_the_shipped_sources_say_how_they_publish(pnad_paths):
    publishes = {s.name: s.publishes for s in load_sources(pnad_paths)}
    assert publishes == {
        "decp_consolidated": "snapshot",
        "decp_api_dume": "incremental",
        "decp_dematis": "incremental",
        "decp_ministry_consolidated": "snapshot",
        "decp_economie_marches_valides": "snapshot",
        "local_drop": "incremental",
    }
    consolidated = next(s for s in load_sources(pnad_paths) if s.name == "decp_consolidated")
    assert (consolidated.keep_releases, consolidated.shrink_guard) == (2, 0.9)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('publishes = "weekly"', "publishes vaut « snapshot »"),
        ("keep_releases = 0", "keep_releases est un nombre entier"),
        ("shrink_guard = 1.5", "shrink_guard est une part entre 0 et 1"),
    ],
)
def test_a_wrong_publishing_setting_is_refused_in_french(pnad_paths, setting, message):
    configure(pnad_paths, "http://127.0.0.1:9", setting + "\n")
    with pytest.raises(SourceConfigError, match=message):
        load_sources(pnad_paths)


def test_a_new_release_replaces_the_previous_one(server, pnad_paths, tmp_path, capsys):
    configure(pnad_paths, server)
    assert day(pnad_paths, RELEASE_1, "day1") == "downloaded"
    assert published(pnad_paths, "select count(*) from contracts") == [(4,)]
    assert day(pnad_paths, RELEASE_2, "day2") == "downloaded"

    uids = [uid for (uid,) in published(pnad_paths, "select uid from contracts order by uid")]
    assert uids == [f"{BUYER}{c}" for c in "ABCE"]  # D withdrawn upstream is gone
    corrected = published(
        pnad_paths, "select current_amount, social_status from contracts where base_uid like '%A'"
    )
    assert corrected == [(250_000, "yes")]
    # only the release in use is staged: 4 records, not 8
    assert working(pnad_paths, "select count(*) from stg_decp_records") == [(4,)]
    assert figures(pnad_paths) == figures(clean_build(tmp_path, RELEASE_2))

    releases = published(
        pnad_paths,
        "select outcome, records, contracts, added, removed from source_releases "
        "order by received_at",
    )
    assert releases == [("replaced", 4, 4, 4, 0), ("in_use", 4, 4, 1, 1)]
    assert published(
        pnad_paths,
        "select status from ingest_files where source = 'decp_consolidated' order by ingest_seq",
    ) == [("superseded",), ("parsed",)]
    # every record read of the release in use is accounted for
    assert published(pnad_paths, "select bool_and(balanced) from ingest_accounting") == [(True,)]

    status = service_status(pnad_paths)
    (source,) = status["sources"]
    (in_use,) = source["releases"]
    assert (in_use["outcome"], in_use["contracts"], in_use["removed"]) == ("in_use", 4, 1)
    from pipelines.cli.status import print_status

    print_status(status)
    assert "4 contrats ; par rapport à la précédente : 1 ajouté(s), 1 retiré(s)" in (
        capsys.readouterr().out
    )


def test_a_shrunk_or_unreadable_release_is_set_aside_and_the_previous_stays(
    server, pnad_paths, tmp_path, capsys
):
    configure(pnad_paths, server)
    ten = [marche(f"K{n}", BUYER) for n in range(10)]
    day(pnad_paths, release(*ten), "day1")
    five = release(*ten[:5])
    day(pnad_paths, five, "day2")  # half the contracts: below 90 % of the previous release

    assert published(pnad_paths, "select count(*) from contracts") == [(10,)]
    ((status, reason),) = published(
        pnad_paths,
        "select status, status_reason from ingest_files where status = 'quarantined'",
    )
    assert reason.startswith("publication réduite : 5 enregistrements utilisables contre 10")
    assert "la publication reçue le " in reason and "reste en usage" in reason
    assert working(pnad_paths, "select count(*) from stg_decp_records") == [(10,)]

    state = service_status(pnad_paths)
    assert any("mise de côté (publication réduite" in a for a in state["attention"])
    from pipelines.cli.status import print_status

    print_status(state)
    out = capsys.readouterr().out
    assert "      mise de côté : publication reçue le " in out and "10 contrats" in out

    # an unreadable release: set aside too, the first one still in use
    day(pnad_paths, b'{"autre": "chose"}', "day3")
    assert published(pnad_paths, "select count(*) from contracts") == [(10,)]
    assert published(
        pnad_paths,
        "select count(*) from source_releases where outcome = 'quarantined' "
        "and reason like 'illisible (%'",
    ) == [(1,)]

    # the operator says the shrink is real: `pnad retry` takes it, without the guard
    with warehouse.connect(pnad_paths) as con:
        shrunk = con.execute(
            "select file_id from source_releases where reason like 'publication réduite%'"
        ).fetchone()[0]
        assert retry_files(con, pnad_paths, [shrunk]) == 1
    build_and_publish(pnad_paths, "retried")
    assert published(pnad_paths, "select count(*) from contracts") == [(5,)]
    assert figures(pnad_paths) == figures(clean_build(tmp_path, five))
    # the unreadable release came after it: still set aside, and said
    state = service_status(pnad_paths)
    assert [f["reason"][:16] for f in state["files_set_aside"]] == ["JSON sans racine"]
    # a good release answers the ones set aside before it: nothing left to look at
    day(pnad_paths, release(*ten[:6]), "day4")
    assert published(pnad_paths, "select count(*) from contracts") == [(6,)]
    state = service_status(pnad_paths)
    assert state["files_set_aside"] == []
    assert not [a for a in state["attention"] if "mise de côté" in a]
    assert published(
        pnad_paths,
        "select outcome, added, removed from source_releases order by received_at desc limit 1",
    ) == [("in_use", 1, 0)]


def test_old_raw_releases_are_pruned_and_their_checksums_stay_known(server, pnad_paths):
    configure(pnad_paths, server, "keep_releases = 2\n")
    bodies = [release(*(marche(f"R{n}-{i}", BUYER) for i in range(20 + n))) for n in range(4)]
    for n, body in enumerate(bodies):
        day(pnad_paths, body, f"day{n}")
    landed = sorted((pnad_paths.raw / "decp_consolidated").iterdir())
    assert len(landed) == 2  # the release in use and the one before
    assert published(pnad_paths, "select count(*) from contracts") == [(23,)]
    assert working(pnad_paths, "select count(*) from stg_decp_records") == [(23,)]
    pruned = working(
        pnad_paths, "select count(*) from source_releases where raw_pruned_at is not null"
    )
    assert pruned == [(2,)]

    # the first release served again: downloaded, recognised by its checksum, not read again
    assert day(pnad_paths, bodies[0], "again") == "downloaded"
    assert published(pnad_paths, "select count(*) from contracts") == [(23,)]
    assert working(pnad_paths, "select count(*) from stg_decp_records") == [(23,)]
    assert len(list((pnad_paths.raw / "decp_consolidated").iterdir())) == 2
    assert working(pnad_paths, "select count(distinct sha256) from download_manifest") == [(4,)]


def test_an_incremental_source_still_adds_up(server, pnad_paths):
    configure(pnad_paths, server, 'publishes = "incremental"\n')
    day(pnad_paths, release(marche("I1", BUYER), marche("I2", BUYER)), "day1")
    day(pnad_paths, release(marche("I3", BUYER)), "day2")
    assert published(pnad_paths, "select count(*) from contracts") == [(3,)]
    assert working(pnad_paths, "select count(*) from source_releases") == [(0,)]
    assert published(pnad_paths, "select count(*) from ingest_files where status = 'parsed'") == [
        (2,)
    ]


def test_pnad_run_and_status_tell_the_release_in_use(server, tmp_path):
    """As a user runs it: `pnad run` on two days, then `pnad status`."""
    home = tmp_path / "service"
    home.mkdir()
    offline = "".join(  # the reference tables stay the built-in ones (no network in tests)
        f'[reference.{name}]\nkind = "url"\nurl = "{server}/none"\nenabled = false\n\n'
        for name in ("cog_communes", "laposte_postal_codes", "departement_outlines")
    )
    configure(PnadPaths.resolve(home), server, "\n" + offline)
    env = {**os.environ, "PNAD_HOME": str(home), "PNAD_SIRENE_API": f"{server}/sirene"}

    def pnad(*args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).with_name("pnad")), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    serve(RELEASE_1)
    assert pnad("run", "--quiet").returncode == 0
    serve(RELEASE_2)
    done = pnad("run", "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "decp_consolidated : nouvelle publication en usage (4 contrats ; par rapport à la "
        "précédente : 1 ajouté(s), 1 retiré(s))"
    ) in done.stdout
    assert "contrats distincts : 4" in done.stdout
    status = pnad("status")
    assert "      en usage : publication reçue le " in status.stdout
    assert "4 contrats ; par rapport à la précédente : 1 ajouté(s), 1 retiré(s)" in status.stdout
    (source,) = json.loads(pnad("status", "--json").stdout)["sources"]
    assert [(r["outcome"], r["removed"]) for r in source["releases"]] == [("in_use", 1)]


def test_a_real_data_economie_export_republished_with_rows_withdrawn(
    server, pnad_paths, tmp_path, sample_data
):
    """The data.economie.gouv.fr export (a snapshot source) as it comes, then republished
    without its last two rows: their contracts leave, and the figures are release 2's alone."""
    export = (
        sample_data / "decp" / "tabular" / "data.economie_decp_augmente_valides_2022_sample.csv"
    )
    lines = export.read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    second = b"".join([header, *rows[:-2]])
    key_columns = header.decode("utf-8-sig").rstrip("\r\n").split(";")
    buyer, number = key_columns.index("acheteur.id"), key_columns.index("id")

    def contracts(selected: list[bytes]) -> set[str]:
        return {
            "|".join((fields[buyer], fields[number]))
            for fields in (row.decode("utf-8").split(";") for row in selected)
        }

    withdrawn = len(contracts(rows) - contracts(rows[:-2]))
    assert withdrawn >= 1
    # a small export: two rows fewer is below the default 90 %, so the guard is lowered
    configure(pnad_paths, server, "shrink_guard = 0.5\n", suffix=".csv")
    day(pnad_paths, b"".join(lines), "day1")
    day(pnad_paths, second, "day2")
    ((removed, outcome),) = published(
        pnad_paths,
        "select removed, outcome from source_releases order by received_at desc limit 1",
    )
    assert (removed, outcome) == (withdrawn, "in_use")
    clean = PnadPaths.resolve(tmp_path / "clean").ensure()
    (clean.raw / "local").mkdir(parents=True)
    (clean.raw / "local" / "export.csv").write_bytes(second)
    build_and_publish(clean, "clean")
    assert figures(pnad_paths) == figures(clean)


def test_the_raw_files_sensor_wakes_for_files_that_arrive_not_for_releases_pruned(pnad_paths):
    """The refresh prunes old releases: that removal must not start another (empty) refresh the
    next time the daemon looks, while any file that arrives does, even one copied with its old
    modification time (cp -p, rsync -t)."""
    import dagster as dg

    from assets.decp.landing import raw_files_sensor

    def looks(cursor):
        context = dg.build_sensor_context(cursor=cursor)
        return raw_files_sensor(context), context.cursor

    folder = pnad_paths.raw / "decp_consolidated"
    folder.mkdir()
    (folder / "decp-001.json").write_bytes(release(marche("S1")))
    first, cursor = looks(None)
    assert isinstance(first, dg.RunRequest)
    assert isinstance(looks(cursor)[0], dg.SkipReason)
    (folder / "decp-002.json").write_bytes(release(marche("S1"), marche("S2")))
    second, cursor = looks(cursor)
    assert isinstance(second, dg.RunRequest)
    (folder / "decp-001.json").unlink()  # pruned by the refresh
    assert isinstance(looks(cursor)[0], dg.SkipReason)
    old = folder / "decp-000.json"
    old.write_bytes(release(marche("S0")))
    os.utime(old, ns=(1_600_000_000_000_000_000,) * 2)  # an old modification time, kept
    assert isinstance(looks(cursor)[0], dg.RunRequest)
    # a cursor of the earlier release (count:size:newest) makes it look once more
    assert isinstance(looks("2:120:1700000000")[0], dg.RunRequest)
