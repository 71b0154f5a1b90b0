"""Coordinators' reports: one per territory (région, and département on request) and month, a
Dagster partition each (territory x month), so the months that exist are visible and
backfillable; scheduled monthly. Which territories and when is ``pipelines/publishing/
reports.toml``. They read the published database only: not in the writer pool.
Logic: ``pipelines/publishing/regional_report.py``."""

from datetime import date, datetime

import dagster as dg

from assets import jobs
from assets._wiring import OWNERS
from assets.resources import PnadDuckDBResource
from pipelines.publishing.regional_report import ReportRequest, chromium, write_report
from pipelines.publishing.report_schedule import load_report_schedule

REPORT_SCHEDULE = load_report_schedule()
REPORT_PARTITIONS = dg.MultiPartitionsDefinition(
    {
        "territory": dg.StaticPartitionsDefinition(REPORT_SCHEDULE.partition_keys),
        # every complete month since the DECP 2022 format (contracts from 2024)
        "month": dg.MonthlyPartitionsDefinition(
            start_date="2024-01", fmt="%Y-%m", timezone="Europe/Paris"
        ),
    }
)


class RegionalReportConfig(dg.Config):
    pdf: bool = REPORT_SCHEDULE.pdf  # also a PDF, when Chromium is installed


@dg.asset(
    group_name="publishing",
    partitions_def=REPORT_PARTITIONS,
    deps=["published_database"],
    kinds={"html", "pdf"},
    owners=OWNERS,
)
def regional_report(
    context: dg.AssetExecutionContext, config: RegionalReportConfig, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """PNAD_HOME/reports/regionaux/<level>-<code>_<YYYY-MM>.html for this partition's territory
    and month only: its shares against the targets, change since the previous report, buyers
    furthest from the targets, opportunities, facilitators' hours and the two gap lists,
    data-quality appendix, provenance footer (and a PDF when Chromium is present)."""
    keys = context.partition_key.keys_by_dimension
    level, code = keys["territory"].split("-", 1)
    month = datetime.strptime(keys["month"], "%Y-%m").date()
    request = ReportRequest(level, code, month)
    pdf = config.pdf and chromium() is not None
    written = write_report(duckdb.paths(), request, run_id=context.run.run_id, pdf=pdf)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written["html"])),
            "month": keys["month"],
            "pdf": str(written.get("pdf", "")),
        }
    )


regional_reports_job = dg.define_asset_job(
    name="regional_reports",
    selection=[regional_report],  # partitioned like the asset
    partitions_def=REPORT_PARTITIONS,
    description="Write the coordinators' report of the chosen territories and months (one "
    "partition each).",
)


def previous_month(day: date) -> str:
    return f"{day.year - (day.month == 1)}-{(day.month - 2) % 12 + 1:02d}"


@dg.schedule(
    job=regional_reports_job,
    cron_schedule=REPORT_SCHEDULE.cron,
    execution_timezone="Europe/Paris",
    description="Each month, every territory of reports.toml gets its report for the month before.",
    default_status=jobs.AUTOMATION,
)
def monthly_regional_reports(context: dg.ScheduleEvaluationContext):
    month = previous_month(context.scheduled_execution_time.date())
    for territory in REPORT_PARTITIONS.get_partitions_def_for_dimension(
        "territory"
    ).get_partition_keys():
        key = dg.MultiPartitionKey({"territory": territory, "month": month})
        yield dg.RunRequest(run_key=str(key), partition_key=key)
