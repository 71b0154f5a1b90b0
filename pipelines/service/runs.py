"""Runs whose process died are failed, so that a queue never jams on ghosts.

A run killed mid-way (a crash, a reboot, ``kill -9``, a CI timeout) stays "STARTED" in the
instance forever, and counts against the queue's run and pool limits: after a few, nothing starts
again. Every run records the process that executes it (``pnad/pid``, its start time and host: a
process id can be reused); a run still in progress whose process is gone is reported failed,
with the reason, by the ``dead_runs_sensor`` (every minute, when the daemon runs) and by every
``pnad`` command before it starts its own run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from pipelines.common.paths import PnadPaths

PID_TAG, START_TAG, HOST_TAG = "pnad/pid", "pnad/process_start", "pnad/host"


def _process_start(pid: int) -> str | None:
    """When the process started, in clock ticks since boot (Linux), to tell it from a later
    process that got the same id."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat: starttime (fields 1-2 are before the ")")
    except (OSError, IndexError):
        return None


def worker_tags(pid: int | None = None) -> dict[str, str]:
    """The tags that say which process executes a run."""
    pid = pid or os.getpid()
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    start = _process_start(pid)
    if start is not None:
        tags[START_TAG] = start
    return tags


def process_is_gone(tags: dict[str, str]) -> bool:
    """Whether the process the tags name (on this host) no longer exists. A run of another host,
    or without the tags, is never said gone."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return False
    pid = int(tags[PID_TAG])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by someone else
    started = tags.get(START_TAG)
    return started is not None and _process_start(pid) != started


def fail_dead_runs(
    instance, log: Callable[[str], None] = lambda _: None, paths: PnadPaths | None = None
) -> list[str]:
    """Report failed every run in progress whose process is gone (and, given the data root, send
    the alert: the daemon's failure sensor may not be running); returns their run ids."""
    from dagster import DagsterRunStatus, RunsFilter

    in_progress = instance.get_runs(
        filters=RunsFilter(
            statuses=[
                DagsterRunStatus.STARTING,
                DagsterRunStatus.STARTED,
                DagsterRunStatus.CANCELING,
            ]
        )
    )
    failed = []
    for run in in_progress:
        if not process_is_gone(run.tags):
            continue
        message = (
            f"le processus {run.tags[PID_TAG]} qui exécutait ce run a disparu (arrêt brutal, "
            "redémarrage, manque de mémoire) : run déclaré en échec"
        )
        instance.report_run_failed(run, message)
        log(f"run {run.run_id} ({run.job_name}) : {message}")
        if paths is not None:
            from pipelines.service.alerts import record_failure

            record_failure(paths, run.run_id, run.job_name, message)
        failed.append(run.run_id)
    return failed
