"""Schedules and sensors: the daily refresh, and a refresh when new files land in raw/ or new
facilitator exports in facilitateurs/."""

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from pipelines.common.paths import PnadPaths
from pipelines.decp.landing import is_data_file
from pipelines.facilitators.reading import is_export_name
from pipelines.jobs import pnad_refresh_job, pnad_update_job

# The hour is configuration: PNAD_REFRESH_CRON overrides it without touching code.
daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=pnad_update_job,
    cron_schedule=os.environ.get("PNAD_REFRESH_CRON", "0 6 * * *"),
    execution_timezone="Europe/Paris",
    description="Download every enabled source and refresh, each morning (DECP files are "
    "published on working days).",
)


def folder_fingerprint(folder: Path, wanted: Callable[[str], bool]) -> str:
    """Number, total size and newest change time of the wanted files (cheap: no read)."""
    count = size = newest = 0
    if folder.exists():
        for path in folder.rglob("*"):
            if path.is_file() and wanted(path.name):
                stat = path.stat()
                count, size, newest = count + 1, size + stat.st_size, max(newest, stat.st_mtime_ns)
    return f"{count}:{size}:{newest}"


@dg.sensor(
    job=pnad_refresh_job,
    minimum_interval_seconds=300,
    description="Starts a refresh when files are added to PNAD_HOME/raw/.",
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    fingerprint = folder_fingerprint(PnadPaths.resolve().raw, is_data_file)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new file under raw/")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)


@dg.sensor(
    job=pnad_refresh_job,
    minimum_interval_seconds=300,
    description="Starts a refresh when facilitators' exports (CSV, Excel) are dropped in "
    "PNAD_HOME/facilitateurs/ (a sub-folder per facilitator is fine).",
)
def facilitator_exports_sensor(context: dg.SensorEvaluationContext):
    fingerprint = folder_fingerprint(PnadPaths.resolve().facilitator_drop, is_export_name)
    if fingerprint == context.cursor or (context.cursor is None and fingerprint.startswith("0:")):
        context.update_cursor(fingerprint)
        return dg.SkipReason("no new export under facilitateurs/")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=f"facilitateurs:{fingerprint}")
