"""The facilitators' side of the indicators: followed marchés linked to the DECP contracts, the
two gaps, and the insertion hours by year worked and territory. SQL: ``sql/facilitators/``."""

from __future__ import annotations

import os

import duckdb

from pipelines.common.sql import run_sql


def min_participants() -> int:
    """Below this many people, a figure is about individuals: reports do not show it."""
    return int(os.environ.get("PNAD_MIN_PARTICIPANTS", "5"))


def build_facilitator_links(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Followed marchés, their link to DECP contracts, the facilitator confirmation on
    contracts, and the two gap lists (one transaction)."""
    con.execute("begin transaction")
    try:
        for name in (
            "facilitator_followed_marches",
            "facilitator_decp_links",
            "apply_facilitator_confirmations",
            "facilitator_gaps",
        ):
            run_sql(con, f"facilitators/{name}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
        for table in (
            "facilitator_followed_marches",
            "facilitator_decp_links",
            "facilitator_gap_underdeclared",
            "facilitator_gap_unfollowed",
        )
    }


def build_facilitator_hours(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The hours indicators by year and territory, and their breakdowns."""
    params = {"min_participants": min_participants()}
    counts = {}
    for name in ("facilitator_hours", "facilitator_hours_breakdowns"):
        run_sql(con, f"facilitators/{name}", params)
        counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]  # noqa: S608
    return counts
