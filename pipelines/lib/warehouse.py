"""The working DuckDB database: opening it, installing the project's macros, building each layer.

Each ``build_*`` function is what one Dagster asset runs; tests call them directly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
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


def build_reference(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Load the built-in reference tables (territories, vocabularies, national series)."""
    for table, csv_name in REFERENCE_TABLES.items():
        run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    return {table: table_count(con, table) for table in REFERENCE_TABLES}


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
