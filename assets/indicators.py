"""The PNAD indicators, each a table built from the contracts by one SQL file
(``sql/indicators/<name>.sql``), and the checks that they add up.
Logic: ``pipelines/indicators/build.py``."""

import dagster as dg

from assets._wiring import WRITER_POOL, preview, table_spec
from assets.resources import PnadDuckDBResource
from pipelines.common.sql import run_sql
from pipelines.indicators.build import build_indicator, build_indicator_if_changed, build_shares

GROUP = "indicators"


def _indicator(name: str, deps: list[str] | None = None, **more):
    """The decorator of one indicator asset: its spec (column schema, SQL, owners) and pool."""
    logic = build_shares if name == "pnad_shares" else build_indicator
    spec = table_spec(
        name, deps=deps or ["contracts"], sql=[f"indicators/{name}"], logic=logic, group=GROUP
    )
    return dg.multi_asset(name=name, specs=[spec], pool=WRITER_POOL, **more)


@_indicator("pnad_shares")
def pnad_shares(duckdb: PnadDuckDBResource) -> dg.MaterializeResult:
    """Share of contracts with a social / environmental consideration by notification year and
    level (national, région, département), with completeness and the gap to the 30 % / 100 %
    targets."""
    with duckdb.get_connection() as con:
        rows = build_shares(con)
        sample = preview(
            con,
            "select year, contracts, social_share, social_completeness, environmental_share, "
            "environmental_completeness from pnad_shares "
            "where scope = 'all' and level = 'national' order by year",
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "national": sample})


@dg.asset_check(asset="pnad_shares", blocking=True)
def check_consistency_national_equals_parts(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """For every year, the national row equals the sum of the région rows (unplaced included) and
    the sum of the département rows, for every count. Threshold: 0 mismatches."""
    with duckdb.get_connection() as con:
        mismatches = run_sql(con, "indicators/checks/national_equals_parts").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(mismatches)} (scope, year, level) sums differ from the national row "
            "(threshold: 0)"
        ),
        metadata={"mismatches": len(mismatches), "first": str(mismatches[:5])},
    )


@_indicator("pnad_breakdowns", deps=["contracts", "pnad_shares"])
def pnad_breakdowns(duckdb: PnadDuckDBResource) -> dg.MaterializeResult:
    """The shares cut by market type, buyer category and procedure, at every level."""
    with duckdb.get_connection() as con:
        rows = build_indicator_if_changed(con, duckdb.paths(), "pnad_breakdowns")
        sample = preview(
            con,
            "select year, dimension, category, contracts, social_share, environmental_share "
            "from pnad_breakdowns where level = 'national' order by year desc, dimension, "
            "contracts desc",
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "national": sample})


@dg.asset_check(asset="pnad_breakdowns", blocking=True)
def check_consistency_breakdowns_add_up(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """For every year, level, territory and dimension, the categories add up to the shares row.
    Threshold: 0 mismatches."""
    with duckdb.get_connection() as con:
        mismatches = run_sql(con, "indicators/checks/breakdowns_add_up").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(mismatches)} breakdowns do not add up to their total (threshold: 0)",
        metadata={"mismatches": len(mismatches), "first": str(mismatches[:5])},
    )


@_indicator("buyer_shares")
def buyer_shares(duckdb: PnadDuckDBResource) -> dg.MaterializeResult:
    """Per buyer and year: contracts, shares, completeness, gap to target and trend."""
    with duckdb.get_connection() as con:
        rows = build_indicator_if_changed(con, duckdb.paths(), "buyer_shares")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


class OpportunitiesConfig(dg.Config):
    min_amount: float = 90_000.0  # EUR HT, current amount
    months: int = 12  # window up to the latest notification date in the data


@_indicator("opportunities")
def opportunities(config: OpportunitiesConfig, duckdb: PnadDuckDBResource) -> dg.MaterializeResult:
    """Recent labour-intensive contracts (works, cleaning, green spaces, waste, catering) above
    the configured amount, notified without a social consideration, by territory."""
    with duckdb.get_connection() as con:
        rows = build_indicator_if_changed(
            con,
            duckdb.paths(),
            "opportunities",
            {"min_amount": config.min_amount, "months": config.months},
        )
        sample = preview(
            con,
            "select notification_date, buyer_departement_code, sector, current_amount, "
            "social_status, objet from opportunities order by current_amount desc",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "min_amount": config.min_amount,
            "months": config.months,
            "largest": sample,
        }
    )


@_indicator("pnad_shares_monthly")
def pnad_shares_monthly(duckdb: PnadDuckDBResource) -> dg.MaterializeResult:
    """The shares by month of notification and territory, the last three months provisional."""
    with duckdb.get_connection() as con:
        rows = build_indicator_if_changed(con, duckdb.paths(), "pnad_shares_monthly")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
