"""Landing and parsing DECP files: register raw files by checksum, detect their format from their
content, parse new ones into ``stg_decp_records``, and quarantine what cannot be read.

A file is identified by the SHA-256 of its content, so the same file met twice is parsed once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.lib.paths import PnadPaths
from pipelines.lib.sql import run_sql

Log = Callable[[str], None]
DATA_SUFFIXES = {".json", ".xml", ".csv", ".parquet", ".txt", ".gz"}
# Errors that mean "this file cannot be read"; any other DuckDB error is a bug and is raised.
FILE_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)
BATCH_BYTES = 256 * 1024 * 1024  # bounds the memory one parsing batch may take
SNIFF_BYTES = 64 * 1024


def _quiet(_: str) -> None:
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_format(path: Path) -> tuple[str | None, str | None]:
    """(format, reason): the format read from the first bytes, or why the file is unusable."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        return None, "empty file"
    if head.startswith(b"PAR1"):
        return "parquet", None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        if b'"marches"' in text:
            return "decp-json", None
        return None, 'JSON without a "marches" root: not a DECP file'
    if text[:1] == b"<":
        start = text[:512].lower()
        if b"<html" in start or b"<!doctype html" in start:
            return None, "HTML page (an error page saved as a data file?)"
        return "xml", None
    if b";" in text.split(b"\n", 1)[0] or b"," in text.split(b"\n", 1)[0]:
        return "csv", None
    return None, "unrecognised content (not JSON, XML, CSV or Parquet)"


@dataclass(frozen=True)
class RegistrationSummary:
    new_files: int
    known_files: int
    duplicate_content: int


def land_local_files(paths: PnadPaths, inputs: Iterable[Path]) -> list[tuple[Path, Path]]:
    """Copy user-given files (or the data files of given folders) into ``raw/local/``.

    Returns (given file, landed file) pairs. Landed files are named by their checksum: a name
    from outside is never used as a path.
    """
    target_dir = paths.raw / "local"
    target_dir.mkdir(parents=True, exist_ok=True)
    landed = []
    for item in inputs:
        item = Path(item).expanduser().resolve()
        if not item.exists():
            raise FileNotFoundError(f"no such file or folder: {item}")
        files = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for source in files:
            if source.name.startswith(".") or source.suffix.lower() not in DATA_SUFFIXES:
                continue
            checksum = sha256_of(source)
            suffix = source.suffix.lower() if source.suffix.lower() in DATA_SUFFIXES else ".dat"
            target = target_dir / f"{checksum[:32]}{suffix}"
            if not target.exists():
                partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
                shutil.copyfile(source, partial)
                os.replace(partial, target)  # atomic: a reader never sees half a file
            landed.append((source, target))
    return landed


def register_raw_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = _quiet
) -> RegistrationSummary:
    """Record every data file under ``raw/`` in ``ingest_files`` (once per distinct content)."""
    known = {
        row[0]: row[1]
        for row in con.execute("select relative_path, size_bytes from ingest_files").fetchall()
    }
    known_ids = {row[0] for row in con.execute("select file_id from ingest_files").fetchall()}
    next_seq = con.execute("select coalesce(max(ingest_seq), 0) from ingest_files").fetchone()[0]
    new = duplicate = unchanged = 0
    candidates = sorted(
        p for p in paths.raw.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES
    )
    for path in candidates:
        relative = path.relative_to(paths.home).as_posix()
        size = path.stat().st_size
        if known.get(relative) == size:
            unchanged += 1  # raw files are immutable: same path and size means already registered
            continue
        checksum = sha256_of(path)
        if checksum in known_ids:
            duplicate += 1
            continue
        next_seq += 1
        source = path.relative_to(paths.raw).parts[0] if len(path.relative_to(paths.raw).parts) > 1 else "raw"
        con.execute(
            """
            insert into ingest_files (file_id, source, relative_path, original_name, size_bytes,
                                      registered_at, ingest_seq, status)
            values ($file_id, $source, $relative_path, $original_name, $size, $now, $seq, 'registered')
            """,
            {
                "file_id": checksum,
                "source": source,
                "relative_path": relative,
                "original_name": path.name,
                "size": size,
                "now": datetime.now(),
                "seq": next_seq,
            },
        )
        known_ids.add(checksum)
        new += 1
    if new:
        log(f"registered {new} new raw file(s); {unchanged} already known")
    return RegistrationSummary(new_files=new, known_files=unchanged, duplicate_content=duplicate)


