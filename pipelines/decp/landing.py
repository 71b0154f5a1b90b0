"""Landing DECP files: user-given files copied into ``raw/local/`` under their checksum, and every
data file under ``raw/`` registered once per distinct content in ``ingest_files``.

A file is identified by the SHA-256 of its content, so the same file met twice is parsed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.common.files import copy_atomically, link_or_copy, printable  # noqa: F401 - re-exported
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import insert_rows
from pipelines.decp.checksums import ChecksumCache, sha256_of  # noqa: F401 - re-exported
from pipelines.decp.formats import GZIP_MAGIC, SUFFIX_BY_FORMAT, sniff_format

Log = Callable[[str], None]


DATA_SUFFIXES = {".json", ".xml", ".csv", ".parquet", ".txt", ".gz", ".dat"}


def quiet(_: str) -> None:
    return None


def is_data_file(name: str) -> bool:
    """Data files are registered; hidden files (partial downloads) and ``_``-prefixed metadata
    files (manifests) are not."""
    return not name.startswith((".", "_")) and Path(name).suffix.lower() in DATA_SUFFIXES


def latest_arrival(folder: Path, wanted: Callable[[str], bool]) -> int:
    """When the last wanted file under ``folder`` arrived or changed: the latest change time
    (ns) of those files, 0 when there are none. Cheap (no read). A file copied, linked or moved
    in, or written again, gets a new change time even with an old modification time (``cp -p``);
    a file removed (an old release pruned) moves nothing: the sensors start a run only when
    this passes their cursor."""
    latest = 0
    if folder.exists():
        for path in folder.rglob("*"):
            if path.is_file() and wanted(path.name):
                stat = path.stat()
                latest = max(latest, stat.st_ctime_ns, stat.st_mtime_ns)
    return latest


def arrived_since(folder: Path, wanted: Callable[[str], bool], cursor: str | None) -> int | None:
    """The latest arrival under ``folder`` when a file arrived after ``cursor`` (a sensor's
    cursor: the latest arrival it saw, or a cursor of an earlier release), else None."""
    latest = latest_arrival(folder, wanted)
    try:
        seen = int(cursor or 0)
    except ValueError:  # an earlier release's cursor ("count:size:newest"): look again once
        seen = 0
    return latest if latest > seen else None


@dataclass(frozen=True)
class RegistrationSummary:
    new_files: int
    known_files: int
    duplicate_content: int


def land_local_files(
    paths: PnadPaths, inputs: Iterable[Path], con: duckdb.DuckDBPyConnection | None = None
) -> list[tuple[Path, Path]]:
    """Copy user-given files (or the data files of given folders) into ``raw/local/``.

    A file named explicitly is taken whatever its name (its format is read from its content, and
    an unreadable one is quarantined with its reason, never skipped silently); in a folder, files
    with a data suffix are taken. Returns (given file, landed file) pairs. Landed files are named
    by their checksum, never by a name from outside; the given path is recorded in
    ``local_landings`` when ``con`` is given, so ``ingest_files.original_name`` can show it.
    """
    target_dir = paths.raw / "local"
    target_dir.mkdir(parents=True, exist_ok=True)
    landed = []
    checksums = ChecksumCache(con)
    for item in inputs:
        item = Path(item).expanduser().resolve()
        if not item.exists():
            raise FileNotFoundError(f"fichier ou dossier introuvable : {item}")
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.is_file() and is_data_file(p.name))
        else:
            files = [item]
        for source in files:
            checksum = checksums.sha256(source)
            fmt, _ = sniff_format(source)
            suffix = SUFFIX_BY_FORMAT.get(fmt or "", source.suffix.lower())
            if suffix not in DATA_SUFFIXES:
                suffix = ".dat"  # still landed: registration quarantines it with the reason
            with source.open("rb") as probe:
                if probe.read(2) == GZIP_MAGIC and suffix != ".gz":
                    suffix += ".gz"  # DuckDB decompresses by extension
            target = target_dir / f"{checksum[:32]}{suffix}"
            if not target.exists():
                link_or_copy(source, target)
                checksums.remember(target, checksum)  # a copy is not read again to register it
            landed.append((source, target))
            if con is not None:
                con.execute(
                    "insert or replace into local_landings values ($path, $original, now())",
                    {
                        "path": target.relative_to(paths.home).as_posix(),
                        "original": printable(str(source)),
                    },
                )
    checksums.save()
    return landed


def received_order(paths: PnadPaths, landings: list[tuple]) -> Callable[[Path], tuple]:
    """The sort key of files in the order they were received: their modification time, or for a
    file ``pnad ingest`` hard-linked into raw/ (which keeps its source's time) when it landed."""
    landed_ns = {relative: int(at.timestamp() * 1e9) for relative, _, at in landings}

    def key(path: Path) -> tuple:
        relative = printable(path.relative_to(paths.home).as_posix())
        return (max(path.stat().st_mtime_ns, landed_ns.get(relative, 0)), path.as_posix())

    return key


def register_raw_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = quiet
) -> RegistrationSummary:
    """Record every data file under ``raw/`` in ``ingest_files`` (once per distinct content)."""
    known = {
        row[0]: row[1]
        for row in con.execute("select relative_path, size_bytes from ingest_files").fetchall()
    }
    known_ids = {row[0] for row in con.execute("select file_id from ingest_files").fetchall()}
    landings = con.execute(
        "select relative_path, original_path, landed_at from local_landings"
    ).fetchall()
    given_names = {relative: original for relative, original, _ in landings}
    next_seq = con.execute("select coalesce(max(ingest_seq), 0) from ingest_files").fetchone()[0]
    duplicate = unchanged = 0
    # Landing order (modification time) is the order files were received: a later file wins
    # ties between versions of a contract published on the same day.
    candidates = sorted(
        (p for p in paths.raw.rglob("*") if p.is_file() and is_data_file(p.name)),
        key=received_order(paths, landings),
    )
    rows, badly_named = [], []
    checksums = ChecksumCache(con)
    for path in candidates:
        relative = printable(path.relative_to(paths.home).as_posix())
        size = path.stat().st_size
        if known.get(relative) == size:
            unchanged += 1  # raw files are immutable: same path and size means already registered
            continue
        checksum = checksums.sha256(path)
        if checksum in known_ids:
            duplicate += 1
            continue
        next_seq += 1
        parts = path.relative_to(paths.raw).parts
        source = parts[0] if len(parts) > 1 else "raw"
        original = Path(given_names.get(relative, printable(path.name))).name  # information only
        if relative != path.relative_to(paths.home).as_posix():
            badly_named.append(checksum)  # its path cannot be stored: set aside, to be renamed
        rows.append(
            (checksum, source, relative, original, size, datetime.now(), next_seq, "registered")
        )
        known_ids.add(checksum)
    checksums.save()
    new = len(rows)
    if rows:
        # one transaction for the whole scan: a daily folder can hold thousands of files
        con.execute("begin transaction")
        try:
            insert_rows(
                con,
                "ingest_files",
                (
                    "file_id",
                    "source",
                    "relative_path",
                    "original_name",
                    "size_bytes",
                    "registered_at",
                    "ingest_seq",
                    "status",
                ),
                rows,
            )
            con.execute(
                "update ingest_files set status = 'quarantined', status_reason = "
                "'nom de fichier illisible (octets hors UTF-8) : renommez le fichier pour qu''il "
                "soit lu' where file_id in (select unnest($ids))",
                {"ids": badly_named},
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    if new:
        log(f"{new} nouveau(x) fichier(s) enregistré(s) ; {unchanged} déjà connu(s)")
    return RegistrationSummary(new_files=new, known_files=unchanged, duplicate_content=duplicate)


def forget_source(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Remove every trace of one source's files from the working database (used when the demo
    data are regenerated); returns the number of files forgotten."""
    con.execute("begin transaction")
    try:
        ids = [
            row[0]
            for row in con.execute(
                "select file_id from ingest_files where source = $source", {"source": source}
            ).fetchall()
        ]
        for table in ("stg_decp_records", "ingest_rejects", "ingest_unknown_keys"):
            con.execute(
                f"delete from {table} where file_id in (select unnest($ids))",  # noqa: S608 - fixed names
                {"ids": ids or [""]},
            )
        con.execute("delete from ingest_files where source = $source", {"source": source})
        con.execute("delete from source_releases where source = $source", {"source": source})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(ids)
