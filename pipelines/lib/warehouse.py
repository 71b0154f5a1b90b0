"""The working DuckDB database: opening it, installing the project's macros, building each layer.

Each ``build_*`` function is what one Dagster asset runs; tests call them directly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache

import duckdb

from pipelines.lib import sirene
from pipelines.lib.paths import REFERENCE_DIR, SQL_DIR, PnadPaths
from pipelines.lib.sql import run_sql, sql_text, table_count

MACROS = (
    "macros/spelling_key",
    "macros/decp_list",
    "macros/siret_is_valid",
    "macros/siren_departement_code",
    "macros/place_departement_code",
    "macros/tabular_text",
    "macros/tabular_list",
    "macros/buyer_category",
    "macros/legal_category_buyer_category",
    "macros/territory_level",
    "macros/territory_code",
    "macros/french_number",
    "macros/french_date",
    "macros/yes_no",
)


class DatabaseBusyError(RuntimeError):
    """Another process holds the working database (DuckDB has a single writer)."""


@contextmanager
def connect(paths: PnadPaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database with the project's macros and bookkeeping tables in place."""
    paths.ensure()
    try:
        con = duckdb.connect(str(paths.work_db))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseBusyError(
                f"the working database {paths.work_db} is in use by another process "
                "(a pipeline run is probably in progress); try again when it has finished"
            ) from error
        raise
    try:
        con.execute("set enable_progress_bar = false")
        # Bounded memory whatever the input size; DuckDB spills to disk beyond it.
        con.execute(
            "set memory_limit = $limit", {"limit": os.environ.get("PNAD_DUCKDB_MEMORY", "2GB")}
        )
        con.execute("set temp_directory = $dir", {"dir": str(paths.work_db.parent / "spill")})
        for macro in MACROS:
            run_sql(con, macro)
        _migrate(con)
        run_sql(con, "staging/create_ingest_tables")
        run_sql(con, "facilitator/create_facilitator_tables")
        sirene.ensure_cache_table(con)  # contracts.sql reads it, even when empty
        yield con
    finally:
        con.close()


# Tables rebuilt from the raw files when the staging layout changes (a new release): the raw
# files are kept, so re-parsing them loses nothing. download_manifest (history) is kept.
REBUILT_ON_LAYOUT_CHANGE = (
    "stg_decp_records",
    "ingest_rejects",
    "ingest_unknown_keys",
    "ingest_files",
    "build_state",
)


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Reset the derived bookkeeping when the staging layout differs from the one in use."""
    layout = hashlib.sha256(sql_text("staging/create_ingest_tables").encode()).hexdigest()[:16]
    con.execute(
        "create table if not exists warehouse_meta (key varchar primary key, value varchar)"
    )
    row = con.execute("select value from warehouse_meta where key = 'staging_layout'").fetchone()
    if row and row[0] == layout:
        return
    for table in REBUILT_ON_LAYOUT_CHANGE:
        con.execute(f"drop table if exists {table}")  # noqa: S608 - fixed names
    con.execute(
        "insert or replace into warehouse_meta values ('staging_layout', $layout)",
        {"layout": layout},
    )


# Built-in reference tables: SQL file under sql/reference/ -> CSV under pipelines/reference/.
REFERENCE_TABLES = {
    "ref_departements": "departements.csv",
    "ref_regions": "regions.csv",
    "consideration_vocabulary": "consideration_vocabulary.csv",
    "decp_enum_values": "decp_enum_values.csv",
    "decp_record_keys": "decp_record_keys.csv",
    "ref_oecp_series": "oecp_national_series.csv",
    "ref_labour_intensive_cpv": "labour_intensive_cpv.csv",
    "ref_postal_code_exceptions": "postal_code_exceptions.csv",
    "facilitator_vocabulary": "facilitator_vocabulary.csv",
}


def build_reference(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths | None = None
) -> dict[str, int]:
    """Load the reference tables: the built-in ones (territories, vocabularies, national
    series), then the INSEE communes and the La Poste postal codes when they were downloaded
    (reference_downloads) — else the built-in postal-code exceptions stay, and
    reference_status says which was used and why."""
    for table, csv_name in REFERENCE_TABLES.items():
        run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    run_sql(con, "reference/reference_status")
    landed = downloaded_references(con, paths) if paths else {}
    communes = landed.get("cog_communes")
    postal = landed.get("laposte_postal_codes")
    _use_reference(
        con,
        "ref_communes",
        "reference/ref_communes",
        communes,
        "reference/ref_communes_empty",
        "commune table not downloaded: territories use the built-in départements",
    )
    _use_reference(
        con,
        "ref_postal_code_exceptions",
        "reference/ref_postal_code_exceptions_laposte",
        postal,
        None,
        "La Poste table not downloaded: built-in exceptions (La Poste 2023-12 x "
        "INSEE COG 2025) used",
    )
    _record_outlines(con, paths)
    return {table: table_count(con, table) for table in (*REFERENCE_TABLES, "ref_communes")}


def _record_outlines(con: duckdb.DuckDBPyConnection, paths: PnadPaths | None) -> None:
    """The dashboard's map: real outlines when a file is installed, else the tile grid."""
    target = paths.home / "ref" / "departements.geojson" if paths else None
    if target is not None and target.is_file():
        con.execute(
            "insert into reference_status values ('departement_outlines', 'downloaded', "
            "'ref/departements.geojson', $sha, $at, null, null)",
            {
                "sha": hashlib.sha256(target.read_bytes()).hexdigest(),
                "at": datetime.fromtimestamp(target.stat().st_mtime),
            },
        )
        return
    con.execute(
        "insert into reference_status values ('departement_outlines', 'built-in', null, null, "
        "null, null, 'département outlines not downloaded: the dashboard draws a tile grid')"
    )


