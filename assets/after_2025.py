"""After 2025: the final balance of the PNAD 2022-2025, the obligations in force since
21 August 2026 (obligation status per contract, compliance, the non-compliant list), the buyers
who stop publishing or publish late, and the current year's projection; and the checks that
they add up. Logic: ``pipelines/indicators/after_2025.py``, ``obligations.py``; SQL:
``sql/indicators/``."""

import dagster as dg

from assets._wiring import WRITER_POOL, table_spec
from assets.resources import PnadDuckDBResource
from pipelines.common import derived
from pipelines.common.sql import run_sql, table_count
from pipelines.indicators.after_2025 import AFTER_2025_TABLES, build_after_2025_table

GROUP = "indicators"
# Working-database tables these are built from, as the assets that write them.
UPSTREAM_ASSETS = {
    "contracts": "contracts",
    "contract_versions": "contract_sources",
    "pnad_shares": "pnad_shares",
    "pnad_shares_monthly": "pnad_shares_monthly",
    "ref_obligation_rules": "ref_obligation_rules",
    "ref_eu_thresholds": "ref_eu_thresholds",
}


def _deps(name: str) -> list[str]:
    return [UPSTREAM_ASSETS.get(table, table) for table in AFTER_2025_TABLES[name]]


@dg.multi_asset(
    name="after_2025",
    specs=[
        table_spec(
            name,
            deps=_deps(name),
            sql=[f"indicators/{name}"],
            logic=build_after_2025_table,
            group=GROUP,
        )
        for name in AFTER_2025_TABLES
    ],
    pool=WRITER_POOL,
)
def after_2025(duckdb: PnadDuckDBResource):
    """Every table of AFTER_2025_TABLES, in order, in one transaction. The projection depends on
    today's date: a daily run projects again; a run with nothing new since keeps them."""
    paths = duckdb.paths()
    with duckdb.get_connection() as con:
        fingerprint = derived.changed(con, paths, "after_2025")
        con.execute("begin transaction")
        try:
            counts = {
                name: build_after_2025_table(con, name, paths=paths)
                if fingerprint
                else table_count(con, name)
                for name in AFTER_2025_TABLES
            }
            if fingerprint:
                derived.mark_done(con, "after_2025", fingerprint)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    for name, rows in counts.items():
        yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": rows})


@dg.asset_check(asset="contract_obligations", blocking=True)
def check_consistency_obligations_add_up(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Every contract in scope has one obligation row in one of the three states, and the
    compliance counts add up (subject + undetermined + not subject = contracts; régions and
    départements = France). Threshold: 0 problems."""
    with duckdb.get_connection() as con:
        problems = run_sql(con, "indicators/checks/obligations_add_up").fetchall()
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(problems)} obligation counts do not add up (threshold: 0)",
        metadata={"problems": len(problems), "first": str(problems[:5])},
    )


@dg.asset_check(asset="pnad_share_projection", blocking=True)
def check_validity_projection_bounds(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Every projected share lies in its 90 % interval, within 0-100 %. Threshold: 0 out of
    bounds."""
    with duckdb.get_connection() as con:
        problems = run_sql(con, "indicators/checks/projection_within_bounds").fetchall()
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(problems)} projections out of their bounds (threshold: 0)",
        metadata={"problems": len(problems), "first": str(problems[:5])},
    )
