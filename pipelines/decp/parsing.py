"""Parsing the registered DECP files into ``stg_decp_records``: files grouped in batches by
format, each batch stored in one transaction, an unreadable file isolated and set aside with its
reason (``ingest_files.status_reason``, in French), a file whose reading stopped the process read
alone in a child process first (``set_aside.py``). SQL: ``sql/decp/staging/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from pipelines.common import progress as progress_display
from pipelines.common.formatting import number_fr
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.sql import checkpoint_after_bulk_write, insert_rows, run_sql
from pipelines.decp import json_reading
from pipelines.decp.formats import (
    FORMAT_LABELS,
    PARSERS,
    SUFFIX_BY_FORMAT,
    content_size,
    sniff_format,
    utf8_copy,
)
from pipelines.decp.json_reading import json_parts, xml_as_json
from pipelines.decp.landing import Log, quiet
from pipelines.decp.parts import FILE_ERRORS, Part, UnusableFileError
from pipelines.decp.releases import apply_releases
from pipelines.decp.set_aside import record_set_aside, stopping_files
from pipelines.decp.tabular import tabular_parts

# JSON bytes per parsing batch of ordinary files (a daily file is a few MB): bounds the memory a
# batch takes; larger batches parallelise better and commit less often.
BATCH_BYTES = 128 * 1024 * 1024


# Errors that mean "reading this file costs more than it may": the file is set aside with the
# reason, the others are read (a deeply nested document, a record larger than the memory bound).
RESOURCE_ERRORS = (RecursionError, MemoryError, duckdb.OutOfMemoryException)


def _set_status(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    status: str,
    reason: str | None,
    fmt: str | None = None,
) -> None:
    con.execute(
        "update ingest_files set status = $status, status_reason = $reason, format = $format, "
        "records_read = 0, records_rejected = 0, parsed_at = now() where file_id = $file_id",
        {"status": status, "reason": reason, "format": fmt, "file_id": file_id},
    )
    if status == "quarantined":
        con.execute(
            "insert into ingest_rejects (file_id, position, reason, raw_excerpt) "
            "values ($file_id, null, $reason, null)",
            {"file_id": file_id, "reason": f"fichier entier mis de côté : {reason}"},
        )


def _parse_batch(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    progress: ParseProgress,
    repair: bool = False,
) -> None:
    """Parse a batch of files of one format (stored in one transaction, a large file in one per
    part); raises if a file is unreadable. ``repair``: see json_parts.

    XML files are first converted (safely, streaming) into JSON documents under ``scratch``. A
    batch is read in one or more parts (a large file in several), each part's records stored
    before the next is read; the files' counts are recorded once every part is read.
    """
    temporary: list[Path] = []
    notes: dict[str, str] = {}
    try:
        if fmt == "decp-xml":
            batch, notes = xml_as_json(batch, scratch, temporary)
        con.execute(
            "create or replace temp table batch_files "
            "(file_id varchar, path varchar, position_base bigint default 0)"
        )
        insert_rows(con, "batch_files", ("file_id", "path"), batch)
        _start_batch_counts(con)
        if fmt in ("decp-json", "decp-xml"):
            parts = json_parts(con, batch, scratch, temporary, progress, repair)
        else:
            parts = tabular_parts(con, batch, fmt, scratch, temporary)
        # Each part is read outside any transaction (an insert reading a temporary table written
        # in its own transaction took twice as long), then stored in one. A batch read in one
        # part is one transaction. A large file read in several parts commits each part (a
        # transaction holds what it replaces until it ends): rows a failed or interrupted reading
        # left behind are removed before and after, so it is read whole or not at all, and a
        # file stays 'registered' until its last part is in.
        several = len(parts) > 1
        if several:
            _forget_parsed_rows(con, [file_id for file_id, _ in batch])
        try:
            for number, part in enumerate(parts, 1):
                part.read()
                _store_part(con, fmt, part, last=number == len(parts))
                if several and number < len(parts):
                    progress.part_done(number, len(parts))
        except Exception:
            if several:
                _forget_parsed_rows(con, [file_id for file_id, _ in batch])
            raise
        for file_id, note in notes.items():  # what was read differently from the file
            _note(con, file_id, note)
    finally:
        for path in temporary:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for table in ("tabular_row_keys", "tabular_contract_folds", "batch_records"):
            con.execute(f"drop table if exists {table}")  # noqa: S608 - fixed names; frees memory


def _store_part(con: duckdb.DuckDBPyConnection, fmt: str, part: Part, *, last: bool) -> None:
    """Store the part just read (batch_records) in one transaction: its records, its rejects, its
    counts; after the batch's last part, each file's outcome."""
    con.execute("begin transaction")
    try:
        run_sql(con, "decp/staging/insert_ingest_rejects")
        for step in part.rejects_steps:
            run_sql(con, step, part.params)
        run_sql(con, part.records_step, part.params)
        run_sql(con, "decp/staging/insert_batch_counts")
        run_sql(con, "decp/staging/insert_batch_unknown_keys")
        if last:
            run_sql(con, "decp/staging/insert_ingest_unknown_keys")
            run_sql(con, "decp/staging/update_ingest_files_parsed", {"format": fmt})
            for (file_id,) in con.execute(
                "select distinct file_id from batch_unreadable"
            ).fetchall():
                _set_status(con, file_id, "quarantined", "document JSON sans racine « marches »")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _forget_parsed_rows(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> None:
    """Remove the staged records and rejects of files not fully parsed (status 'registered')."""
    con.execute("begin transaction")
    for table in ("stg_decp_records", "ingest_rejects", "ingest_unknown_keys"):
        con.execute(
            f"delete from {table} where file_id in (select unnest($ids))"  # noqa: S608 - fixed names
            " and file_id in (select file_id from ingest_files where status = 'registered')",
            {"ids": file_ids},
        )
    con.execute("commit")


def _parse_reencoded(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    path: str,
    fmt: str,
    scratch: Path,
    progress: ParseProgress,
) -> bool:
    """A JSON file that could not be read and is not UTF-8 is read again from a UTF-8 copy
    (from UTF-16 or UTF-32, else Windows-1252); True when that worked (its status_reason says
    so)."""
    if fmt != "decp-json":
        return False  # XML declares its encoding, a CSV file is converted before it is read
    copy = scratch / f"{file_id}.utf8{SUFFIX_BY_FORMAT[fmt]}"
    try:
        encoding = utf8_copy(Path(path), copy)
        if not encoding:
            return False
        _parse_batch_attempt(con, [(file_id, str(copy))], fmt, scratch, progress)
    except (*FILE_ERRORS, UnusableFileError):
        return False
    finally:
        copy.unlink(missing_ok=True)
    con.execute(
        "update ingest_files set status_reason = $note where file_id = $file_id",
        {"note": f"pas en UTF-8 : lu comme {encoding}", "file_id": file_id},
    )
    return True


def _parse_repaired(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    path: str,
    fmt: str,
    scratch: Path,
    progress: ParseProgress,
) -> bool:
    """A JSON file DuckDB refused is read record by record, each written again as valid JSON
    (a raw control character, a key given twice): a record no reader can use is rejected with
    its reason, the others are read; True when that worked (its status_reason says so)."""
    if fmt != "decp-json":
        return False
    try:
        _parse_batch_attempt(con, [(file_id, path)], fmt, scratch, progress, repair=True)
    except (*FILE_ERRORS, UnusableFileError):
        return False
    con.execute(
        "update ingest_files set status_reason = $note where file_id = $file_id",
        {
            "note": "JSON refusé d'un bloc (caractère de contrôle, clé en double...) : lu "
            "enregistrement par enregistrement, les illisibles rejetés (ingest_rejects)",
            "file_id": file_id,
        },
    )
    return True


def _note(con: duckdb.DuckDBPyConnection, file_id: str, note: str) -> None:
    """Say, on a parsed file's row, what was read differently from the file (status_reason)."""
    con.execute(
        "update ingest_files set status_reason = $note where file_id = $file_id "
        "and status = 'parsed'",
        {"note": note, "file_id": file_id},
    )


