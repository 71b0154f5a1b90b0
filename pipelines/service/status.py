"""What an operator needs to know, in one look: is the published data current, did the last runs
succeed, is the daemon alive, what each source last delivered, which files were set aside, how
much disk is used — and what needs attention. Read from the published database (never the
working one: a run may hold it), the data root's Dagster instance and the file system, so it
answers while a refresh runs. Runs whose process died are failed on the way (and alerted)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.common.clock import paris_now, paris_time
from pipelines.common.paths import PnadPaths
from pipelines.service.alerts import ALERTS_LOG
from pipelines.service.instance import install_instance
from pipelines.service.runs import fail_dead_runs
from pipelines.service.settings import service_settings_or_defaults

FAILED_RUNS_DAYS = 7
# A source whose last release is older than this many days is flagged (data.gouv.fr sources
# publish on working days: four days cover a long weekend).
SOURCE_STALE_DAYS = 4
# The daemon writes a heartbeat every few seconds; older than this, it is not running.
DAEMON_SILENT_MINUTES = 5
REFRESH_JOBS = ("pnad_refresh", "pnad_update")


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
            releases = _releases(con)
    except duckdb.Error as error:
        return {"error": str(error).splitlines()[0]}
    return {
        "published_at": published_at,
        "run_id": run_id,
        "contracts": contracts,
        "sources": sources,
        "files": files,
        "releases": releases,
    }


def _releases(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per snapshot source: the release in use of each stream, and the releases set aside since
    (a publication that could not be read or shrank: the previous one stays in use)."""
    published = con.execute(
        "select count(*) from duckdb_views() where view_name = 'source_releases'"
    ).fetchone()[0]
    if not published:  # a database published before snapshot sources were told apart
        return []
    cursor = con.execute(
        "with ranked as (select *, max(received_at) filter (where outcome = 'in_use') "
        "over (partition by source, stream) as in_use_at from source_releases) "
        "select source, stream, outcome, received_at, file_id as checksum, records, contracts, "
        "added, removed, reason from ranked where outcome = 'in_use' or (outcome = "
        "'quarantined' and (in_use_at is null or received_at > in_use_at)) "
        "order by source, stream, received_at"
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _runs(paths: PnadPaths) -> dict:
    """Runs of the data root's instance: the last successful refresh, runs in progress, failures
    of the last days and those not followed by a success, the daemon's last heartbeat."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(install_instance(paths))) as instance:
        fail_dead_runs(instance, paths=paths)
        records = instance.get_run_records(
            filters=dg.RunsFilter(
                created_after=datetime.now(UTC) - timedelta(days=FAILED_RUNS_DAYS)
            ),
            limit=500,
        )
        heartbeats = instance.get_daemon_heartbeats()
        last_success = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], job_name=None),
            limit=50,
        )
    runs = [
        {
            "job": record.dagster_run.job_name,
            "run_id": record.dagster_run.run_id,
            "status": record.dagster_run.status.value,
            "at": paris_time(record.end_time or record.start_time)
            or paris_time(record.create_timestamp.timestamp()),
        }
        for record in records
    ]
    refreshes = [r for r in last_success if r.dagster_run.job_name in REFRESH_JOBS and r.end_time]
    newest_success = {}
    for run in runs:
        if run["status"] == "SUCCESS" and run["job"] not in newest_success:
            newest_success[run["job"]] = run["at"]
    beat = max((h.timestamp for h in heartbeats.values()), default=None)
    return {
        "last_success": None
        if not refreshes
        else {
            "job": refreshes[0].dagster_run.job_name,
            "at": paris_time(refreshes[0].end_time),
        },
        "in_progress": [r for r in runs if r["status"] in ("QUEUED", "STARTING", "STARTED")],
        "failed": [r for r in runs if r["status"] == "FAILURE"],
        # a failure still unanswered: no success of the same job since
        "unresolved": [
            r
            for r in runs
            if r["status"] == "FAILURE"
            and (r["job"] not in newest_success or newest_success[r["job"]] < r["at"])
        ],
        "daemon_heartbeat": paris_time(beat),
    }


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


def _freshness(published: dict, last_success: dict | None, now: datetime, settings) -> str:
    """Current, late or stale: counted from the last time the data was confirmed current (a
    publication, or a later successful refresh that found nothing new to publish)."""
    confirmed = published["published_at"]
    if last_success and last_success["at"] and last_success["at"] > confirmed:
        confirmed = last_success["at"]
    age = now - confirmed
    if age > timedelta(hours=settings.fail_after_hours):
        return "périmée"
    if age > timedelta(hours=settings.warn_after_hours):
        return "en retard"
    return "à jour"


def _source_rows(published: dict | None, now: datetime) -> list[dict]:
    rows = []
    releases = (published or {}).get("releases", [])
    for source, outcome, at, checksum, reason, last_release in (published or {}).get("sources", []):
        rows.append(
            {
                "source": source,
                "last_outcome": outcome,
                "last_attempt": at,
                "last_release": last_release,
                "checksum": checksum,
                "reason": reason,
                "stale": last_release is None
                or now - last_release > timedelta(days=SOURCE_STALE_DAYS),
                "failing": outcome in ("failed", "quarantined"),
                # snapshot sources: the release in use, and those set aside since
                "releases": [r for r in releases if r["source"] == source],
            }
        )
    return rows


def service_status(paths: PnadPaths, now: datetime | None = None) -> dict:
    """Everything `pnad status` says, and ``attention``: the reasons an operator must act (empty
    when all is well)."""
    now = now or paris_now()
    settings, settings_problem = service_settings_or_defaults(paths)
    published = _published(paths)
    runs = _runs(paths)
    attention = [f"réglages ignorés : {settings_problem}"] if settings_problem else []
    freshness = "absente"
    if published is None:
        attention.append("aucune base publiée : lancez `pnad run` (ou `pnad demo`)")
    elif "error" in published:
        attention.append(f"base publiée illisible : {published['error']}")
    else:
        freshness = _freshness(published, runs["last_success"], now, settings.freshness)
        if freshness != "à jour":
            attention.append(f"base publiée {freshness} : dernière publication le "
                             f"{published['published_at']:%d/%m/%Y à %H:%M}")  # fmt: skip
        if not published["contracts"]:
            attention.append("la base publiée ne contient aucun contrat")
    sources = _source_rows(published, now)
    for source in sources:
        if source["failing"]:
            attention.append(f"source {source['source']} : dernier essai en échec "
                             f"({source['reason']})")  # fmt: skip
        elif source["stale"]:
            attention.append(f"source {source['source']} : rien de neuf depuis plus de "
                             f"{SOURCE_STALE_DAYS} jours")  # fmt: skip
        for release in source["releases"]:
            if release["outcome"] == "quarantined":
                attention.append(f"source {source['source']} : publication reçue le "
                                 f"{release['received_at']:%d/%m/%Y} mise de côté "
                                 f"({release['reason']})")  # fmt: skip
    files = [
        {"file": path, "status": status, "reason": reason}
        for path, status, reason in (published or {}).get("files", [])
    ]
    if files:
        attention.append(f"{len(files)} fichier(s) mis de côté (voir ci-dessus)")
    for run in runs["unresolved"]:
        attention.append(f"échec de {run['job']} le {run['at']:%d/%m/%Y à %H:%M}, sans "
                         "réussite depuis")  # fmt: skip
    daemon = runs["daemon_heartbeat"]
    daemon_alive = daemon is not None and now - daemon < timedelta(minutes=DAEMON_SILENT_MINUTES)
    if settings.automation.enabled and not daemon_alive:
        attention.append("automatisation allumée mais le démon Dagster ne tourne pas "
                         "(voir README, « In service »)")  # fmt: skip
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
        "runs_in_progress": runs["in_progress"],
        "failed_runs": runs["failed"],
        "automation": settings.automation.enabled,
        "daemon_alive": daemon_alive,
        "daemon_heartbeat": daemon,
        "sources": sources,
        "files_set_aside": files,
        "alerts_log": str(alerts) if alerts.is_file() else None,
        "disk_bytes": disk_usage(paths),
        "disk_free_bytes": shutil.disk_usage(paths.home if paths.home.exists() else "/").free,
        "attention": attention,
    }
