"""Ingestion benchmark: wall time (median of several runs) and peak memory of the pipeline's
ingestion steps on demo inputs, beside the time DuckDB alone takes to scan the same files.

    uv run python benchmarks/bench_ingest.py                 # the targets of the ingestion issue
    uv run python benchmarks/bench_ingest.py --contracts 100000 --parquet-rows 300000 --runs 3
    uv run python benchmarks/bench_ingest.py --only json     # the daily JSON cases only
    uv run python benchmarks/bench_ingest.py --only large    # one JSON document of about 1 GB

Each measured run is a fresh process on a fresh data root (peak memory is that process's maximum
resident set size). On a virtual machine, the host can take CPU time from it ("steal"): each case
reports the largest share of CPU time stolen during one of its runs, so that a slow figure can be
told from a busy host (Linux /proc/stat; left out elsewhere). Inputs are generated once with the
demo generator and cached under benchmarks/output/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pipelines.decp.contracts import build_contracts
from pipelines.reference.tables import build_reference

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output"

# Pause between runs, once the disk is synced (settle())
SETTLE_SECONDS = 5
# One measured run, in a child process: python bench_ingest.py --child STEP HOME INPUT
CHILD_STEPS = ("ingest", "scan_json", "scan_parquet", "noop", "extra")


def child(step: str, home: Path, source: Path) -> None:
    try:
        _child(step, home, source)
    finally:
        # the child's own peak resident set, read by the parent from the last line
        print(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def _child(step: str, home: Path, source: Path) -> None:
    sys.path.insert(0, str(HERE.parent))
    import duckdb

    from pipelines.common import warehouse
    from pipelines.common.paths import PnadPaths
    from pipelines.decp import landing, parsing

    paths = PnadPaths.resolve(home).ensure()
    if step == "scan_json":
        # The floor: DuckDB reading every record of the same files, nothing else.
        files = sorted(str(p) for p in source.glob("*.json") if not p.name.startswith("_"))
        con = duckdb.connect()
        con.execute(
            "select count(*) from (select unnest(json_extract(marches, '$.marche[*]')) "
            "from read_json($files, columns = {marches: 'JSON'}, format = 'auto', "
            "maximum_object_size = 268435456))",
            {"files": files},
        ).fetchone()
        return
    if step == "scan_parquet":
        duckdb.connect().execute(
            "select count(*), count(distinct uid) from read_parquet($f)", {"f": str(source)}
        ).fetchone()
        return
    if step in ("ingest", "noop", "extra"):
        with warehouse.connect(paths) as con:
            build_reference(con)
            landing.register_raw_files(con, paths)
            parsing.parse_pending_files(con, paths)
            counts = build_contracts(con)
        print(json.dumps(counts))


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, total) CPU ticks of the machine since boot, from /proc/stat; None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(value) for value in fields[:8]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def measure(step: str, home: Path, source: Path) -> tuple[float, float, str, float | None]:
    """(wall seconds, the child's own peak RSS in MB, its output, % of CPU time stolen by the
    host meanwhile) of one child run."""
    ticks_before = cpu_ticks()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", step, str(home), str(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    ticks_after = cpu_ticks()
    steal = None
    if ticks_before and ticks_after and ticks_after[1] > ticks_before[1]:
        steal = 100 * (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])
    *output, peak_line = result.stdout.strip().splitlines()
    return elapsed, int(peak_line.split("=")[1]) / 1024, "\n".join(output), steal


def generate(shape: str, size: int, seed: int = 42) -> Path:
    sys.path.insert(0, str(HERE.parent))
    from pipelines.demo.generator import generate_demo

    target = OUTPUT / "inputs" / (f"{shape}_{size}" if seed == 42 else f"{shape}_{size}_seed{seed}")
    if not (target / "_demo_manifest.json").exists():
        print(f"generating {size} contracts as {shape} in {target} ...", flush=True)
        generate_demo(target, size=size, seed=seed, shape=shape)
    return target


def extra_day(run: int) -> Path:
    """A folder holding one daily 2022-format file of 1 000 contracts, different for each run: the
    demo generator spreads contracts over many days, so its files are merged into one."""
    target = OUTPUT / "inputs" / f"extra_day_{run}"
    merged_file = target / f"decp-2022_extra-day-{run}.json"
    if not merged_file.exists():
        source = generate("decp2022_json", 1_000, seed=100 + run)
        merged: dict[str, list] = {"marche": [], "contrat-concession": []}
        for file in sorted(source.glob("decp-2022_*.json")):
            lists = json.loads(file.read_text(encoding="utf-8"))["marches"]
            for kind, records in merged.items():
                records.extend(lists.get(kind, []))
        target.mkdir(parents=True, exist_ok=True)
        partial = merged_file.with_name(f".{merged_file.name}.partial")
        partial.write_text(json.dumps({"marches": merged}, ensure_ascii=False), encoding="utf-8")
        partial.replace(merged_file)
    return target


def size_of(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
    return f"{total / 1e6:,.0f} MB"


def land(source: Path, target: Path) -> None:
    """Hard-link the input files under raw/ (no copy, and the pipeline sees ordinary files)."""
    target.mkdir(parents=True, exist_ok=True)
    for file in sorted(source.iterdir()):
        if file.is_file():
            os.link(file, target / file.name)


def fresh_home(name: str, landed: Path | None = None) -> Path:
    home = OUTPUT / "homes" / name
    shutil.rmtree(home, ignore_errors=True)
    (home / "raw").mkdir(parents=True)
    if landed is not None:
        land(landed, home / "raw" / "bench")
    return home


def settle() -> None:
    """Let the previous run's deleted files and dirty pages reach the disk before the next run is
    timed, so that no run pays for its predecessor's write-back."""
    os.sync()
    time.sleep(SETTLE_SECONDS)


