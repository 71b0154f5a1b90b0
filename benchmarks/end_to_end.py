"""End-to-end benchmark: raw files -> published database + dashboard + one regional report,
through the CLI (``pnad refresh`` then ``pnad report``) on a fresh data root, beside DuckDB
alone computing the same counts from the same files (the floor) and pandas and polars scripts
(``floor_scripts.py``), run interleaved so that a busy shared host slows them alike.

    uv run python benchmarks/end_to_end.py                       # 100 k contracts, 3 runs
    uv run python benchmarks/end_to_end.py --contracts 1000000 --runs 1
    uv run python benchmarks/end_to_end.py --only full           # without the incremental cases
    uv run python benchmarks/end_to_end.py --only incremental    # those alone, on the last home
    uv run python benchmarks/end_to_end.py --sizes 100000,300000,1000000 --runs 1  # how it grows

After the last full run, ``outputs_floor.py`` writes the same database and files with DuckDB
alone (no logic), timed beside the floor: the least any design that publishes them pays.

Reported per case: the median wall time of each tool, the project's ratio to the floor (the
median of the per-run ratios: each ratio compares two runs made one after the other), the peak
resident memory of the whole process tree (sampled every 50 ms), the input size, and where the
project's time went (per Dagster step, from the run's own records; "before the run" is the time
from the command's start to the run's start: imports, landing, checks). The project's national
counts (contracts in scope, social "yes", environmental "yes" by notification year) must equal
the floor's, else the benchmark fails; per-département counts (place of execution) are compared
and the differences printed. Cases on top of the last full run: one more daily file (a new one
each run) and nothing new. Inputs come from the demo generator (cached under
benchmarks/output/, git-ignored, as bench_ingest.py does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import OUTPUT, cpu_ticks, extra_day, generate, land, settle, size_of  # noqa: E402

HERE = Path(__file__).resolve().parent
PNAD = [sys.executable, "-m", "pipelines.cli.main"]
BASELINES = ("floor", "pandas", "polars")
SAMPLE_SECONDS = 0.05


def child_env(**extra: str) -> dict[str, str]:
    """The children's environment, with bytecode cached as in a user's installation: a shell
    with PYTHONDONTWRITEBYTECODE makes every process compile dagster and pandas from source
    (about 10 s of each CLI start on this machine)."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up() -> None:
    """Write the bytecode of everything the runs import, once, untimed."""
    code = (
        "import contextlib, duckdb, pandas, dagster\n"
        "with contextlib.suppress(ImportError):\n    import polars\n"
        "from pipelines.definitions import defs\ndefs()\n"
        "import pipelines.cli.main, pipelines.publishing.regional_report\n"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(), cwd=HERE.parent, check=True)


def measure(command: list[str], env: dict | None = None) -> dict:
    """Wall seconds, peak RSS of the process tree (MB), stdout, % CPU stolen, of one command."""
    ticks_before = cpu_ticks()
    started = time.perf_counter()
    process = psutil.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or child_env(),
        cwd=HERE.parent,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process))
        time.sleep(SAMPLE_SECONDS)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    ticks_after = cpu_ticks()
    steal = None
    if ticks_before and ticks_after and ticks_after[1] > ticks_before[1]:
        steal = 100 * (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])
    return {"seconds": elapsed, "peak_mb": peak / 2**20, "stdout": stdout, "steal": steal}


def _tree_rss(process: psutil.Process) -> int:
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def baseline(tool: str, inputs: list[Path]) -> dict:
    result = measure([sys.executable, str(HERE / "floor_scripts.py"), tool, *map(str, inputs)])
    result["counts"] = json.loads(result["stdout"].strip().splitlines()[-1])
    return result


def project(home: Path, region: str) -> dict:
    """``pnad refresh`` then ``pnad report --region``, timed together (what a user waits for)."""
    env = child_env(PNAD_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    started = time.time()
    refresh = measure([*PNAD, "refresh", "--quiet"], env)
    report = measure([*PNAD, "report", "--region", region], env)
    return {
        "seconds": refresh["seconds"] + report["seconds"],
        "refresh_seconds": refresh["seconds"],
        "report_seconds": report["seconds"],
        "peak_mb": max(refresh["peak_mb"], report["peak_mb"]),
        "steal": max(s for s in (refresh["steal"], report["steal"], 0) if s is not None),
        "steps": step_times(home, started),
    }


def step_times(home: Path, command_started: float) -> dict:
    """Seconds per Dagster step of the data root's last run, and before the run started, read
    from the run's records in the data root's instance (in a child: dagster stays out of the
    parent)."""
    code = (
        "import json, dagster as dg\n"
        "with dg.DagsterInstance.get() as i:\n"
        "    record = i.get_run_records(limit=1)[0]\n"
        "    steps = {s.step_key: s.end_time - s.start_time for s in "
        "i.get_run_step_stats(record.dagster_run.run_id) if s.end_time and s.start_time}\n"
        "    print(json.dumps({'run_start': record.start_time, 'run_end': record.end_time, "
        "'steps': steps}))\n"
    )
    env = child_env(DAGSTER_HOME=str(home / "dagster"), PNAD_HOME=str(home))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    if data["run_start"] < command_started:  # nothing new: the refresh stopped before Dagster
        return {"no Dagster run (nothing new)": 0.0}
    return {"before the run": data["run_start"] - command_started, **data["steps"]}


def published_counts(home: Path) -> dict:
    """The project's counts as the floor computes them, and per year the contracts of shared-id
    groups (records under one buyer + id told apart as several contracts: the floor, keyed on
    buyer + id, merges them)."""
    import duckdb

    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select grouping(execution_departement_code) as national, notification_year, "
            "execution_departement_code, count(*), count(*) filter (where social_status = 'yes'), "
            "count(*) filter (where environmental_status = 'yes'), "
            "count(*) filter (where shared_id_group) from contracts "
            "where in_pnad_scope group by grouping sets ((notification_year), "
            "(execution_departement_code))"
        ).fetchall()
    counts: dict = {"national": {}, "departements": {}, "shared_id": {}}
    for national, year, departement, *values, shared in rows:
        if national:
            counts["national"][str(year)] = values
            counts["shared_id"][str(year)] = shared
        else:
            counts["departements"][str(departement)] = values
    return counts


