"""Publication is one decision: the database and the dashboard change together or not at all.
A refused publication changes nothing readers see; a refresh killed at any step leaves them the
previous publication, whole, and the next refresh gives the same figures as a clean run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.common.paths import PnadPaths
from pipelines.demo.generator import generate_demo
from pipelines.service.instance import dagster_environment

PNAD = str(Path(sys.executable).with_name("pnad"))


def pnad(*args: str, home: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PNAD, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PNAD_HOME": str(home)},
        timeout=timeout,
    )


def what_readers_see(paths: PnadPaths) -> tuple[str, str, int]:
    """(publication folder, the run that wrote its database, contracts): both from the same
    publication, or the reader would see a mix of two runs."""
    folder = paths.reports.resolve()
    with duckdb.connect(str(paths.published_db), read_only=True) as con:
        run_id, contracts = con.execute("select run_id, contracts from publication").fetchone()
    assert folder == paths.published_db.resolve().parent
    assert (folder / "index.html").is_file() and (folder / "methode.html").is_file()
    return folder.name, run_id, contracts


def test_a_refused_publication_changes_neither_the_database_nor_the_site(tmp_path):
    home = tmp_path / "home"
    assert pnad("demo", "--size", "400", "--quiet", home=home).returncode == 0
    paths = PnadPaths.resolve(home)
    before = what_readers_see(paths)
    index = (paths.reports / "index.html").read_bytes()
    # the demo files replaced by one small file: far fewer contracts than published
    shutil.rmtree(paths.raw / "demo")
    with duckdb.connect(str(paths.work_db)) as con:
        con.execute("delete from stg_decp_records")
        con.execute("delete from ingest_files")
    generate_demo(paths.raw / "small", size=100, seed=3)
    refused = pnad("refresh", "--quiet", home=home)
    assert refused.returncode == 1 and "publication refusée" in refused.stderr
    assert what_readers_see(paths) == before
    assert (paths.reports / "index.html").read_bytes() == index
    assert not [p for p in (home / "publications").iterdir() if p.name.startswith(".")]


def _wait_for_step(instance_home: Path, step: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with dg.DagsterInstance.from_config(str(instance_home)) as instance:
            runs = instance.get_runs(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1
            )
            if runs and any(
                event.step_key == step
                for event in instance.all_logs(
                    runs[0].run_id, of_type=dg.DagsterEventType.STEP_START
                )
            ):
                return
        time.sleep(0.2)
    raise AssertionError(f"step {step} never started")


def _first_and_second(raw: Path, second: bool = True) -> None:
    generate_demo(raw / "first", size=2_000, seed=5)
    if second:  # work for the killed refresh
        generate_demo(raw / "second", size=5_000, seed=6)


@pytest.fixture(scope="module")
def clean_shares(tmp_path_factory) -> dict:
    """What one clean refresh of both files gives (the same for every killed step)."""
    clean = tmp_path_factory.mktemp("clean")
    _first_and_second(PnadPaths.resolve(clean).ensure().raw)
    assert pnad("refresh", "--quiet", home=clean).returncode == 0
    return json.loads(pnad("shares", "--json", home=clean).stdout)


# Steps of the refresh killed right after they start: parsing (nothing published yet), the
# dashboard's pages being written, the publication itself. The contract model and the indicators
# fail the same way as parsing: they write only the working database.
# Two points in the default run, all four with -m slow (CI time)
KILLED_AT = (
    "decp_records",
    pytest.param("contract_model", marks=pytest.mark.slow),
    pytest.param("pnad_dashboard", marks=pytest.mark.slow),
    "published_database",
)


@pytest.mark.parametrize("step", KILLED_AT)
def test_a_refresh_killed_at_a_step_leaves_the_previous_publication_whole(
    tmp_path, step, clean_shares
):
    home = tmp_path / "home"
    paths = PnadPaths.resolve(home).ensure()
    _first_and_second(paths.raw, second=False)
    assert pnad("refresh", "--quiet", home=home).returncode == 0
    before = what_readers_see(paths)
    _first_and_second(paths.raw)  # the same first file, and the second
    env = dagster_environment(paths)
    refresh = subprocess.Popen([PNAD, "refresh", "--quiet"], env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_for_step(Path(env["DAGSTER_HOME"]), step)
    finally:
        refresh.send_signal(signal.SIGKILL)
        refresh.wait()
    assert what_readers_see(paths) == before  # the previous publication, whole
    # the next refresh gives what a clean run on the same files gives
    assert pnad("refresh", "--quiet", home=home).returncode == 0
    assert json.loads(pnad("shares", "--json", home=home).stdout) == clean_shares
    assert any(row["contracts"] > 0 for row in clean_shares)
    assert not [p for p in (home / "publications").iterdir() if p.name.startswith(".")]