def median_case(label: str, runs: int, prepare, step: str, source: Path) -> dict:
    times, peaks, steals, out = [], [], [], ""
    for _ in range(runs):
        home = prepare()
        settle()
        elapsed, peak, out, steal = measure(step, home, source)
        times.append(elapsed)
        peaks.append(peak)
        if steal is not None:
            steals.append(steal)
    row = {
        "case": label,
        "median_s": round(statistics.median(times), 1),
        "runs_s": [round(t, 1) for t in times],
        "peak_mb_max": round(max(peaks)),
        "host_steal_pct_max": round(max(steals), 1) if steals else None,
        "result": out,
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument(
        "--parquet-rows",
        type=int,
        default=3_000_000,
        help="approximate rows of the decp-processing-style parquet",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=("json", "parquet", "large"),
        help="run only the daily JSON cases, the parquet ones, or the single large JSON document",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("STEP", "HOME", "INPUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return

    rows = []
    if args.only in (None, "json"):
        rows += json_cases(args)
    if args.only in (None, "parquet"):
        rows += parquet_cases(args)
    if args.only in (None, "large"):
        rows += large_document_cases(args)
    (OUTPUT / "last_run.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False))


def json_cases(args: argparse.Namespace) -> list[dict]:
    daily = generate("decp2022_json", args.contracts)
    print(f"daily JSON: {len(list(daily.glob('*.json')))} files, {size_of(daily)}", flush=True)
    rows = []
    rows.append(
        median_case(
            "DuckDB bare scan of the daily JSON files",
            args.runs,
            lambda: fresh_home("scan"),
            "scan_json",
            daily,
        )
    )
    rows.append(
        median_case(
            f"{args.contracts:,} contracts, daily 2022 JSON -> contracts",
            args.runs,
            lambda: fresh_home("daily", daily),
            "ingest",
            daily,
        )
    )
    # no-op: the same data root again, nothing new
    home = OUTPUT / "homes" / "daily"
    rows.append(median_case("no-op re-run (nothing new)", args.runs, lambda: home, "noop", daily))

    # one more day: each run lands a new daily file (its own seed), so each run parses it and
    # rebuilds the contracts (landing the same file again would find the inputs unchanged)
    extra_runs = iter(range(1, args.runs + 1))

    def with_extra() -> Path:
        run = next(extra_runs)
        land(extra_day(run), home / "raw" / f"extra_{run}")
        return home

    rows.append(
        median_case(
            "one more daily file (1 000 contracts) on top",
            args.runs,
            with_extra,
            "extra",
            extra_day(1),
        )
    )
    return rows


def parquet_cases(args: argparse.Namespace) -> list[dict]:
    # the parquet has about 1.5 rows per contract (holders x modifications)
    parquet_dir = generate("decp_processing_parquet", max(100, int(args.parquet_rows / 1.5)))
    parquet = parquet_dir / "decp.parquet"
    print(f"parquet: {size_of(parquet)}", flush=True)
    rows = []
    rows.append(
        median_case(
            "DuckDB bare scan of the parquet",
            args.runs,
            lambda: fresh_home("scan"),
            "scan_parquet",
            parquet,
        )
    )
    rows.append(
        median_case(
            "decp-processing parquet -> contracts",
            args.runs,
            lambda: fresh_home("parquet", parquet_dir),
            "ingest",
            parquet,
        )
    )
    return rows


def one_document(daily: Path) -> Path:
    """The records of all the daily files as one 2022-format JSON document (about 1 GB at 1 M
    contracts), written record by record: what a consolidated yearly file looks like."""
    target = OUTPUT / "inputs" / f"one_document_{daily.name}"
    document = target / "decp-2022_consolide.json"
    if document.exists():
        return target
    print(f"writing {document} ...", flush=True)
    target.mkdir(parents=True, exist_ok=True)
    partial = document.with_name(f".{document.name}.partial")
    files = sorted(daily.glob("decp-2022_*.json"))
    with partial.open("w", encoding="utf-8") as out:
        out.write('{"marches": {')
        for number, kind in enumerate(("marche", "contrat-concession")):
            out.write(f'{", " if number else ""}"{kind}": [')
            first = True
            for file in files:
                for record in json.loads(file.read_text(encoding="utf-8"))["marches"].get(kind, []):
                    out.write(("" if first else ",\n") + json.dumps(record, ensure_ascii=False))
                    first = False
            out.write("]")
        out.write("}}")
    partial.replace(document)
    return target


def large_document_cases(args: argparse.Namespace) -> list[dict]:
    """A single JSON document of about 1 GB: read in parts, its memory must not follow its size.
    (No DuckDB floor here: DuckDB alone reads a document whole, the very thing avoided.)"""
    document_dir = one_document(generate("decp2022_json", args.contracts))
    print(f"one JSON document: {size_of(document_dir)}", flush=True)
    return [
        median_case(
            f"one JSON document ({size_of(document_dir)}) -> contracts",
            args.runs,
            lambda: fresh_home("one_document", document_dir),
            "ingest",
            document_dir,
        )
    ]


if __name__ == "__main__":
    main()