def downloaded_references(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> dict[str, dict]:
    """The latest landed file of each reference source that is still on disk."""
    rows = con.execute(
        "select source, relative_path, sha256, fetched_at from download_manifest "
        "where relative_path like 'ref/%' and outcome in ('downloaded', 'unchanged') "
        "qualify row_number() over (partition by source order by fetched_at desc) = 1"
    ).fetchall()
    return {
        source: {"path": paths.home / relative, "file": relative, "sha256": sha, "at": at}
        for source, relative, sha, at in rows
        if (paths.home / relative).is_file()
    }


def _use_reference(
    con: duckdb.DuckDBPyConnection,
    table: str,
    sql_name: str,
    landed: dict | None,
    fallback_sql: str | None,
    fallback_note: str,
) -> None:
    """Build ``table`` from the downloaded file; on a missing or unreadable file keep (or
    build) the built-in one; record which in reference_status."""
    problem = fallback_note
    if landed:
        try:
            run_sql(con, sql_name, {"path": str(landed["path"])})
            rows = table_count(con, table)
            if rows:
                con.execute(
                    "insert into reference_status values ($table, 'downloaded', $file, $sha, "
                    "$at, $rows, null)",
                    {
                        "table": table,
                        "file": landed["file"],
                        "sha": landed["sha256"],
                        "at": landed["at"],
                        "rows": rows,
                    },
                )
                return
            problem = f"downloaded file {landed['file']} gave no row: built-in table used"
        except duckdb.Error as error:
            problem = (
                f"downloaded file {landed['file']} unreadable "
                f"({str(error).splitlines()[0][:160]}): built-in table used"
            )
        csv_name = REFERENCE_TABLES.get(table)
        if csv_name:  # put the built-in table back
            run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    if fallback_sql:
        run_sql(con, fallback_sql)
    con.execute(
        "insert into reference_status values ($table, 'built-in', null, null, null, $rows, $note)",
        {"table": table, "rows": table_count(con, table), "note": problem},
    )


@cache
def logic_version() -> str:
    """A digest of the SQL and reference files: a new release rebuilds the derived tables."""
    digest = hashlib.sha256()
    for path in sorted(SQL_DIR.rglob("*.sql")) + sorted(REFERENCE_DIR.glob("*.csv")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the derived tables are built from: the logic version, the files read (with their
    status) and the SIRENE answers."""
    # every file and its status: a quarantined file changes what is published (ingest_files)
    files, content = con.execute(
        "select count(*), coalesce(md5(string_agg(file_id || status, ',' order by file_id)), '') "
        "from ingest_files"
    ).fetchone()
    # buyers located by SIRENE since the last build change the territories
    located = con.execute("select count(*) from sirene_cache").fetchone()[0]
    return f"{logic_version()}:{files}:{content}:{located}"


def facilitator_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The facilitators' exports loaded and their status (a new or replaced export changes the
    published hours and the facilitator confirmation of contracts)."""
    return con.execute(
        "select count(*) || ':' || coalesce(md5(string_agg(file_id || status, ',' "
        "order by file_id)), '') from facilitator_files"
    ).fetchone()[0]


def is_built_from(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> bool:
    row = con.execute(
        "select fingerprint from build_state where step = $step", {"step": step}
    ).fetchone()
    return row is not None and row[0] == fingerprint


def _mark_built(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> None:
    con.execute(
        "insert or replace into build_state values ($step, $fingerprint, now())",
        {"step": step, "fingerprint": fingerprint},
    )


def build_contracts(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> dict[str, int]:
    """Deduplicate the staged records into contracts and account for every record read.

    Skipped (``rebuilt`` = 0) when nothing was parsed since the last build: a no-op run is fast.
    """
    fingerprint = inputs_fingerprint(con)
    if not force and is_built_from(con, "contracts", fingerprint):
        counts = {
            t: table_count(con, t)
            for t in ("contract_versions", "contract_modifications", "contracts")
        }
        return {**counts, "rebuilt": 0}
    con.execute("begin transaction")
    try:
        for name in (
            "core/contract_versions",
            "core/contract_modifications",
            "core/contracts",
            "core/ingest_accounting",
            "core/schema_drift",
        ):
            run_sql(con, name)
        _mark_built(con, "contracts", fingerprint)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    counts = {
        t: table_count(con, t) for t in ("contract_versions", "contract_modifications", "contracts")
    }
    return {**counts, "rebuilt": 1}


def build_shares(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> int:
    """Compute the PNAD shares table from contracts (skipped when contracts did not change, but
    always recomputed in a new year: is_provisional depends on today's date)."""
    fingerprint = f"{inputs_fingerprint(con)}:{date.today().year}"
    if force or not is_built_from(con, "shares", fingerprint):
        con.execute("begin transaction")
        try:
            run_sql(con, "indicators/pnad_shares")
            _mark_built(con, "shares", fingerprint)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return table_count(con, "pnad_shares")


def buyers_to_locate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Buyer SIRETs neither the SIREN prefix nor the SIRENE cache place yet, largest first."""
    return [row[0] for row in run_sql(con, "core/buyers_to_locate").fetchall()]


# Indicator tables rebuilt whole from contracts, each by sql/indicators/<name>.sql creating the
# table of the same name: pnad_shares_monthly, pnad_breakdowns, buyer_shares, opportunities.
def build_indicator(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> int:
    """Run sql/indicators/<name>.sql; returns the row count of the table it creates."""
    run_sql(con, f"indicators/{name}", params)
    return table_count(con, name)