def check_counts(floor: dict, home: Path, baselines: dict[str, dict]) -> None:
    """The scripts' national counts must equal the floor's; the project's may differ from them
    only by its shared-id contracts (domain rule: one id, several contracts, counted apart),
    else the benchmark fails. Per-département differences are printed (the project places a
    contract from postal and INSEE codes, the floor from the code's first digits)."""
    mine = published_counts(home)
    for tool, result in baselines.items():
        if result["counts"]["national"] != floor["national"]:
            raise SystemExit(f"{tool} national counts differ from the floor's: {result['counts']}")
    for year, values in floor["national"].items():
        project = mine["national"].get(year, [0, 0, 0])
        shared = mine["shared_id"].get(year, 0)
        gaps = [
            mine_value - floor_value
            for mine_value, floor_value in zip(project, values, strict=True)
        ]
        if gaps[0] < 0 or any(abs(gap) > shared for gap in gaps):
            raise SystemExit(
                f"{year}: project {project}, floor {values}: more than its {shared} shared-id "
                "contracts explain"
            )
        print(
            f"counts {year}: project {project}, floor {values} (difference within the project's "
            f"{shared} shared-id contracts)",
            flush=True,
        )
    differing = [
        code
        for code, values in floor["departements"].items()
        if mine["departements"].get(code) != values
    ]
    print(
        f"départements (place of execution) differing: {len(differing)} of "
        f"{len(floor['departements'])}",
        flush=True,
    )


def fresh_home(name: str, inputs: Path) -> Path:
    home = OUTPUT / "homes" / name
    shutil.rmtree(home, ignore_errors=True)
    land(inputs, home / "raw" / "bench")
    (home / "raw" / "bench" / "_demo_manifest.json").unlink(missing_ok=True)
    return home


def available_baselines() -> list[str]:
    try:
        import polars  # noqa: F401
    except ImportError:
        return ["floor", "pandas"]
    return list(BASELINES)


def full_case(args: argparse.Namespace, inputs: Path, tools: list[str]) -> tuple[dict, Path]:
    """Fresh data root each run; the tools interleaved, the project last (so that it never
    reads files the page cache got from its own previous run only)."""
    runs: dict[str, list[dict]] = {tool: [] for tool in [*tools, "project"]}
    home = OUTPUT / "homes" / "end_to_end"
    for run in range(args.runs):
        for tool in tools:
            settle()
            runs[tool].append(baseline(tool, [inputs]))
        home = fresh_home("end_to_end", inputs)
        settle()
        runs["project"].append(project(home, args.region))
        print(f"run {run + 1}: " + _seconds(runs, run), flush=True)
    check_counts(runs["floor"][-1]["counts"], home, {t: runs[t][-1] for t in tools})
    row = summarise(f"{args.contracts:,} contracts, daily JSON", runs, size_of(inputs))
    row["outputs_floor"] = outputs_floor(home, row["floor"]["median_s"])
    return row, home


def outputs_floor(home: Path, floor_seconds: float) -> dict:
    """Writing the last publication's database and files with DuckDB alone (outputs_floor.py),
    beside the floor: what no design that publishes them can go under."""
    settle()
    scratch = OUTPUT / "outputs_floor"
    result = measure(
        [sys.executable, str(HERE / "outputs_floor.py"), str(home / "pnad.duckdb"), str(scratch)]
    )
    written = json.loads(result["stdout"].strip().splitlines()[-1])
    written["seconds"] = round(result["seconds"], 1)
    written["over_floor"] = round(result["seconds"] / floor_seconds, 1)
    print(
        f"writing the outputs alone (DuckDB, no logic): {written['seconds']} s, "
        f"{written['over_floor']}× the floor (database {written['database_s']} s, "
        f"{written['database_mb']} MB; files {written['files_s']} s, {written['files_mb']} MB)",
        flush=True,
    )
    return written


