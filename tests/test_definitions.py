"""The Dagster definitions load, hold what the UI and the schedules need, and behave as `dg`
users expect: `dg check defs`, `dg list defs`, `dg scaffold defs` and `dg launch` work on the
project's layout (the top-level assets/ folder is the defs folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.common.paths import PROJECT_ROOT, SQL_DIR, PnadPaths
from pipelines.definitions import defs
from pipelines.publishing.database import PUBLISHED_TABLES, dictionary_rows
from pipelines.service.instance import dagster_environment
from tests.conftest import marche, write_decp_2022

# The steps, and every table a user queries (each published table is its own asset).
EXPECTED_ASSETS = {
    "reference_downloads",
    "decp_downloads",
    "decp_raw_files",
    "decp_records",
    "buyer_sirene_lookup",
    "pnad_dashboard",
    "published_database",
    "regional_report",
    # internal tables of the after-2025 step (not published)
    "buyer_names",
    "contract_first_publications",
    *PUBLISHED_TABLES,
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
        if key.to_user_string() != "regional_report":  # reads the published file only
            assert graph.get(key).pools == {"duckdb_writer"}, key


def test_each_published_table_carries_its_columns_owners_and_code():
    specs = {spec.key.to_user_string(): spec for spec in defs().resolve_all_asset_specs()}
    documented: dict[str, list[tuple[str, str, str]]] = {}
    for row in dictionary_rows():
        documented.setdefault(row["view_name"], []).append(
            (row["column_name"], row["column_type"], row["description"])
        )
    for table in PUBLISHED_TABLES:
        spec = specs[table]
        schema = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == documented[table]
        assert spec.owners == ["team:pnad-tracker"], table
        references = spec.metadata["dagster/code_references"].code_references
        files = [Path(reference.file_path) for reference in references]
        assert all(path.is_file() for path in files), files
        # first the plain function under pipelines/ that computes it, then its SQL files, then
        # the asset's wiring under assets/: where a number comes from, in one look
        assert PROJECT_ROOT / "pipelines" in files[0].parents, (table, files)
        assert any(PROJECT_ROOT / "assets" in path.parents for path in files), table
        if table != "download_manifest":
            assert any(SQL_DIR in path.parents for path in files), table
    contracts = specs["contracts"].metadata["dagster/column_schema"]
    social = next(c for c in contracts.columns if c.name == "social_status")
    assert social.type == "VARCHAR" and "yes" in social.description


def _dg(*args: str, cwd: Path, env: dict[str, str], timeout: int = 300):
    return subprocess.run(
        ["dg", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


def test_dg_check_defs_accepts_the_project(tmp_path):
    env = dagster_environment(PnadPaths.resolve(tmp_path))
    result = _dg("check", "defs", cwd=PROJECT_ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dg_scaffold_writes_into_the_defs_folder_and_dg_list_sees_it(tmp_path):
    """`dg scaffold defs` in a copy of the project: the new asset lands in assets/ and is loaded
    with the others, without touching any wiring."""
    copy = tmp_path / "project"
    for name in ("assets", "pipelines", "sql"):
        shutil.copytree(PROJECT_ROOT / name, copy / name, ignore=shutil.ignore_patterns("*.pyc"))
    for name in ("pyproject.toml", "dagster.yaml"):
        shutil.copy(PROJECT_ROOT / name, copy / name)
    env = {**dagster_environment(PnadPaths.resolve(tmp_path / "home")), "PYTHONPATH": str(copy)}
    scaffolded = _dg("scaffold", "defs", "dagster.asset", "probe_asset.py", cwd=copy, env=env)
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    assert (copy / "assets" / "probe_asset.py").is_file()
    listed = _dg("list", "defs", "--json", cwd=copy, env=env)
    assert listed.returncode == 0, listed.stderr
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert keys == EXPECTED_ASSETS | {"probe_asset"}


def test_dg_launch_runs_the_refresh_job_on_a_data_root(tmp_path):
    home = tmp_path / "home"
    write_decp_2022(home / "raw" / "feed" / "day1.json", [marche("L1", social=["Clause sociale"])])
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {
        **os.environ,
        "PNAD_HOME": str(home),
        "DAGSTER_HOME": str(instance),  # a throw-away instance, not the project's
    }
    launched = _dg("launch", "--job", "pnad_refresh", cwd=PROJECT_ROOT, env=env, timeout=600)
    assert launched.returncode == 0, launched.stdout[-2000:] + launched.stderr[-3000:]
    with duckdb.connect(str(home / "pnad.duckdb"), read_only=True) as con:
        assert con.execute("select uid, social_status from contracts").fetchall() == [
            ("21740056300011L1", "yes")
        ]


def test_each_data_root_has_its_own_instance(tmp_path):
    """Run history, logs and schedule state live under the data root: the demo, real data and
    every test's temporary root never share (or touch the project's) instance."""
    first, second = PnadPaths.resolve(tmp_path / "a"), PnadPaths.resolve(tmp_path / "b")
    homes = [dagster_environment(paths, {})["DAGSTER_HOME"] for paths in (first, second)]
    assert homes == [str(first.home / "dagster"), str(second.home / "dagster")]
    instance = dg.DagsterInstance.from_config(homes[0])
    assert Path(instance.root_directory) == first.home / "dagster"
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity.value == "run"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert instance.run_monitoring_enabled
    assert not instance.telemetry_enabled