def _set_status(con: duckdb.DuckDBPyConnection, file_id: str, status: str, reason: str | None,
                fmt: str | None = None) -> None:
    con.execute(
        "update ingest_files set status = $status, status_reason = $reason, format = $format, "
        "records_read = 0, records_rejected = 0, parsed_at = now() where file_id = $file_id",
        {"status": status, "reason": reason, "format": fmt, "file_id": file_id},
    )
    if status == "quarantined":
        con.execute(
            "insert into ingest_rejects (file_id, position, reason, raw_excerpt) "
            "values ($file_id, null, $reason, null)",
            {"file_id": file_id, "reason": f"whole file quarantined: {reason}"},
        )


def _parse_json_batch(con: duckdb.DuckDBPyConnection, batch: list[tuple[str, str]]) -> None:
    """Parse DECP JSON files in one DuckDB pass; raises if any file of the batch is unreadable."""
    con.execute("create or replace temp table batch_files (file_id varchar, path varchar)")
    con.executemany("insert into batch_files values (?, ?)", batch)
    con.execute("begin transaction")
    try:
        run_sql(con, "staging/batch_decp_json_documents", {"paths": [path for _, path in batch]})
        run_sql(con, "staging/batch_decp_json_records")
        run_sql(con, "staging/insert_ingest_rejects")
        run_sql(con, "staging/insert_stg_decp_records")
        run_sql(con, "staging/update_ingest_files_parsed")
        for (file_id,) in con.execute(
            "select file_id from batch_documents where marches is null"
        ).fetchall():
            _set_status(con, file_id, "quarantined", 'no "marches" root in the JSON document')
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def parse_pending_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = _quiet
) -> dict[str, int]:
    """Parse every registered file not parsed yet; returns counts by outcome."""
    pending = con.execute(
        "select file_id, relative_path, size_bytes from ingest_files "
        "where status = 'registered' order by ingest_seq"
    ).fetchall()
    outcome = {"parsed": 0, "quarantined": 0, "unsupported": 0}
    json_files: list[tuple[str, str, int]] = []
    for file_id, relative, size in pending:
        path = paths.home / relative
        fmt, reason = sniff_format(path)
        if reason:
            _set_status(con, file_id, "quarantined", reason)
            outcome["quarantined"] += 1
            log(f"quarantined {relative}: {reason}")
        elif fmt != "decp-json":
            _set_status(con, file_id, "unsupported", f"format {fmt} is not read yet", fmt)
            outcome["unsupported"] += 1
            log(f"left aside {relative}: format {fmt} is not read yet")
        else:
            json_files.append((file_id, str(path), size))

    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    current_bytes = 0
    for file_id, path, size in json_files:
        if current and current_bytes + size > BATCH_BYTES:
            batches.append(current)
            current, current_bytes = [], 0
        current.append((file_id, path))
        current_bytes += size
    if current:
        batches.append(current)

    done = 0
    for batch in batches:
        try:
            _parse_json_batch(con, batch)
        except FILE_ERRORS:
            # One unreadable file fails the whole batch: retry file by file to isolate it.
            for file_id, path in batch:
                try:
                    _parse_json_batch(con, [(file_id, path)])
                except FILE_ERRORS as error:
                    reason = str(error).strip().splitlines()[0][:300]
                    _set_status(con, file_id, "quarantined", f"unreadable JSON: {reason}")
                    log(f"quarantined {path}: {reason}")
        done += len(batch)
        log(f"parsed {done}/{len(json_files)} DECP JSON file(s)")
    statuses = dict(
        con.execute(
            "select status, count(*) from ingest_files where file_id in "
            "(select unnest($ids)) group by status",
            {"ids": [file_id for file_id, _, _ in json_files] or [""]},
        ).fetchall()
    )
    outcome["parsed"] += statuses.get("parsed", 0)
    outcome["quarantined"] += statuses.get("quarantined", 0)
    return outcome


def forget_source(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Remove every trace of one source's files from the working database (used when the demo
    data are regenerated); returns the number of files forgotten."""
    con.execute("begin transaction")
    try:
        ids = [row[0] for row in con.execute(
            "select file_id from ingest_files where source = $source", {"source": source}
        ).fetchall()]
        for table in ("stg_decp_records", "ingest_rejects"):
            con.execute(
                f"delete from {table} where file_id in (select unnest($ids))",  # noqa: S608 - fixed names
                {"ids": ids or [""]},
            )
        con.execute("delete from ingest_files where source = $source", {"source": source})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(ids)
