"""Facilitator layer: the insertion-hours exports (ABC Clauses, spreadsheets) dropped in
PNAD_HOME/facilitateurs/, linked to the DECP contracts, and their indicators.
SQL: sql/facilitators/*.sql; reading and mapping: pipelines/facilitators/."""

import dagster as dg

from assets.common import WRITER_POOL, preview
from assets.core import contracts
from assets.reference import reference_tables
from pipelines.common.sql import run_sql
from pipelines.facilitators import build, loading
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="facilitator", kinds={"python", "duckdb"}, pool=WRITER_POOL)
def facilitator_exports(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """New exports of PNAD_HOME/facilitateurs/ (a sub-folder names the facilitator) loaded into
    the canonical tables: facilitator_files, _operations, _marches, _work_contracts,
    _hours_worked, _rejects. Participants pseudonymised on load; an export already loaded is
    skipped; a corrected export replaces the earlier one of the same facilitator and period.
    An export that cannot be mapped is reported (facilitator_load_errors) and does not stop
    the others."""
    paths = warehouse_db.paths()
    with warehouse_db.connect() as con:
        reports, errors = loading.load_pending_exports(con, paths)
        active = con.execute(
            "select count(*), coalesce(sum(hours_worked), 0) from facilitator_files "
            "where status = 'active'"
        ).fetchone()
    for report in reports:
        context.log.info(
            f"{report['file']}: {report['records_read']} lines, {report['loaded']} loaded, "
            f"{report['rejected']} rejected ({report['format']})"
        )
    for error in errors:
        context.log.warning(f"{error['file']}: {error['error']}")
    return dg.MaterializeResult(
        metadata={
            "new_exports": len(reports),
            "exports_not_loaded": len(errors),
            "active_exports": active[0],
            "hours_worked_in_active_exports": float(active[1]),
            "drop_folder": str(paths.facilitator_drop),
        }
    )


@dg.asset_check(asset=facilitator_exports, blocking=True)
def check_accounting_facilitator_rows(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """For every export: lines read = loaded + rejected, and the hours of its loaded lines are
    all in facilitator_hours_worked (active exports). Threshold: 0 mismatches."""
    with warehouse_db.connect() as con:
        mismatches = run_sql(con, "facilitators/checks/facilitator_accounting").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(mismatches)} exports whose lines or hours do not reconcile "
        "(threshold: 0)",
        metadata={"mismatched_files": ", ".join(row[0] for row in mismatches[:10])},
    )


@dg.asset_check(asset=facilitator_exports)
def check_completeness_facilitator_exports_loaded(
    warehouse_db: PnadWarehouse,
) -> dg.AssetCheckResult:
    """Every export of the drop folder could be read and mapped. Threshold: 0 left out (WARN:
    the others are loaded; the reason and the mapping template are in the logs)."""
    with warehouse_db.connect() as con:
        con.execute(
            "create table if not exists facilitator_load_errors (file varchar, error varchar)"
        )
        errors = con.execute("select file, error from facilitator_load_errors").fetchall()
    return dg.AssetCheckResult(
        passed=not errors,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(errors)} exports could not be loaded (threshold: 0)"
        + "".join(f"\n- {file}: {error}" for file, error in errors[:5]),
    )


@dg.asset(
    group_name="facilitator",
    deps=[facilitator_exports, contracts, reference_tables],
    kinds={"duckdb"},
    pool=WRITER_POOL,
)
def facilitator_decp_links(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """facilitator_followed_marches (one row per marché followed), their link to a DECP contract
    (by DECP id, else a scored match kept with its confidence), the facilitator confirmation on
    contracts (followed_by_facilitator, consideration_provenance) and the two gap lists:
    facilitator_gap_underdeclared and facilitator_gap_unfollowed."""
    with warehouse_db.connect() as con:
        counts = build.build_facilitator_links(con)
        methods = dict(
            con.execute("select method, count(*) from facilitator_decp_links group by 1").fetchall()
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["facilitator_decp_links"],
            **{f"rows_{table}": n for table, n in counts.items()},
            **{f"links_{method}": n for method, n in methods.items()},
        }
    )


@dg.asset(
    group_name="facilitator", deps=[facilitator_decp_links], kinds={"duckdb"}, pool=WRITER_POOL
)
def facilitator_hours(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """Insertion hours by the year they were worked and territory (facilitator_hours: ETP,
    planned vs worked, participants, work contracts, marchés, buyers, companies, year-on-year
    change) and by buyer type, market type, sector, clause category, modality, contract type
    and public (facilitator_hours_breakdowns)."""
    with warehouse_db.connect() as con:
        counts = build.build_facilitator_hours(con)
        sample = preview(
            con,
            "select year, hours_worked, etp, hours_planned, completion_rate, marches "
            "from facilitator_hours where level = 'national' order by year",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["facilitator_hours"],
            "rows_breakdowns": counts["facilitator_hours_breakdowns"],
            "national": sample,
        }
    )


@dg.asset_check(asset=facilitator_hours, blocking=True)
def check_consistency_facilitator_hours_add_up(
    warehouse_db: PnadWarehouse,
) -> dg.AssetCheckResult:
    """Each year's national hours equal the hours of the active exports for that year, and the
    sum of the régions (unplaced included) and of the départements. Threshold: 0 mismatches."""
    with warehouse_db.connect() as con:
        mismatches = run_sql(con, "facilitators/checks/facilitator_hours_add_up").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(mismatches)} (year, level) hour totals differ from the national "
        "row or from the exports (threshold: 0)",
    )
