"""The service run unattended: alerts reach a local SMTP and HTTP server, `pnad status` tells an
operator what needs attention (fresh, healthy, stale and failing installs), `pnad schedule`
switches the automation, and a run whose process was killed is failed so the queue moves on."""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.common.clock import paris_now
from pipelines.common.paths import PROJECT_ROOT, PnadPaths
from pipelines.service.alerts import ALERTS_LOG, record_failure
from pipelines.service.instance import dagster_environment
from pipelines.service.runs import PID_TAG, process_is_gone, worker_tags
from pipelines.service.settings import service_settings_or_defaults
from pipelines.service.status import _freshness, service_status
from tests.conftest import marche, write_decp_2022

PNAD = str(Path(sys.executable).with_name("pnad"))


def pnad(*args: str, home: Path, timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PNAD, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PNAD_HOME": str(home), **env},
        timeout=timeout,
    )


# --- a local SMTP server and a local webhook ---------------------------------------------------


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive one message per connection (RFC 5321 happy path)."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        data, envelope = None, {"to": []}
        for raw in self.rfile:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if data is not None:
                if line == ".":
                    self.server.messages.append({**envelope, "data": "\n".join(data)})
                    data = None
                    self.reply("250 OK")
                else:
                    data.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in ("HELO", "EHLO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                envelope["from"] = line[10:]
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(line[8:])
                self.reply("250 OK")
            elif verb == "DATA":
                data = []
                self.reply("354 end with .")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server name
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.received = received
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def configure_alerts(home: Path, smtp_port: int, webhook_port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "service.toml").write_text(
        "[alerts]\n"
        'email_to = ["coordination@example.org"]\n'
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {smtp_port}\n"
        f'webhook_url = "http://127.0.0.1:{webhook_port}/hook"\n',
        encoding="utf-8",
    )


def test_a_failure_reaches_the_log_the_mailbox_and_the_webhook_once(
    tmp_path, smtp_server, webhook_server
):
    paths = PnadPaths.resolve(tmp_path / "home")
    configure_alerts(paths.home, smtp_server.server_address[1], webhook_server.server_port)
    at = datetime(2026, 12, 6, 6, 3)
    failure = record_failure(paths, "run-123", "pnad_update", "decp_downloads: HTTP 503", at)
    assert failure is not None
    log = (paths.home / ALERTS_LOG).read_text(encoding="utf-8")
    assert log == "2026-12-06 06:03:00\tpnad_update\trun-123\tdecp_downloads: HTTP 503\n"
    (message,) = smtp_server.messages
    assert message["to"] == ["<coordination@example.org>"]
    assert "Subject: [pnad-tracker] =?utf-8?q?=C3=A9chec" in message["data"] or (
        "échec du run pnad_update" in message["data"]
    )
    assert webhook_server.received == [
        {
            "text": "[pnad-tracker] échec du run pnad_update (06/12/2026 06:03) : "
            "decp_downloads: HTTP 503",
            "run_id": "run-123",
            "job": "pnad_update",
            "reason": "decp_downloads: HTTP 503",
            "at": "2026-12-06T06:03:00",
        }
    ]
    # the daemon's sensor and the command that ran it both report it: sent once
    assert record_failure(paths, "run-123", "pnad_update", "again", at) is None
    assert len(smtp_server.messages) == 1 and len(webhook_server.received) == 1


def test_an_unreachable_mail_server_is_logged_not_raised(tmp_path, webhook_server):
    paths = PnadPaths.resolve(tmp_path / "home")
    configure_alerts(paths.home, 9, webhook_server.server_port)  # nothing listens on port 9
    record_failure(paths, "run-9", "pnad_refresh", "contract_model: disque plein")
    lines = (paths.home / ALERTS_LOG).read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("\tpnad_refresh\trun-9\tcontract_model: disque plein")
    assert lines[1].split("\t")[1:3] == ["alerte", "run-9"]
    assert "envoi par courriel impossible" in lines[1]
    assert len(webhook_server.received) == 1  # the other channel still gets it


# --- pnad status ---------------------------------------------------------------------------------


def test_status_of_a_fresh_install_asks_for_a_first_run(tmp_path):
    done = pnad("status", home=tmp_path / "fresh")
    assert done.returncode == 1
    assert "base publiée : aucune" in done.stdout
    assert "aucune base publiée : lancez `pnad run`" in done.stdout


@pytest.fixture(scope="module")
def healthy_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("healthy")
    done = pnad("demo", "--size", "500", "--quiet", home=home)
    assert done.returncode == 0, done.stderr
    return home


def test_status_of_a_healthy_install(healthy_home):
    done = pnad("status", home=healthy_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "à jour" in done.stdout and "Tout va bien." in done.stdout
    assert "dernière actualisation réussie :" in done.stdout and "aucune\n" not in done.stdout
    assert "automatisation : éteinte" in done.stdout
    status = json.loads(pnad("status", "--json", home=healthy_home).stdout)
    assert status["attention"] == []
    assert status["published"]["freshness"] == "à jour"
    assert status["last_successful_run"]["job"] == "pnad_refresh"
    assert status["disk_bytes"]["raw"] > 0 and status["disk_bytes"]["work"] > 0


def test_status_of_a_stale_install(healthy_home):
    later = paris_now() + timedelta(hours=60)  # past the 54 h of service.toml
    status = service_status(PnadPaths.resolve(healthy_home), now=later)
    assert status["published"]["freshness"] == "périmée"
    assert any(reason.startswith("base publiée périmée") for reason in status["attention"])
    # a successful refresh that found nothing new to publish confirms the data: late from then
    published = {"published_at": datetime(2026, 12, 1, 6, 0)}
    refreshed = {"at": datetime(2026, 12, 2, 6, 0)}
    settings = service_settings_or_defaults()[0].freshness
    assert _freshness(published, None, datetime(2026, 12, 2, 20, 0), settings) == "en retard"
    assert _freshness(published, refreshed, datetime(2026, 12, 2, 20, 0), settings) == "à jour"
    assert _freshness(published, refreshed, datetime(2026, 12, 4, 13, 0), settings) == "périmée"


@pytest.mark.slow  # left out of the default run (CI time): pytest -m slow
def test_status_of_a_failing_install(tmp_path):
    home = tmp_path / "failing"
    assert pnad("demo", "--size", "300", "--quiet", home=home).returncode == 0
    # staged records lost behind the pipeline's back: the next refresh's blocking accounting
    # check fails the run (nothing is published), and that is reported
    with duckdb.connect(str(PnadPaths.resolve(home).work_db)) as con:
        con.execute(
            "delete from stg_decp_records where file_id in "
            "(select file_id from ingest_files order by ingest_seq limit 250)"
        )
        con.execute("delete from build_state")
    write_decp_2022(home / "raw" / "local" / "day.json", [marche("NEW1")])  # new inputs
    failed = pnad("refresh", "--quiet", home=home)
    assert failed.returncode == 1
    done = pnad("status", home=home)
    assert done.returncode == 1
    assert "exécutions en échec ces 7 derniers jours : 1" in done.stdout
    assert "échec de pnad_refresh le " in done.stdout and "sans réussite depuis" in done.stdout
    alerts = (home / ALERTS_LOG).read_text(encoding="utf-8")
    assert (
        "\tpnad_refresh\t" in alerts and "contrôle check_accounting_records non satisfait" in alerts
    )


def test_a_wrong_service_file_is_said_and_never_silences_the_service(tmp_path, webhook_server):
    home = tmp_path / "home"
    home.mkdir()
    settings = home / "service.toml"
    settings.write_text(
        '[freshness]\nwarn_after_houres = 30\n[automation]\nenabled = "yes"\n'
        f'[alerts]\nwebhook_url = "http://127.0.0.1:{webhook_server.server_port}/"\n',
        encoding="utf-8",
    )
    done = pnad("status", home=home)
    assert done.returncode == 1
    assert f"réglages ignorés : {settings} : " in done.stdout
    assert "freshness.warn_after_houres : clé inconnue (reçu : 30)" in done.stdout
    assert "automation.enabled : doit valoir true ou false (reçu : 'yes')" in done.stdout
    # the definitions still load (the daemon and its alert sensors keep running)
    loaded = subprocess.run(
        [sys.executable, "-c", "from pipelines.definitions import defs; "
         "print(defs().resolve_sensor_def('run_failure_alert_sensor').name)"],
        env={**os.environ, "PNAD_HOME": str(home)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.stdout.strip() == "run_failure_alert_sensor", loaded.stderr[-2000:]
    # an alert still reaches the log, which says why the settings were not used
    record_failure(PnadPaths.resolve(home), "run-x", "pnad_update", "HTTP 500")
    assert "clé inconnue" in (home / ALERTS_LOG).read_text(encoding="utf-8")
    refused = pnad("schedule", "on", home=home)
    assert refused.returncode == 1 and "clé inconnue" in refused.stderr
    assert settings.read_text(encoding="utf-8").count("[automation]") == 1  # left as it was


# --- pnad schedule -------------------------------------------------------------------------------


def test_schedule_on_and_off_switch_the_automation_of_this_data_root(tmp_path):
    home = tmp_path / "home"
    on = pnad("schedule", "on", home=home)
    assert on.returncode == 0, on.stderr
    assert on.stdout.splitlines()[:4] == [
        "daily_refresh : en marche",
        "monthly_regional_reports : en marche",
        "facilitator_exports_sensor : en marche",
        "raw_files_sensor : en marche",
    ]
    assert "dagster.code_server" not in on.stdout + on.stderr
    assert "[automation]\nenabled = true" in (home / "service.toml").read_text(encoding="utf-8")
    off = pnad("schedule", "off", home=home)
    assert off.returncode == 0 and off.stdout.count("arrêté") == 4


# --- dead runs -----------------------------------------------------------------------------------


def test_a_process_that_is_gone_is_told_from_one_that_runs():
    assert not process_is_gone(worker_tags())  # this very process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_is_gone(worker_tags(child.pid) | {PID_TAG: str(child.pid)})
    assert not process_is_gone({})  # a run that never said which process ran it


def _wait_for_run(instance_home: Path, statuses, timeout: float = 240, other_than: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with dg.DagsterInstance.from_config(str(instance_home)) as instance:
            runs = instance.get_runs(filters=dg.RunsFilter(statuses=list(statuses)))
        runs = [run for run in runs if run.run_id != other_than]
        if runs:
            return runs[0]
        time.sleep(1)
    raise AssertionError(f"no run reached {statuses} in {timeout} s")


def _ghost_run(tmp_path: Path) -> tuple[PnadPaths, dict, dg.DagsterRun]:
    """A data root whose refresh was killed (SIGKILL) while it ran: its run stays STARTED."""
    paths = PnadPaths.resolve(tmp_path / "home").ensure()
    from pipelines.demo.generator import generate_demo

    generate_demo(paths.raw / "demo", size=30_000, seed=7)
    env = dagster_environment(paths)
    ghost = subprocess.Popen([PNAD, "refresh", "--quiet"], env=env, cwd=tmp_path)
    started = _wait_for_run(Path(env["DAGSTER_HOME"]), [dg.DagsterRunStatus.STARTED])
    ghost.send_signal(signal.SIGKILL)
    ghost.wait()
    return paths, env, started


def _failure_message(env: dict, run_id: str) -> str:
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        (event,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return event.message


def test_the_next_command_fails_the_killed_run_before_its_own(tmp_path):
    paths, env, ghost = _ghost_run(tmp_path)
    done = pnad("refresh", "--quiet", home=paths.home)
    assert done.returncode == 0, done.stderr
    assert f"run {ghost.run_id} (pnad_refresh) : le processus" in done.stderr
    assert "a disparu" in _failure_message(env, ghost.run_id)
    # the failure is heard even without the daemon
    alerts = (paths.home / ALERTS_LOG).read_text(encoding="utf-8")
    assert f"\tpnad_refresh\t{ghost.run_id}\tle processus" in alerts


def test_a_killed_run_is_failed_by_the_daemon_and_the_queue_moves_on(tmp_path):
    """The killed refresh holds the writer pool; the daemon's dead_runs_sensor fails it, and
    the run waiting in the queue then starts."""
    paths, env, ghost = _ghost_run(tmp_path)
    instance_home = Path(env["DAGSTER_HOME"])
    queued = subprocess.run(
        [sys.executable, "-m", "dagster", "job", "launch", "-j", "pnad_refresh", "-m",
         "pipelines.definitions"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr[-2000:]
    daemon = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-daemon")),
            "run",
            "-m",
            "pipelines.definitions",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        next_run = _wait_for_run(
            instance_home,
            [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS],
            timeout=300,
            other_than=ghost.run_id,
        )
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    assert next_run.run_id != ghost.run_id
    assert "a disparu" in _failure_message(env, ghost.run_id)