def _start_batch_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Empty running totals for the batch's parts (see sql/decp/staging/insert_batch_counts.sql)."""
    con.execute(
        "create or replace temp table batch_file_counts "
        "(file_id varchar, records_read hugeint, records_rejected hugeint)"
    )
    con.execute(
        "create or replace temp table batch_unknown_keys "
        "(file_id varchar, record_key varchar, records bigint)"
    )
    con.execute("create or replace temp table batch_unreadable (file_id varchar)")


def _batches(files: list[tuple[str, str, int]], fmt: str) -> list[list[tuple[str, str]]]:
    """Group files into batches: DECP JSON files up to BATCH_BYTES together, a large JSON
    document (split into parts) and tabular files alone."""
    if fmt not in ("decp-json", "decp-xml"):
        return [[(file_id, path)] for file_id, path, _ in files]
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    current_bytes = 0
    for file_id, path, size in files:
        if size > json_reading.LARGE_JSON_BYTES:  # an XML file too: converted, it is as large
            batches.append([(file_id, path)])
            continue
        if current and current_bytes + size > BATCH_BYTES:
            batches.append(current)
            current, current_bytes = [], 0
        current.append((file_id, path))
        current_bytes += size
    if current:
        batches.append(current)
    return batches


class ParseProgress(progress_display.ProgressLine):
    """The progress of parse_pending_files: bytes of the pending files parsed, with the bytes of
    a large file split so far."""

    def __init__(self, total_bytes: int, log: Log) -> None:
        super().__init__(log)
        self.total = max(total_bytes, 1)
        self.done = self.current = 0
        self.logged_tenth = 0

    def batch_done(self, batch_bytes: int, message: str) -> None:
        self.done += batch_bytes
        self.current = 0
        self.log(message)
        self._draw(force=True)

    def within_file(self, chars: int) -> None:
        """Characters of a large file read so far (a split reports them as it goes)."""
        self.current = chars
        tenth = int(10 * chars / self.total)
        if tenth > self.logged_tenth:
            self.logged_tenth = tenth
            self.log(f"lecture d'un grand document JSON : {number_fr(chars / 1e6)} Mo lus")
        self._draw()

    def part_done(self, number: int, count: int) -> None:
        self.log(f"grand fichier : partie {number}/{count} enregistrée")

    def finish(self) -> None:
        if self.done:
            super().finish()

    def _draw(self, *, force: bool = False) -> None:
        if self.due(force=force):
            progress_display.draw_bar(
                "lecture des fichiers DECP", self.done + self.current, self.total, self.started
            )


