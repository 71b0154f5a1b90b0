"""Jobs and the daily schedule: the offline refresh of what is landed, and the update that
downloads the sources and asks SIRENE first. The regional reports have their own partitioned
job and monthly schedule (``assets/publishing/regional_reports.py``)."""

import os

import dagster as dg

from pipelines.service.settings import service_settings_or_defaults

# Automation (schedules and file-drop sensors) on or off from the start: service.toml, or
# `pnad schedule on|off` afterwards.
AUTOMATION = (
    dg.DefaultScheduleStatus.RUNNING
    if service_settings_or_defaults()[0].automation.enabled
    else dg.DefaultScheduleStatus.STOPPED
)

# Assets that need the network (downloads, SIRENE), and the reports, which have their own job.
NETWORK = dg.AssetSelection.assets(
    "decp_downloads", "download_manifest", "reference_downloads", "buyer_sirene_lookup"
)
REPORTS = dg.AssetSelection.assets("regional_report")

pnad_refresh_job = dg.define_asset_job(
    name="pnad_refresh",
    selection=dg.AssetSelection.all() - NETWORK - REPORTS,
    description="Process the files under PNAD_HOME/raw/ (no network): register, parse, rebuild "
    "contracts and shares, write the dashboard, publish the analysts' database.",
)

pnad_update_job = dg.define_asset_job(
    name="pnad_update",
    selection=dg.AssetSelection.all() - REPORTS,
    description="Download the enabled sources of sources.toml, look buyers up in SIRENE, then "
    "everything pnad_refresh does.",
)

# The hour is configuration: PNAD_REFRESH_CRON overrides it without touching code.
daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh",
    job=pnad_update_job,
    cron_schedule=os.environ.get("PNAD_REFRESH_CRON", "0 6 * * *"),
    execution_timezone="Europe/Paris",
    description="Download every enabled source and refresh, each morning (DECP files are "
    "published on working days).",
    default_status=AUTOMATION,
)
