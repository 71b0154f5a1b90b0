"""The working DuckDB database: opening it, installing the project's macros, building each layer.

Each ``build_*`` function is what one Dagster asset runs; tests call them directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from pipelines.lib.paths import REFERENCE_DIR, PnadPaths
from pipelines.lib.sql import run_sql, table_count

MACROS = (
    "macros/spelling_key",
    "macros/decp_list",
    "macros/siret_is_valid",
    "macros/siren_departement_code",
    "macros/place_departement_code",
    "macros/tabular_text",
    "macros/tabular_list",
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
        for macro in MACROS:
            run_sql(con, macro)
        run_sql(con, "staging/create_ingest_tables")
        yield con
    finally:
        con.close()


def build_reference(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Load the built-in reference tables (territories, consideration vocabulary)."""
    run_sql(con, "reference/ref_departements", {"path": str(REFERENCE_DIR / "departements.csv")})
    run_sql(con, "reference/ref_regions", {"path": str(REFERENCE_DIR / "regions.csv")})
    run_sql(
        con,
        "reference/consideration_vocabulary",
        {"path": str(REFERENCE_DIR / "consideration_vocabulary.csv")},
    )
    run_sql(
        con, "reference/decp_enum_values", {"path": str(REFERENCE_DIR / "decp_enum_values.csv")}
    )
    run_sql(
        con, "reference/decp_record_keys", {"path": str(REFERENCE_DIR / "decp_record_keys.csv")}
    )
    return {
        t: table_count(con, t)
        for t in (
            "ref_departements",
            "ref_regions",
            "consideration_vocabulary",
            "decp_enum_values",
            "decp_record_keys",
        )
    }


def build_contracts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Deduplicate the staged records into contracts and account for every record read."""
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
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {
        t: table_count(con, t) for t in ("contract_versions", "contract_modifications", "contracts")
    }


def build_shares(con: duckdb.DuckDBPyConnection) -> int:
    """Compute the PNAD shares table from contracts; returns its row count."""
    run_sql(con, "indicators/pnad_shares")
    return table_count(con, "pnad_shares")
