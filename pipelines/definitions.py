"""The Dagster definitions of the project: every asset, check, job, schedule, sensor and resource.

Runs execute in one process: DuckDB accepts one writer, and the steps are short SQL statements.
"""

import dagster as dg

from assets import (
    core,
    facilitator,
    indicators,
    publish,
    raw,
    reference,
    regional_reports,
    reports,
    staging,
)
from pipelines.jobs import pnad_refresh_job, pnad_update_job
from pipelines.resources import PnadWarehouse
from pipelines.schedules import daily_refresh_schedule, facilitator_exports_sensor, raw_files_sensor

ASSET_MODULES = (
    reference,
    raw,
    staging,
    core,
    indicators,
    facilitator,
    reports,
    publish,
    regional_reports,
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[pnad_refresh_job, pnad_update_job, regional_reports.regional_reports_job],
        schedules=[daily_refresh_schedule, regional_reports.monthly_regional_reports],
        sensors=[raw_files_sensor, facilitator_exports_sensor],
        resources={"warehouse_db": PnadWarehouse()},
        executor=dg.in_process_executor,
    )
