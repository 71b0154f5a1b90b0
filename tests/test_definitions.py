"""The Dagster definitions load and hold what the UI and the schedules need."""

from __future__ import annotations

import subprocess

import dagster as dg

from pipelines.common.paths import PROJECT_ROOT, dagster_environment
from pipelines.definitions import defs

EXPECTED_ASSETS = {
    "reference_downloads",
    "reference_tables",
    "decp_downloads",
    "decp_raw_files",
    "decp_records",
    "buyer_sirene_lookup",
    "contracts",
    "pnad_shares",
    "pnad_breakdowns",
    "pnad_shares_monthly",
    "buyer_shares",
    "opportunities",
    "facilitator_exports",
    "facilitator_decp_links",
    "facilitator_hours",
    "pnad_dashboard",
    "published_database",
    "regional_report",
}


def test_definitions_hold_assets_checks_jobs_schedules_sensors():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == EXPECTED_ASSETS
    checks = {key.name for key in graph.asset_check_keys}
    assert {
        "check_uniqueness_uid",
        "check_accounting_records",
        "check_consistency_national_equals_parts",
        "check_accounting_facilitator_rows",
        "check_consistency_facilitator_hours_add_up",
    } <= checks
    refresh = definitions.resolve_job_def("pnad_refresh")
    update = definitions.resolve_job_def("pnad_update")
    # the refresh never touches the network; the update downloads first
    assert "decp_downloads" not in {n.name for n in refresh.graph.node_defs}
    assert "reference_downloads" not in {n.name for n in refresh.graph.node_defs}
    assert "buyer_sirene_lookup" not in {n.name for n in refresh.graph.node_defs}
    assert "decp_downloads" in {n.name for n in update.graph.node_defs}
    schedule = definitions.resolve_schedule_def("daily_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Europe/Paris")
    assert schedule.job_name == "pnad_update"
    assert definitions.resolve_sensor_def("raw_files_sensor").job_name == "pnad_refresh"
    # facilitators' exports dropped in PNAD_HOME/facilitateurs/ start the same offline refresh
    assert definitions.resolve_sensor_def("facilitator_exports_sensor").job_name == "pnad_refresh"
    assert "facilitator_exports" in {n.name for n in refresh.graph.node_defs}


def test_every_writing_asset_is_in_the_single_writer_pool():
    graph = defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).pools == {"duckdb_writer"}, key


def test_dg_check_defs_accepts_the_project():
    result = subprocess.run(
        ["dg", "check", "defs"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=dagster_environment(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_instance_settings_from_dagster_yaml(monkeypatch):
    environment = dagster_environment({})
    assert environment["DAGSTER_HOME"] == str(PROJECT_ROOT)
    monkeypatch.chdir(PROJECT_ROOT)
    instance = dg.DagsterInstance.from_config(environment["DAGSTER_HOME"])
    assert instance.root_directory == ".dagster_home"
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity.value == "run"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert not instance.telemetry_enabled
