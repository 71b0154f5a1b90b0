"""The service watching itself: a failed run is written to ``$PNAD_HOME/alerts.log`` and sent
where configured; a run whose process died is failed so that the queue moves on. Both sensors
are on as soon as the daemon runs. Logic: ``pipelines/service/``."""

import dagster as dg

from pipelines.common.paths import PnadPaths
from pipelines.service.alerts import record_failure
from pipelines.service.runs import fail_dead_runs


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes each failed run to PNAD_HOME/alerts.log and sends it by e-mail or to a "
    "webhook when service.toml [alerts] says so.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext):
    error = context.failure_event.message or "échec sans message"
    failed_steps = [event.step_key for event in context.get_step_failure_events() if event.step_key]
    reason = error + (f" (étapes en échec : {', '.join(failed_steps)})" if failed_steps else "")
    record_failure(
        PnadPaths.resolve(), context.dagster_run.run_id, context.dagster_run.job_name, reason
    )


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails the runs whose process died (a kill, a crash, a reboot), so that the "
    "queue never jams on ghosts.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext):
    failed = fail_dead_runs(context.instance, context.log.warning, PnadPaths.resolve())
    return dg.SkipReason(
        f"{len(failed)} run(s) sans processus déclarés en échec" if failed else "aucun run fantôme"
    )