def _parse_batch_attempt(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    progress: ParseProgress,
    repair: bool = False,
) -> None:
    """_parse_batch, with the attempt recorded in ingest_parse_attempts while it runs: only a
    process that dies while reading (a crash inside DuckDB's reader, a kill) leaves it there."""
    ids = [file_id for file_id, _ in batch]
    con.execute(
        "insert into ingest_parse_attempts (file_id, attempts, last_started_at) "
        "select unnest($ids), 1, now() on conflict (file_id) "
        "do update set attempts = attempts + 1, last_started_at = excluded.last_started_at",
        {"ids": ids},
    )
    try:
        _parse_batch(con, batch, fmt, scratch, progress, repair)
    finally:
        con.execute(
            "delete from ingest_parse_attempts where file_id in (select unnest($ids))",
            {"ids": ids},
        )


def _sort_pending(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    interrupted: dict[str, int],
    outcome: dict[str, int],
    log: Log,
) -> dict[str, list[tuple[str, str, int]]]:
    """The registered files by format; those that cannot be read set aside with their reason (the
    files whose reading was interrupted are read again in a child process first, set_aside.py:
    those that stop it alone are set aside)."""
    pending = [
        (file_id, paths.home / relative, relative, *sniff_format(paths.home / relative))
        for file_id, relative in con.execute(
            "select file_id, relative_path from ingest_files "
            "where status = 'registered' order by ingest_seq"
        ).fetchall()
    ]
    suspects: dict[str, list[tuple[str, str]]] = {}
    for file_id, path, _, fmt, reason in pending:
        if not reason and fmt in PARSERS and file_id in interrupted:
            suspects.setdefault(fmt, []).append((file_id, str(path)))
    stopping: dict[str, str] = {}
    for fmt, files in suspects.items():
        log(
            f"{len(files)} fichier(s) {fmt} dont la lecture a été interrompue : relu(s) d'abord "
            "dans un processus à part"
        )
        stopping |= stopping_files(paths, files, fmt)
    by_format: dict[str, list[tuple[str, str, int]]] = {}
    for file_id, path, relative, fmt, reason in pending:
        if file_id in stopping:
            reason = stopping[file_id]
            record_set_aside(con, file_id, reason)
        if reason:
            _set_status(con, file_id, "quarantined", reason)
            outcome["quarantined"] += 1
            log(f"mis de côté : {relative} : {reason}")
        elif fmt not in PARSERS:
            reason = f"le format {fmt} n'est pas encore lu"
            _set_status(con, file_id, "unsupported", reason, fmt)
            outcome["unsupported"] += 1
            log(f"laissé de côté : {relative} : {reason}")
        else:
            by_format.setdefault(fmt, []).append((file_id, str(path), content_size(path)))
    return by_format


def _parse_alone(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    path: str,
    fmt: str,
    scratch: Path,
    progress: ParseProgress,
) -> None:
    """Read one file alone; one that cannot be read (or costs more than it may) is set aside
    with its reason."""
    try:
        _parse_batch_attempt(con, [(file_id, path)], fmt, scratch, progress)
        return
    except (*FILE_ERRORS, UnusableFileError) as error:
        if _parse_reencoded(con, file_id, path, fmt, scratch, progress):
            return
        if _parse_repaired(con, file_id, path, fmt, scratch, progress):
            return
        detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        reason = f"{FORMAT_LABELS[fmt]} illisible : {detail or type(error).__name__}"
    except RESOURCE_ERRORS as error:
        reason = f"{FORMAT_LABELS[fmt]} trop coûteux à lire : {resource_reason(error)}"
    _set_status(con, file_id, "quarantined", reason)
    progress.batch_done(0, f"mis de côté : {path} : {reason}")


