"""A short simulated service: consecutive daily releases of a snapshot source (a whole
consolidation, contracts added, corrected and withdrawn from day to day) beside an incremental
source (daily files), each day fetched, built and published as the daily run does. After every
day the published shares equal a clean build on that day's inputs, and the staged records and
raw files of the snapshot source stay those of one release (two raw files kept).
benchmarks/soak.py runs the same for as many days and contracts as wanted."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.decp.sources import fetch_sources, load_sources
from pipelines.demo.daily_releases import prepare_daily_releases
from tests.conftest import build_and_publish

DAYS = 5  # the benchmark (benchmarks/soak.py) replays longer


def soak_sources(home: Path, inputs: Path) -> None:
    (home / "sources.toml").write_text(
        f'[sources.soak_snapshot]\nkind = "local_folder"\npath = "{inputs / "snapshot"}"\n'
        'publishes = "snapshot"\nkeep_releases = 2\n\n'
        f'[sources.soak_daily]\nkind = "local_folder"\npath = "{inputs / "daily"}"\n'
        'publishes = "incremental"\n',
        encoding="utf-8",
    )


def shares(database: Path) -> list[tuple]:
    """What `pnad shares --json` prints, every scope, level and year."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select * from pnad_shares order by all").fetchall()


def test_daily_releases_stay_equal_to_a_clean_build_and_bounded(pnad_paths, tmp_path):
    inputs = tmp_path / "inputs"
    releases = prepare_daily_releases(tmp_path / "demo", DAYS, 2_000, 600)
    soak_sources(pnad_paths.home, inputs)
    sources = [s for s in load_sources(pnad_paths) if s.name.startswith("soak_")]
    (inputs / "daily").mkdir(parents=True)
    removed = []
    for day in range(DAYS):
        # the folder holds today's consolidation only; the daily files add up
        shutil.rmtree(inputs / "snapshot", ignore_errors=True)
        release = inputs / "snapshot" / f"decp-{day:03d}.parquet"
        releases.write_snapshot(day, release)
        for file in releases.daily_files[day]:
            shutil.copy(file, inputs / "daily" / file.name)
        with warehouse.connect(pnad_paths) as con:
            fetch_sources(con, pnad_paths, sources, log=lambda _: None)
        build_and_publish(pnad_paths, f"day{day}")

        clean = PnadPaths.resolve(tmp_path / f"clean{day}").ensure()
        (clean.raw / "local").mkdir()
        shutil.copytree(inputs / "daily", clean.raw / "local" / "daily")
        shutil.copy(release, clean.raw / "local" / release.name)
        build_and_publish(clean, "clean")
        assert shares(pnad_paths.published_db) == shares(clean.published_db), f"day {day}"

        with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
            staged_releases, outcome, day_removed = con.execute(
                "select (select count(distinct file_id) from stg_decp_records "
                "where file_id in (select file_id from ingest_files "
                "where source = 'soak_snapshot')), outcome, removed from source_releases "
                "order by received_at desc limit 1"
            ).fetchone()
        assert (staged_releases, outcome) == (1, "in_use"), f"day {day}"
        assert len(list((pnad_paths.raw / "soak_snapshot").iterdir())) <= 2
        removed.append(day_removed)
        shutil.rmtree(clean.home)
    assert sum(removed) > 0  # contracts were withdrawn along the way, and left
