"""What writing the project's outputs costs with no logic at all: DuckDB alone, in one process,
copies the tables of a published database into a new database file, then writes each of its
views as Parquet and CSV (``;``, header) and the contracts once per région and once per
département (partitioned COPY). Nothing is computed, checked, fingerprinted or linked: this is
the least any tool pays to hand readers the same database and files.

The end-to-end benchmark runs it after the last full refresh, on the project's own publication,
and prints it beside the floor: when writing the outputs alone is already more than 3× the
floor, no design that publishes them can be within 3×.

    python benchmarks/outputs_floor.py PUBLISHED.duckdb SCRATCH_FOLDER

Prints one JSON line: {"database_s", "files_s", "database_mb", "files_mb"}.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import duckdb


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1e6, 1)


def main(published: Path, scratch: Path) -> dict:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    database, files = scratch / "copy.duckdb", scratch / "files"
    files.mkdir()
    with duckdb.connect() as con:
        con.execute(f"attach '{published}' as published (read_only)")
        con.execute("use published")
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'published' and schema_name = 'store'"
            ).fetchall()
        ]
        views = [
            row[0]
            for row in con.execute(
                "select view_name from duckdb_views() where schema_name = 'main' and not internal"
            ).fetchall()
        ]
        started = time.perf_counter()
        con.execute(f"attach '{database}' as copy")
        con.execute("create schema copy.store")
        for table in tables:
            con.execute(f'create table copy.store."{table}" as from store."{table}"')
        con.execute("detach copy")
        database_s = time.perf_counter() - started
        started = time.perf_counter()
        for view in views:
            con.execute(f"copy (from \"{view}\") to '{files / view}.parquet' (format parquet)")
            con.execute(
                f"copy (from \"{view}\") to '{files / view}.csv' "
                "(format csv, delimiter ';', header true)"
            )
        for level in ("region", "departement"):
            con.execute(
                f"copy (from contracts) to '{files / level}' (format csv, delimiter ';', "
                f"header true, partition_by (buyer_{level}_code), write_partition_columns true)"
            )
        files_s = time.perf_counter() - started
    return {
        "database_s": round(database_s, 2),
        "files_s": round(files_s, 2),
        "database_mb": size_mb(database),
        "files_mb": size_mb(files),
    }


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), Path(sys.argv[2]))
    shutil.rmtree(Path(sys.argv[2]), ignore_errors=True)
    print(json.dumps(result))