def resource_reason(error: BaseException) -> str:
    """Why reading a file cost more than it may, in French."""
    if isinstance(error, RecursionError):
        return "structure trop profondément imbriquée"
    return (
        "mémoire insuffisante (PNAD_DUCKDB_MEMORY = "
        f"{os.environ.get('PNAD_DUCKDB_MEMORY', '2GB')}) ; {str(error).splitlines()[0][:200]}"
    )


def parse_pending_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = quiet
) -> dict[str, int]:
    """Parse every registered file not parsed yet, then put the new releases of snapshot
    sources in use or set them aside (releases.py); returns counts by outcome."""
    outcome = {"parsed": 0, "quarantined": 0, "unsupported": 0}
    run_sql(con, "decp/staging/create_parse_attempts")
    con.execute(
        "delete from ingest_parse_attempts where set_aside_at is null and file_id not in "
        "(select file_id from ingest_files where status = 'registered')"
    )
    interrupted = dict(
        con.execute(
            "select file_id, attempts from ingest_parse_attempts where set_aside_at is null"
        ).fetchall()
    )
    by_format = _sort_pending(con, paths, interrupted, outcome, log)
    scratch = paths.work_db.parent / "scratch"
    sizes = {file_id: size for files in by_format.values() for file_id, _, size in files}
    progress = ParseProgress(sum(sizes.values()), log)
    # a file interrupted twice or more is read alone here too: its child may have passed while
    # reading it with the others stops this process (a kill from outside interrupts a whole
    # batch once: those files are read in batches again)
    alone = {file_id for file_id, attempts in interrupted.items() if attempts >= 2}
    for fmt, files in by_format.items():
        done = 0
        batches = [[(file_id, path)] for file_id, path, _ in files if file_id in alone]
        batches += _batches([file for file in files if file[0] not in alone], fmt)
        for batch in batches:
            try:
                _parse_batch_attempt(con, batch, fmt, scratch, progress)
            except (*FILE_ERRORS, UnusableFileError, *RESOURCE_ERRORS):
                # One unreadable file fails the whole batch: read file by file to isolate it.
                for file_id, path in batch:
                    _parse_alone(con, file_id, path, fmt, scratch, progress)
            done += len(batch)
            progress.batch_done(
                sum(sizes[file_id] for file_id, _ in batch),
                f"{done}/{len(files)} fichier(s) {fmt} lu(s)",
            )
    progress.finish()
    if by_format:
        checkpoint_after_bulk_write(con)
    parsed_ids = [file_id for files in by_format.values() for file_id, _, _ in files]
    statuses = dict(
        con.execute(
            "select status, count(*) from ingest_files where file_id in "
            "(select unnest($ids)) group by status",
            {"ids": parsed_ids or [""]},
        ).fetchall()
    )
    outcome["parsed"] += statuses.get("parsed", 0)
    outcome["quarantined"] += statuses.get("quarantined", 0)
    outcome |= apply_releases(con, paths, log)
    return outcome


def read_files_alone(files: list[tuple[str, str]], fmt: str, scratch: Path) -> None:
    """Read files (id, path) into a throwaway in-memory database, as parse_pending_files reads
    them (run by set_aside.read_alone_in_child, in a child process). A file the reader refuses
    ends normally: the pipeline gives the reason when it reads the file."""
    from pipelines.common.warehouse import MACROS

    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(
            "set memory_limit = $limit", {"limit": os.environ.get("PNAD_DUCKDB_MEMORY", "2GB")}
        )
        con.execute("set temp_directory = $dir", {"dir": str(scratch / "spill")})
        for macro in MACROS:
            run_sql(con, macro)
        run_sql(con, "decp/staging/create_ingest_tables")
        # the schema's keys tell schema drift (insert_batch_unknown_keys)
        run_sql(
            con,
            "reference/decp_record_keys",
            {"path": str(REFERENCE_DIR / "decp_record_keys.csv")},
        )
        con.execute(
            "insert into ingest_files (file_id, source, relative_path, size_bytes, "
            "registered_at, ingest_seq, status) select unnest($ids), 'alone', unnest($paths), "
            "0, now(), 1, 'registered'",
            {"ids": [file_id for file_id, _ in files], "paths": [path for _, path in files]},
        )
        try:
            _parse_batch(con, files, fmt, scratch, ParseProgress(1, quiet))
        except (*FILE_ERRORS, UnusableFileError, RecursionError):
            pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
