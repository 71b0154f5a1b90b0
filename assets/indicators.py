"""Indicators layer: the PNAD shares by year and territory (sql/indicators/pnad_shares.sql)."""

import dagster as dg

from assets.common import WRITER_POOL, preview
from assets.core import contracts
from pipelines.lib import warehouse
from pipelines.lib.sql import run_sql
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="indicators", deps=[contracts], kinds={"duckdb"}, pool=WRITER_POOL)
def pnad_shares(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """Share of contracts with a social / environmental consideration by notification year and
    level (national, région, département), with completeness and the gap to the 30 % / 100 %
    targets."""
    with warehouse_db.connect() as con:
        rows = warehouse.build_shares(con)
        sample = preview(
            con,
            "select year, contracts, social_share, social_completeness, environmental_share, "
            "environmental_completeness from pnad_shares "
            "where scope = 'all' and level = 'national' order by year",
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "national": sample})


@dg.asset_check(asset=pnad_shares, blocking=True)
def check_consistency_national_equals_parts(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """For every year, the national row equals the sum of the région rows (unplaced included) and
    the sum of the département rows, for every count. Threshold: 0 mismatches."""
    with warehouse_db.connect() as con:
        mismatches = run_sql(con, "checks/national_equals_parts").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(mismatches)} (scope, year, level) sums differ from the national row "
            "(threshold: 0)"
        ),
        metadata={"mismatches": len(mismatches), "first": str(mismatches[:5])},
    )
