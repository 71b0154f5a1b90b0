"""Soak benchmark: N consecutive days of service on demo releases, as the daily run does them.

    uv run python benchmarks/soak.py --days 10 --contracts 20000
    uv run python benchmarks/soak.py --days 60 --contracts 100000 --daily-contracts 20000
    uv run python benchmarks/soak.py --days 5 --contracts 5000 --check   # + a clean build a day

Each day: a snapshot source's whole consolidation of the day (contracts added, corrected and
withdrawn from day to day, pipelines/demo/daily_releases.py) replaces yesterday's in its folder,
an incremental source gets the day's daily files, both are fetched (as `pnad run` does, without
SIRENE) and the `pnad_refresh` job runs through Dagster (build, dashboard, publication). Printed
per day: the wall time of the day, the records staged (they must stay those of one snapshot
release plus the incremental files), the contracts published and removed by the source, the disk
under raw/, work/ and the publications; at the end, the mean time of the first and last days
(flat when the snapshot costs one parse, not a growing rebuild). `--check` also builds the
day's inputs from scratch in another data root and compares the published shares. Inputs and
data roots are under benchmarks/output/soak/ (git-ignored), removed first.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output" / "soak"
sys.path.insert(0, str(HERE.parent))

from pipelines.common import warehouse  # noqa: E402 - after the project is on the path
from pipelines.common.paths import PnadPaths  # noqa: E402
from pipelines.decp.sources import fetch_sources, load_sources  # noqa: E402
from pipelines.demo.daily_releases import DailyReleases, prepare_daily_releases  # noqa: E402

SOURCES = """[sources.soak_snapshot]
kind = "local_folder"
path = "{inputs}/snapshot"
publishes = "snapshot"
keep_releases = {keep}

[sources.soak_daily]
kind = "local_folder"
path = "{inputs}/daily"
publishes = "incremental"
"""


def disk_bytes(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def one_day(paths: PnadPaths, releases: DailyReleases, inputs: Path, day: int) -> dict:
    """Land the day's releases, fetch and refresh; what the day cost and left."""
    from pipelines.cli.common import run_refresh

    started = time.perf_counter()
    shutil.rmtree(inputs / "snapshot", ignore_errors=True)
    rows = releases.write_snapshot(day, inputs / "snapshot" / f"decp-{day:03d}.parquet")
    for file in releases.daily_files[day]:
        shutil.copy(file, inputs / "daily" / file.name)
    sources = [s for s in load_sources(paths) if s.name.startswith("soak_")]
    with warehouse.connect(paths) as con:
        fetch_sources(con, paths, sources, log=lambda _: None)
    run_refresh(paths, quiet=True, allow_shrink=True)
    seconds = time.perf_counter() - started
    with warehouse.connect(paths) as con:
        staged, contracts, removed = con.execute(
            "select (select count(*) from stg_decp_records), (select count(*) from contracts), "
            "(select coalesce(sum(removed), 0) from source_releases where decided_at >= "
            "(select max(registered_at) from ingest_files))"
        ).fetchone()
    return {
        "day": day,
        "seconds": round(seconds, 1),
        "snapshot_rows": rows,
        "staged_records": staged,
        "contracts": contracts,
        "removed": removed,
        "raw_mb": round(disk_bytes(paths.raw) / 1e6, 1),
        "work_mb": round(disk_bytes(paths.work_db.parent) / 1e6, 1),
        "publications_mb": round(disk_bytes(paths.home / "publications") / 1e6, 1),
    }


def clean_shares(releases_dir: Path, inputs: Path, day: int, release: Path) -> list[tuple]:
    """The shares of a from-scratch build on the day's inputs, in another data root."""
    import duckdb

    from pipelines.cli.common import run_refresh

    clean = PnadPaths.resolve(releases_dir / "clean").ensure()
    shutil.rmtree(clean.home)
    clean.ensure()
    shutil.copytree(inputs / "daily", clean.raw / "local" / "daily")
    shutil.copy(release, clean.raw / "local" / release.name)
    run_refresh(clean, quiet=True)
    with duckdb.connect(str(clean.published_db), read_only=True) as con:
        return con.execute("select * from pnad_shares order by all").fetchall()


def published_shares(paths: PnadPaths) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        return con.execute("select * from pnad_shares order by all").fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--contracts", type=int, default=20_000, help="in the consolidation")
    parser.add_argument("--daily-contracts", type=int, default=None, help="default: a fifth")
    parser.add_argument("--keep-releases", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="compare with a clean build a day")
    args = parser.parse_args()
    shutil.rmtree(OUTPUT, ignore_errors=True)
    inputs = OUTPUT / "inputs"
    (inputs / "daily").mkdir(parents=True)
    started = time.perf_counter()
    releases = prepare_daily_releases(
        OUTPUT / "demo", args.days, args.contracts, args.daily_contracts or args.contracts // 5
    )
    print(f"inputs generated in {time.perf_counter() - started:.0f} s", flush=True)
    paths = PnadPaths.resolve(OUTPUT / "home").ensure()
    (paths.home / "sources.toml").write_text(
        SOURCES.format(inputs=inputs.as_posix(), keep=args.keep_releases), encoding="utf-8"
    )
    days = []
    for day in range(args.days):
        figures = one_day(paths, releases, inputs, day)
        if args.check:
            release = inputs / "snapshot" / f"decp-{day:03d}.parquet"
            clean = clean_shares(OUTPUT, inputs, day, release)
            figures["equal_to_clean_build"] = clean == published_shares(paths)
        days.append(figures)
        print(json.dumps(figures), flush=True)
    first, last = days[: min(3, len(days))], days[-min(3, len(days)) :]
    print(
        f"mean seconds per day: first {statistics.mean(d['seconds'] for d in first):.1f}, "
        f"last {statistics.mean(d['seconds'] for d in last):.1f}; "
        f"raw {days[-1]['raw_mb']} MB, work {days[-1]['work_mb']} MB, "
        f"publications {days[-1]['publications_mb']} MB after {args.days} days"
    )
    if args.check and not all(d["equal_to_clean_build"] for d in days):
        print("published shares differ from a clean build on some day", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
