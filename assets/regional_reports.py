"""Coordinators' reports: one per région (and per département on request), a Dagster
partition each, scheduled monthly; which territories and when is pipelines/publishing/reports.toml.
Logic: pipelines/publishing/regional_report.py (read from the published database only)."""

from datetime import date

import dagster as dg

from assets.common import WRITER_POOL
from assets.publish import published_database
from pipelines.publishing.regional_report import ReportRequest, chromium, parse_month, write_report
from pipelines.publishing.report_schedule import load_report_schedule
from pipelines.resources import PnadWarehouse

REPORT_SCHEDULE = load_report_schedule()
REPORT_PARTITIONS = dg.StaticPartitionsDefinition(REPORT_SCHEDULE.partition_keys)


class RegionalReportConfig(dg.Config):
    month: str = ""  # YYYY-MM; empty: the last complete month
    pdf: bool = REPORT_SCHEDULE.pdf  # also a PDF, when Chromium is installed


@dg.asset(
    group_name="reports",
    partitions_def=REPORT_PARTITIONS,
    deps=[published_database],
    kinds={"html"},
    pool=WRITER_POOL,
)
def regional_report(
    context: dg.AssetExecutionContext, config: RegionalReportConfig, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """PNAD_HOME/reports/regionaux/<level>-<code>_<YYYY-MM>.html for this partition's
    territory only: its shares against the targets, change since the previous report, buyers
    furthest from the targets, opportunities, facilitators' hours and the two gap lists,
    data-quality appendix, provenance footer (and a PDF when Chromium is present)."""
    level, code = context.partition_key.split("-", 1)
    request = ReportRequest(level, code, parse_month(config.month or None))
    pdf = config.pdf and chromium() is not None
    written = write_report(warehouse_db.paths(), request, run_id=context.run.run_id, pdf=pdf)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written["html"])),
            "month": f"{request.month:%Y-%m}",
            "pdf": str(written.get("pdf", "")),
        }
    )


regional_reports_job = dg.define_asset_job(
    name="regional_reports",
    selection=[regional_report],  # partitioned like the asset
    description="Write the coordinators' report of the chosen territories (one partition each).",
)


def _previous_month(day: date) -> str:
    return f"{day.year - (day.month == 1)}-{(day.month - 2) % 12 + 1:02d}"


@dg.schedule(
    job=regional_reports_job,
    cron_schedule=REPORT_SCHEDULE.cron,
    execution_timezone="Europe/Paris",
    description="Each month, every territory of reports.toml gets its report for the month before.",
)
def monthly_regional_reports(context: dg.ScheduleEvaluationContext):
    month = _previous_month(context.scheduled_execution_time.date())
    for key in REPORT_PARTITIONS.get_partition_keys():
        yield dg.RunRequest(
            run_key=f"{key}:{month}",
            partition_key=key,
            run_config={"ops": {"regional_report": {"config": {"month": month}}}},
        )
