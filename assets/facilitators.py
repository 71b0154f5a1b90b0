"""Facilitators' exports (ABC Clauses, spreadsheets) dropped in ``PNAD_HOME/facilitateurs/``:
loaded into the canonical tables (participants pseudonymised), linked to the DECP contracts,
and their insertion-hours indicators; a sensor starts a refresh when an export is dropped.
Logic: ``pipelines/facilitators/``; SQL: ``sql/facilitators/``."""

import dagster as dg

from assets import jobs
from assets._wiring import WRITER_POOL, preview, table_spec
from assets.reference import REFERENCE_TABLES
from assets.resources import PnadDuckDBResource
from pipelines.common import derived
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import run_sql, table_count
from pipelines.decp.landing import arrived_since
from pipelines.facilitators.build import build_facilitator_hours, build_facilitator_links
from pipelines.facilitators.loading import load_pending_exports
from pipelines.facilitators.reading import is_export_name

GROUP = "facilitators"
LOADING_SQL = [
    "facilitators/stage_facilitator_rows",
    "facilitators/insert_facilitator_export",
]


@dg.multi_asset(
    name="facilitator_exports",
    specs=[
        table_spec(
            name,
            sql=LOADING_SQL,
            logic=load_pending_exports,
            group=GROUP,
            kinds=("python", "duckdb"),
        )
        for name in ("facilitator_files", "facilitator_rejects", "facilitator_unrecognised_values")
    ],
    pool=WRITER_POOL,
)
def facilitator_exports(context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource):
    """New exports of PNAD_HOME/facilitateurs/ (a sub-folder names the facilitator) loaded into
    the canonical tables: facilitator_files, _operations, _marches, _work_contracts,
    _hours_worked, _rejects. Participants pseudonymised on load; an export already loaded is
    skipped; a corrected export replaces the earlier one of the same facilitator and period.
    An export that cannot be mapped is reported (facilitator_load_errors) and does not stop
    the others."""
    paths = duckdb.paths()
    with duckdb.get_connection() as con:
        reports, errors = load_pending_exports(con, paths)
        active, hours, rejects, unrecognised = con.execute(
            "select count(*) filter (where status = 'active'), "
            "coalesce(sum(hours_worked) filter (where status = 'active'), 0), "
            "(select count(*) from facilitator_rejects), "
            "(select count(*) from facilitator_unrecognised_values) from facilitator_files"
        ).fetchone()
    for report in reports:
        context.log.info(
            f"{report['file']} : {report['records_read']} lignes, {report['loaded']} chargées, "
            f"{report['rejected']} rejetées ({report['format']})"
        )
    for error in errors:
        context.log.warning(f"{error['file']} : {error['error']}")
    yield dg.MaterializeResult(
        asset_key="facilitator_files",
        metadata={
            "new_exports": len(reports),
            "exports_not_loaded": len(errors),
            "active_exports": active,
            "hours_worked_in_active_exports": float(hours),
            "drop_folder": str(paths.facilitator_drop),
        },
    )
    yield dg.MaterializeResult(
        asset_key="facilitator_rejects", metadata={"dagster/row_count": rejects}
    )
    yield dg.MaterializeResult(
        asset_key="facilitator_unrecognised_values", metadata={"dagster/row_count": unrecognised}
    )


@dg.asset_check(asset="facilitator_files", blocking=True)
def check_accounting_facilitator_rows(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """For every export: lines read = loaded + rejected, and the hours of its loaded lines are
    all in facilitator_hours_worked (active exports). Threshold: 0 mismatches."""
    with duckdb.get_connection() as con:
        mismatches = run_sql(con, "facilitators/checks/facilitator_accounting").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(mismatches)} exports whose lines or hours do not reconcile "
        "(threshold: 0)",
        metadata={"mismatched_files": ", ".join(row[0] for row in mismatches[:10])},
    )


@dg.asset_check(asset="facilitator_files")
def check_completeness_facilitator_exports_loaded(
    duckdb: PnadDuckDBResource,
) -> dg.AssetCheckResult:
    """Every export of the drop folder could be read and mapped. Threshold: 0 left out (WARN:
    the others are loaded; the reason and the mapping template are in the logs)."""
    with duckdb.get_connection() as con:
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


def _unless_unchanged(con, paths: PnadPaths, build, tables: dict) -> dict[str, int]:
    """The tables' row counts after ``build``, or as they are when nothing they are built from
    changed since it last ran (pipelines/common/derived.py)."""
    fingerprint = derived.changed(con, paths, build.__name__)
    if fingerprint is None:
        return {name: table_count(con, name) for name in tables}
    counts = build(con)
    derived.mark_done(con, build.__name__, fingerprint)
    return counts


