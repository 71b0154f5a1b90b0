"""Snapshot sources: each release replaces the previous one of its resource whole.

A source that publishes "snapshot" (sources.toml: decp.parquet, a data.economie export, a
ministry consolidation) republishes everything each time. Once a new release is parsed, it is
decided here: one that reads well replaces the release in use (the previous release's staged
records, rejects and unknown keys are removed by file_id, its file marked ``superseded``), so a
contract the source withdrew leaves the contract model, and the contracts added and removed are
counted; one that could not be read, or that shrank below the source's ``shrink_guard``, is
quarantined with its reason (French) and the previous release stays in use. Old raw release
files are then removed beyond ``keep_releases``; their checksums stay in ``ingest_files`` (and
``download_manifest``), so the same file landing again is not read again. Each decision is one
transaction: a process killed in between leaves the previous state, decided again next run.
Table: ``source_releases`` (``sql/decp/staging/create_source_releases.sql``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import run_sql
from pipelines.decp.sources import Source, load_sources

Log = Callable[[str], None]

# The resource a landed file republishes: its name without the content hash the project gave it
# (`decp_consolidated-<16 hex>.parquet` -> decp_consolidated; a dataset's resource keeps its key).
STREAM = (
    "coalesce(nullif(regexp_extract(f.relative_path, '([^/]+)-[0-9a-f]{16}[^/]*$', 1), ''), "
    "f.source)"
)

# Tables holding a release's staged rows, removed by file_id when it leaves (fixed names).
STAGED_TABLES = ("stg_decp_records", "ingest_rejects", "ingest_unknown_keys")


@dataclass(frozen=True)
class Release:
    file_id: str
    source: str
    stream: str
    relative_path: str
    received_at: datetime
    status: str
    status_reason: str | None
    records: int
    guard_waived: bool


def apply_releases(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    log: Log,
    sources: list[Source] | None = None,
) -> dict[str, int]:
    """Decide every snapshot release parsed since the last run, in the order received, then
    prune old raw releases; returns counts (releases put in use, quarantined, contracts
    removed by the sources, raw files pruned)."""
    snapshots = {s.name: s for s in (sources or load_sources(paths)) if s.is_snapshot}
    counts = {"releases_in_use": 0, "releases_quarantined": 0, "contracts_removed": 0}
    run_sql(con, "decp/staging/create_source_releases")
    if not snapshots:
        return {**counts, "raw_files_pruned": 0}
    for release in _pending(con, list(snapshots)):
        current = _in_use(con, release)
        reason = _refusal(release, current, snapshots[release.source])
        if reason:
            _quarantine(con, release, current, reason)
            counts["releases_quarantined"] += 1
            log(describe(release.source, "quarantined", reason=reason))
            continue
        added, removed, contracts = _replace(con, release, current)
        counts["releases_in_use"] += 1
        counts["contracts_removed"] += removed
        log(describe(release.source, "in_use", (contracts, added, removed)))
    pruned = prune_releases(con, paths, list(snapshots.values()), log)
    return {**counts, "raw_files_pruned": pruned}


def describe(
    source: str,
    outcome: str,
    changes: tuple[int, int, int] | None = None,
    reason: str | None = None,
) -> str:
    """What became of a release, in French: put in use with its contracts, or set aside."""
    if outcome != "in_use":
        return f"{source} : publication mise de côté : {reason}"
    contracts, added, removed = changes or (0, 0, 0)
    return (
        f"{source} : nouvelle publication en usage ({number_fr(contracts)} contrats ; par "
        f"rapport à la précédente : {number_fr(added)} ajouté(s), {number_fr(removed)} retiré(s))"
    )


def decided_since(con: duckdb.DuckDBPyConnection, since: datetime) -> list[str]:
    """The releases decided since a moment (a `pnad run`), described in French."""
    rows = con.execute(
        "select source, outcome, contracts, added, removed, reason from source_releases "
        "where decided_at >= $since and outcome in ('in_use', 'replaced', 'quarantined') "
        "order by decided_at",
        {"since": since},
    ).fetchall()
    return [
        describe(source, "quarantined" if outcome == "quarantined" else "in_use", tuple(c), reason)
        for source, outcome, *c, reason in rows
    ]


def _pending(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[Release]:
    """Release files read (or set aside) and not decided yet, or given back by `pnad retry`."""
    rows = con.execute(
        f"select f.file_id, f.source, {STREAM} as stream, f.relative_path, "  # noqa: S608 - fixed
        "f.registered_at, f.status, f.status_reason, "
        "coalesce(f.records_read, 0) - coalesce(f.records_rejected, 0), "
        "coalesce(r.outcome = 'retry', false) "
        "from ingest_files as f left join source_releases as r using (file_id) "
        "where f.source in (select unnest($names)) "
        "and f.status in ('parsed', 'quarantined', 'unsupported') "
        "and (r.file_id is null or r.outcome = 'retry') order by f.ingest_seq",
        {"names": names},
    ).fetchall()
    return [Release(*row) for row in rows]


def _in_use(con: duckdb.DuckDBPyConnection, release: Release) -> tuple[str, int, datetime] | None:
    """The release of the same stream in use: (file_id, usable records, received_at)."""
    return con.execute(
        "select file_id, records, received_at from source_releases "
        "where source = $source and stream = $stream and outcome = 'in_use'",
        {"source": release.source, "stream": release.stream},
    ).fetchone()


def _refusal(
    release: Release, current: tuple[str, int, datetime] | None, source: Source
) -> str | None:
    """Why the release cannot replace the one in use (French), or None."""
    stays = (
        f"la publication reçue le {current[2]:%d/%m/%Y} reste en usage"
        if current
        else "aucune publication de cette source n'est en usage"
    )
    if release.status != "parsed":
        return f"illisible ({release.status_reason or release.status}) ; {stays}"
    if release.guard_waived or source.shrink_guard <= 0:
        return None
    if release.records == 0:
        return f"aucun enregistrement utilisable ; {stays}"
    if current and release.records < source.shrink_guard * current[1]:
        return (
            f"publication réduite : {number_fr(release.records)} enregistrements utilisables "
            f"contre {number_fr(current[1])} dans la précédente (moins de "
            f"{percent_fr(source.shrink_guard, 0)}, shrink_guard) ; {stays} ; "
            f"`pnad retry {release.file_id[:12]}` la prend quand même"
        )
    return None


def _remove_staged(con: duckdb.DuckDBPyConnection, file_id: str) -> None:
    for table in STAGED_TABLES:
        con.execute(
            f"delete from {table} where file_id = $file_id",  # noqa: S608 - fixed names
            {"file_id": file_id},
        )


def _record(
    con: duckdb.DuckDBPyConnection,
    release: Release,
    current: tuple[str, int, datetime] | None,
    outcome: str,
    changes: tuple[int | None, int | None, int | None] = (None, None, None),
    reason: str | None = None,
) -> None:
    contracts, added, removed = changes
    con.execute(
        "insert or replace into source_releases (file_id, source, stream, relative_path, "
        "received_at, decided_at, records, contracts, previous_file_id, previous_records, added, "
        "removed, outcome, reason) values ($file_id, $source, $stream, $path, $received, now(), "
        "$records, $contracts, $previous, $previous_records, $added, $removed, $outcome, $reason)",
        {
            "file_id": release.file_id,
            "source": release.source,
            "stream": release.stream,
            "path": release.relative_path,
            "received": release.received_at,
            "records": release.records,
            "contracts": contracts,
            "previous": current[0] if current else None,
            "previous_records": current[1] if current else None,
            "added": added,
            "removed": removed,
            "outcome": outcome,
            "reason": reason,
        },
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    release: Release,
    current: tuple[str, int, datetime] | None,
    reason: str,
) -> None:
    """Set the release aside (its staged rows removed when it was read) and keep the one in use."""
    con.execute("begin transaction")
    try:
        if release.status == "parsed":
            _remove_staged(con, release.file_id)
            con.execute(
                "update ingest_files set status = 'quarantined', status_reason = $reason "
                "where file_id = $file_id",
                {"reason": reason, "file_id": release.file_id},
            )
            con.execute(
                "insert into ingest_rejects (file_id, position, reason, raw_excerpt) "
                "values ($file_id, null, $reason, null)",
                {"file_id": release.file_id, "reason": f"fichier entier mis de côté : {reason}"},
            )
        _record(con, release, current, "quarantined", reason=reason)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _replace(
    con: duckdb.DuckDBPyConnection, release: Release, current: tuple[str, int, datetime] | None
) -> tuple[int, int, int]:
    """Put the release in use: the previous one's staged rows leave, its file is superseded, and
    so are the releases of the stream set aside before it (a newer good release answers them).
    Returns (added, removed, contracts)."""
    previous = current[0] if current else None
    contracts, added, removed = run_sql(
        con,
        "decp/staging/release_contract_changes",
        {"new_file": release.file_id, "previous_file": previous},
    ).fetchone()
    con.execute("begin transaction")
    try:
        if previous:
            _remove_staged(con, previous)
            con.execute(
                "update source_releases set outcome = 'replaced' where file_id = $file_id",
                {"file_id": previous},
            )
        replaced = (
            f"remplacée par la publication reçue le {release.received_at:%d/%m/%Y à %H:%M} "
            f"({release.file_id[:12]})"
        )
        con.execute(
            "update ingest_files set status = 'superseded', status_reason = $reason || "
            "coalesce(' ; était : ' || status_reason, '') "
            "where file_id in (select file_id from source_releases where source = $source "
            "and stream = $stream and outcome in ('replaced', 'quarantined')) "
            "and status in ('parsed', 'quarantined', 'unsupported') "
            "and ingest_seq < (select ingest_seq from ingest_files where file_id = $file_id)",
            {
                "reason": replaced,
                "source": release.source,
                "stream": release.stream,
                "file_id": release.file_id,
            },
        )
        _record(con, release, current, "in_use", (contracts, added, removed))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return added, removed, contracts


def prune_releases(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, sources: list[Source], log: Log
) -> int:
    """Remove the raw files of each stream's releases beyond its source's keep_releases newest
    (the release in use is always kept); their rows and checksums stay. Returns files removed."""
    removed = 0
    for source in sources:
        rows = con.execute(
            "select r.file_id, r.relative_path, r.outcome, row_number() over (partition by "
            "r.stream order by f.ingest_seq desc) as newest_rank "
            "from source_releases as r join ingest_files as f using (file_id) "
            "where r.source = $source",
            {"source": source.name},
        ).fetchall()
        for file_id, relative, outcome, rank in rows:
            if rank <= source.keep_releases or outcome not in ("replaced", "quarantined"):
                continue
            path = paths.home / relative
            if path.is_file():
                path.unlink()
                removed += 1
                log(
                    f"{source.name} : fichier brut {relative} supprimé (keep_releases = "
                    f"{source.keep_releases}) ; son empreinte reste connue"
                )
            con.execute(
                "update source_releases set raw_pruned_at = coalesce(raw_pruned_at, now()) "
                "where file_id = $file_id",
                {"file_id": file_id},
            )
    return removed


def waive_guard(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> None:
    """`pnad retry` of a release set aside: decided again when read, without the shrink guard
    (the operator says the shrink is real)."""
    run_sql(con, "decp/staging/create_source_releases")
    con.execute(
        "update source_releases set outcome = 'retry' "
        "where file_id in (select unnest($ids)) and outcome = 'quarantined'",
        {"ids": file_ids},
    )
