"""Schedules and sensors: the daily refresh, and a refresh when new files land in raw/."""

import os

import dagster as dg

from pipelines.jobs import pnad_refresh_job, pnad_update_job
from pipelines.lib.decp_ingest import is_data_file
from pipelines.lib.paths import PnadPaths

# The hour is configuration: PNAD_REFRESH_CRON overrides it without touching code.
daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=pnad_update_job,
    cron_schedule=os.environ.get("PNAD_REFRESH_CRON", "0 6 * * *"),
    execution_timezone="Europe/Paris",
    description="Download every enabled source and refresh, each morning (DECP files are "
    "published on working days).",
)


def raw_folder_fingerprint(paths: PnadPaths) -> str:
    """Number, total size and newest change time of the data files under raw/ (cheap: no read)."""
    count = size = newest = 0
    if paths.raw.exists():
        for path in paths.raw.rglob("*"):
            if path.is_file() and is_data_file(path.name):
                stat = path.stat()
                count, size, newest = count + 1, size + stat.st_size, max(newest, stat.st_mtime_ns)
    return f"{count}:{size}:{newest}"


@dg.sensor(
    job=pnad_refresh_job,
    minimum_interval_seconds=300,
    description="Starts a refresh when files are added to PNAD_HOME/raw/.",
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    fingerprint = raw_folder_fingerprint(PnadPaths.resolve())
    if fingerprint == context.cursor:
        return dg.SkipReason("no new file under raw/")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