def extra_case(args: argparse.Namespace, home: Path) -> dict:
    """One more daily file (a new one each run) on top of the last full run, beside the floor
    on that file alone."""
    runs: dict[str, list[dict]] = {"floor": [], "project": []}
    for run in range(1, args.runs + 1):
        extra = extra_day(run)
        land(extra, home / "raw" / f"extra_{run}")
        settle()
        runs["floor"].append(baseline("floor", [extra]))
        settle()
        runs["project"].append(project(home, args.region))
        print(f"extra {run}: " + _seconds(runs, run - 1), flush=True)
    return summarise("one more daily file (1 000 contracts) on top", runs, size_of(extra))


def nothing_new_case(args: argparse.Namespace, home: Path) -> dict:
    runs: dict[str, list[dict]] = {"project": []}
    for run in range(args.runs):
        settle()
        runs["project"].append(project(home, args.region))
        print(f"nothing new {run + 1}: " + _seconds(runs, run), flush=True)
    return summarise("nothing new", runs, "0 MB")


def _seconds(runs: dict[str, list[dict]], run: int) -> str:
    return ", ".join(f"{tool} {results[run]['seconds']:.1f} s" for tool, results in runs.items())


def summarise(case: str, runs: dict[str, list[dict]], size: str) -> dict:
    row: dict = {"case": case, "input": size}
    for tool, results in runs.items():
        row[tool] = {
            "median_s": round(statistics.median(r["seconds"] for r in results), 1),
            "runs_s": [round(r["seconds"], 1) for r in results],
            "peak_mb": round(max(r["peak_mb"] for r in results)),
        }
    projects = runs["project"]
    if "floor" in runs:
        ratios = [p["seconds"] / f["seconds"] for p, f in zip(projects, runs["floor"], strict=True)]
        row["project_over_floor"] = round(statistics.median(ratios), 1)
    row["refresh_s"] = round(statistics.median(p["refresh_seconds"] for p in projects), 1)
    row["report_s"] = round(statistics.median(p["report_seconds"] for p in projects), 1)
    row["steal_pct_max"] = round(max(p["steal"] for p in projects), 1)
    row["steps_s"] = {
        step: round(statistics.median(p["steps"].get(step, 0.0) for p in projects), 2)
        for step in projects[-1]["steps"]
    }
    return row


def print_table(rows: list[dict]) -> None:
    tools = ["project", *BASELINES]
    print("\n| case | input | " + " | ".join(tools) + " | project ÷ floor | peak memory |")
    print("|---|---|" + "---|" * len(tools) + "---|---|")
    for row in rows:
        cells = [f"{row[t]['median_s']} s" if t in row else "" for t in tools]
        print(
            f"| {row['case']} | {row['input']} | " + " | ".join(cells) + " | "
            f"{row.get('project_over_floor', '')} | {row['project']['peak_mb']} MB |"
        )
    for row in rows:
        steps = sorted(row["steps_s"].items(), key=lambda item: -item[1])
        print(
            f"\nwhere the time goes, {row['case']} (median s, refresh {row['refresh_s']} s, "
            f"report {row['report_s']} s):"
        )
        print("  " + ", ".join(f"{step} {seconds}" for step, seconds in steps if seconds >= 0.05))


def print_growth(rows: list[dict], sizes: list[int]) -> None:
    """How cost grows with size: the ratio to the floor must not grow."""
    print("\n| contracts | project | floor | project ÷ floor | project peak memory |")
    print("|---|---|---|---|---|")
    for size, row in zip(sizes, rows, strict=True):
        print(
            f"| {size:,} | {row['project']['median_s']} s | {row['floor']['median_s']} s | "
            f"{row['project_over_floor']} | {row['project']['peak_mb']} MB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--region", default="84", help="the regional report's région")
    parser.add_argument(
        "--only",
        choices=("full", "incremental"),
        help="full: the full refresh only; incremental: one more file and nothing new, on top of "
        "the data root the last full run left (benchmarks/output/homes/end_to_end)",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated sizes (e.g. 100000,300000,1000000): the full case at each, then "
        "how time, memory and the ratio to the floor grow; the other cases on the last size",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else [args.contracts]
    tools = available_baselines()
    warm_up()
    rows = []
    home = OUTPUT / "homes" / "end_to_end"
    for size in sizes if args.only != "incremental" else []:
        args.contracts = size
        row, home = full_case(args, generate("decp2022_json", size), tools)
        rows.append(row)
    if len(rows) > 1:
        print_growth(rows, sizes)
    if args.only != "full":
        rows.append(extra_case(args, home))
        rows.append(nothing_new_case(args, home))
    print_table(rows)
    name = "incremental" if args.only == "incremental" else "_".join(map(str, sizes))
    target = OUTPUT / f"end_to_end_{name}.json"
    target.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    print(f"\n{target}")


if __name__ == "__main__":
    main()