LINK_TABLES = {
    "facilitator_followed_marches": ["facilitators/facilitator_followed_marches"],
    "facilitator_decp_links": ["facilitators/facilitator_decp_links"],
    "facilitator_gap_underdeclared": ["facilitators/facilitator_gaps"],
    "facilitator_gap_unfollowed": ["facilitators/facilitator_gaps"],
}


@dg.multi_asset(
    name="facilitator_decp_links",
    specs=[
        table_spec(
            name,
            deps=["facilitator_files", "contracts", *REFERENCE_TABLES],
            sql=sql,
            logic=build_facilitator_links,
            group=GROUP,
        )
        for name, sql in LINK_TABLES.items()
    ],
    pool=WRITER_POOL,
)
def facilitator_decp_links(duckdb: PnadDuckDBResource):
    """facilitator_followed_marches (one row per marché followed), their link to a DECP contract
    (by DECP id, else a scored match kept with its confidence), the facilitator confirmation on
    contracts (followed_by_facilitator, consideration_provenance) and the two gap lists:
    facilitator_gap_underdeclared and facilitator_gap_unfollowed."""
    with duckdb.get_connection() as con:
        counts = _unless_unchanged(con, duckdb.paths(), build_facilitator_links, LINK_TABLES)
        methods = dict(
            con.execute("select method, count(*) from facilitator_decp_links group by 1").fetchall()
        )
    for name in LINK_TABLES:
        metadata: dict[str, object] = {"dagster/row_count": counts[name]}
        if name == "facilitator_decp_links":
            metadata |= {f"links_{method}": n for method, n in methods.items()}
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


HOURS_TABLES = {
    "facilitator_hours": ["facilitators/facilitator_hours"],
    "facilitator_hours_breakdowns": ["facilitators/facilitator_hours_breakdowns"],
}


@dg.multi_asset(
    name="facilitator_hours",
    specs=[
        table_spec(
            name, deps=list(LINK_TABLES), sql=sql, logic=build_facilitator_hours, group=GROUP
        )
        for name, sql in HOURS_TABLES.items()
    ],
    pool=WRITER_POOL,
)
def facilitator_hours(duckdb: PnadDuckDBResource):
    """Insertion hours by the year they were worked and territory (facilitator_hours: ETP,
    planned vs worked, participants, work contracts, marchés, buyers, companies, year-on-year
    change) and by buyer type, market type, sector, clause category, modality, contract type
    and public (facilitator_hours_breakdowns)."""
    with duckdb.get_connection() as con:
        counts = _unless_unchanged(con, duckdb.paths(), build_facilitator_hours, HOURS_TABLES)
        sample = preview(
            con,
            "select year, hours_worked, etp, hours_planned, completion_rate, marches "
            "from facilitator_hours where level = 'national' order by year",
        )
    yield dg.MaterializeResult(
        asset_key="facilitator_hours",
        metadata={"dagster/row_count": counts["facilitator_hours"], "national": sample},
    )
    yield dg.MaterializeResult(
        asset_key="facilitator_hours_breakdowns",
        metadata={"dagster/row_count": counts["facilitator_hours_breakdowns"]},
    )


@dg.asset_check(asset="facilitator_hours", blocking=True)
def check_consistency_facilitator_hours_add_up(
    duckdb: PnadDuckDBResource,
) -> dg.AssetCheckResult:
    """Each year's national hours equal the hours of the active exports for that year, and the
    sum of the régions (unplaced included) and of the départements. Threshold: 0 mismatches."""
    with duckdb.get_connection() as con:
        mismatches = run_sql(con, "facilitators/checks/facilitator_hours_add_up").fetchall()
    return dg.AssetCheckResult(
        passed=not mismatches,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(mismatches)} (year, level) hour totals differ from the national "
        "row or from the exports (threshold: 0)",
    )


@dg.sensor(
    job=jobs.pnad_refresh_job,
    minimum_interval_seconds=300,
    description="Starts a refresh when facilitators' exports (CSV, Excel) are dropped in "
    "PNAD_HOME/facilitateurs/ (a sub-folder per facilitator is fine).",
    default_status=dg.DefaultSensorStatus(jobs.AUTOMATION.value),
)
def facilitator_exports_sensor(context: dg.SensorEvaluationContext):
    arrival = arrived_since(PnadPaths.resolve().facilitator_drop, is_export_name, context.cursor)
    if arrival is None:
        return dg.SkipReason("aucun export nouveau sous facilitateurs/")
    context.update_cursor(str(arrival))
    return dg.RunRequest(run_key=f"facilitateurs:{arrival}")
