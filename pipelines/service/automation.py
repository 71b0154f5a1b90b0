"""Switching the service's automation on or off: the two schedules (``daily_refresh``,
``monthly_regional_reports``) and the file-drop sensors, in the data root's instance and in its
``service.toml`` (so that a new instance starts the same way). The sensors that watch the service
itself (alerts, dead runs) are always on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from pipelines.common.paths import PnadPaths
from pipelines.service.instance import dagster_environment
from pipelines.service.settings import load_service_settings, override_file

AUTOMATED_SENSORS = ("raw_files_sensor", "facilitator_exports_sensor")
MARK = "pnad-automation:"


def remember_automation(paths: PnadPaths, enabled: bool) -> None:
    """Write ``[automation] enabled`` into $PNAD_HOME/service.toml, keeping its other lines."""
    target = override_file(paths)
    text = target.read_text(encoding="utf-8") if target.is_file() else ""
    value = "true" if enabled else "false"
    table = re.search(r"(?ms)^\[automation\]\s*$(.*?)(?=^\[|\Z)", text)
    if table is None:
        text = (
            text.rstrip("\n")
            + ("\n\n" if text.strip() else "")
            + f"[automation]\nenabled = {value}\n"
        )
    elif re.search(r"(?m)^enabled\s*=.*$", table.group(1)):
        body = re.sub(r"(?m)^enabled\s*=.*$", f"enabled = {value}", table.group(1), count=1)
        text = text[: table.start(1)] + body + text[table.end(1) :]
    else:
        text = text[: table.end(0)] + f"enabled = {value}\n" + text[table.end(0) :]
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


def set_automation(paths: PnadPaths, enabled: bool) -> dict[str, str]:
    """Start (or stop) the schedules and the file-drop sensors in the data root's instance;
    returns each one's status afterwards.

    Done in a child process: reading the definitions starts a Dagster code server whose log
    lines (developers' information) would otherwise land in the command's output."""
    load_service_settings(paths)  # a wrong service.toml is refused before anything changes
    remember_automation(paths, enabled)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.service.automation", "on" if enabled else "off"],
        env=dagster_environment(paths),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        # the last "SomethingError: reason" line of the child's trace says why
        errors = re.findall(r"(?m)^[\w.]*(?:Error|Exception)\w*: (.+)$", done.stderr)
        detail = errors[-1] if errors else "raison inconnue (voir PNAD_DEBUG=1)"
        raise RuntimeError(f"les planifications n'ont pas pu être changées : {detail}")
    # the code server's log lines share the child's output: the answer is the marked line
    answer = next(line for line in done.stdout.splitlines() if line.startswith(MARK))
    return json.loads(answer.removeprefix(MARK))


def _switch(enabled: bool) -> dict[str, str]:
    """In the child process: switch them in the instance of DAGSTER_HOME."""
    import dagster as dg
    from dagster._cli.workspace.cli_target import (
        RepositoryOpts,
        WorkspaceOpts,
        get_repository_from_cli_opts,
    )

    opts = WorkspaceOpts(module_name=("pipelines.definitions",))
    statuses = {}
    with (
        dg.DagsterInstance.get() as instance,
        get_repository_from_cli_opts(instance, dg.__version__, opts, RepositoryOpts()) as repo,
    ):
        instigators = [*repo.get_schedules()] + [
            sensor for sensor in repo.get_sensors() if sensor.name in AUTOMATED_SENSORS
        ]
        schedules = {schedule.name for schedule in repo.get_schedules()}
        for remote in instigators:
            is_schedule = remote.name in schedules
            if enabled:
                state = (instance.start_schedule if is_schedule else instance.start_sensor)(remote)
            else:
                stop = instance.stop_schedule if is_schedule else instance.stop_sensor
                state = stop(remote.get_remote_origin_id(), remote.selector_id, remote)
            statuses[remote.name] = state.status.value
    return statuses


if __name__ == "__main__":
    print(MARK + json.dumps(_switch(sys.argv[1] == "on")), flush=True)
