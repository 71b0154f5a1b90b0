"""The PNAD indicators built from the contracts: each ``sql/indicators/<name>.sql`` creates the
table of its name (pnad_shares, pnad_shares_monthly, pnad_breakdowns, buyer_shares,
opportunities)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.common import derived
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import run_sql, table_count
from pipelines.common.warehouse import inputs_fingerprint, is_built_from, mark_built


def build_shares(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> int:
    """Compute the PNAD shares table from contracts (skipped when contracts did not change, but
    always recomputed in a new year: is_provisional depends on today's date)."""
    fingerprint = f"{inputs_fingerprint(con)}:{date.today().year}"
    if force or not is_built_from(con, "shares", fingerprint):
        con.execute("begin transaction")
        try:
            run_sql(con, "indicators/pnad_shares")
            mark_built(con, "shares", fingerprint)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return table_count(con, "pnad_shares")


# Indicator tables rebuilt whole from contracts, each by sql/indicators/<name>.sql creating the
# table of the same name: pnad_shares_monthly, pnad_breakdowns, buyer_shares, opportunities.
def build_indicator(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> int:
    """Run sql/indicators/<name>.sql; returns the row count of the table it creates."""
    run_sql(con, f"indicators/{name}", params)
    return table_count(con, name)


def build_indicator_if_changed(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, name: str, params: dict | None = None
) -> int:
    """``build_indicator``, skipped when nothing it is built from changed since it last was
    (``pipelines/common/derived.py``): a refresh with nothing new keeps the table."""
    fingerprint = derived.changed(con, paths, name, sorted((params or {}).items()))
    if fingerprint is None:
        return table_count(con, name)
    rows = build_indicator(con, name, params)
    derived.mark_done(con, name, fingerprint)
    return rows
