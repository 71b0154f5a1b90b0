"""What an operator needs to know, in one look: is the published data current, did the last runs
succeed, what each source last delivered, which files were set aside, how much disk is used.
Read from the published database (never the working one: a run may hold it), the data root's
Dagster instance and the file system, so it answers while a refresh runs."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.common.paths import PnadPaths
from pipelines.service.alerts import ALERTS_LOG
from pipelines.service.settings import load_service_settings

FAILED_RUNS_DAYS = 7
# A source whose last release is older than this many days is flagged (data.gouv.fr sources
# publish on working days: four days cover a long weekend).
SOURCE_STALE_DAYS = 4


def _published(paths: PnadPaths) -> dict | None:
    """The publication and, per source, its latest download and files, from pnad.duckdb."""
    if not paths.published_db.is_file():
        return None
    try:
        with duckdb.connect(str(paths.published_db), read_only=True) as con:
            published_at, run_id, contracts = con.execute(
                "select published_at, run_id, contracts from publication"
            ).fetchone()
            sources = con.execute(
                "with last as (select * from download_manifest qualify row_number() over "
                "(partition by source order by fetched_at desc) = 1), "
                "good as (select source, max(fetched_at) as last_release from download_manifest "
                "where outcome in ('downloaded', 'unchanged', 'not_modified') group by source) "
                "select source, outcome, fetched_at, coalesce(sha256, checksum), reason, "
                "good.last_release from last left join good using (source) order by source"
            ).fetchall()
            files = con.execute(
                "select relative_path, status, coalesce(status_reason, '') from ingest_files "
                "where status not in ('parsed', 'superseded') order by registered_at"
            ).fetchall()
    except duckdb.Error as error:
        return {"error": str(error).splitlines()[0]}
    return {
        "published_at": published_at,
        "run_id": run_id,
        "contracts": contracts,
        "sources": sources,
        "files": files,
    }


def _runs(paths: PnadPaths, now: datetime) -> dict:
    """The last successful refresh and the runs failed in the last days, from the instance."""
    instance_home = paths.home / "dagster"
    if not (instance_home / "dagster.yaml").is_file():
        return {"last_success": None, "failed": []}
    import dagster as dg

    with dg.DagsterInstance.from_config(str(instance_home)) as instance:
        succeeded = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], job_name="pnad_update"),
            limit=1,
        ) or instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1
        )
        failed = instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.FAILURE],
                updated_after=now - timedelta(days=FAILED_RUNS_DAYS),
            ),
            limit=20,
        )
        last = succeeded[0] if succeeded else None
        return {
            "last_success": None
            if last is None
            else {"job": last.dagster_run.job_name, "at": _local(last.end_time)},
            "failed": [
                {
                    "job": record.dagster_run.job_name,
                    "run_id": record.dagster_run.run_id,
                    "at": _local(record.end_time or record.update_timestamp.timestamp()),
                }
                for record in failed
            ],
        }


def _local(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp)


def disk_usage(paths: PnadPaths) -> dict[str, int]:
    """Bytes used under raw/, work/, reports/ and the instance."""
    usage = {}
    for name in ("raw", "work", "reports", "dagster"):
        folder = paths.home / name
        usage[name] = (
            sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
            if folder.exists()
            else 0
        )
    return usage


def service_status(paths: PnadPaths, now: datetime | None = None) -> dict:
    """Everything `pnad status` says, and ``attention``: the reasons an operator must act (empty
    when all is well)."""
    now = now or datetime.now()
    settings = load_service_settings(paths).freshness
    published = _published(paths)
    runs = _runs(paths, now)
    attention = []
    freshness = "absente"
    if published is None:
        attention.append("aucune base publiée : lancez `pnad run` (ou `pnad demo`)")
    elif "error" in published:
        attention.append(f"base publiée illisible : {published['error']}")
    else:
        age = now - published["published_at"]
        freshness = (
            "périmée"
            if age > timedelta(hours=settings.fail_after_hours)
            else "en retard"
            if age > timedelta(hours=settings.warn_after_hours)
            else "à jour"
        )
        if freshness != "à jour":
            attention.append(
                f"publication {freshness} : dernière le {published['published_at']:%d/%m/%Y %H:%M}"
            )
    sources = []
    for source, outcome, at, checksum, reason, last_release in (published or {}).get("sources", []):
        stale = last_release is None or now - last_release > timedelta(days=SOURCE_STALE_DAYS)
        failing = outcome in ("failed", "quarantined")
        sources.append(
            {
                "source": source,
                "last_outcome": outcome,
                "last_attempt": at,
                "last_release": last_release,
                "checksum": checksum,
                "reason": reason,
                "stale": stale,
                "failing": failing,
            }
        )
        if failing:
            attention.append(f"source {source} : dernier essai en échec ({reason})")
        elif stale:
            attention.append(
                f"source {source} : rien de neuf depuis plus de {SOURCE_STALE_DAYS} jours"
            )
    files = [
        {"file": path, "status": status, "reason": reason}
        for path, status, reason in (published or {}).get("files", [])
    ]
    if files:
        attention.append(f"{len(files)} fichier(s) mis de côté (voir ci-dessous)")
    if runs["failed"]:
        attention.append(
            f"{len(runs['failed'])} run(s) en échec ces {FAILED_RUNS_DAYS} derniers jours"
        )
    alerts = paths.home / ALERTS_LOG
    return {
        "data_root": str(paths.home),
        "now": now,
        "published": None
        if published is None or "error" in published
        else {
            "at": published["published_at"],
            "run_id": published["run_id"],
            "contracts": published["contracts"],
            "freshness": freshness,
        },
        "last_successful_run": runs["last_success"],
        "failed_runs": runs["failed"],
        "sources": sources,
        "files_set_aside": files,
        "alerts_log": str(alerts) if alerts.is_file() else None,
        "disk_bytes": disk_usage(paths),
        "disk_free_bytes": shutil.disk_usage(paths.home if paths.home.exists() else Path("/")).free,
        "attention": attention,
    }
