"""Landing and parsing DECP files: register raw files by checksum, detect their format from their
content, parse new ones into ``stg_decp_records``, and quarantine what cannot be read.

A file is identified by the SHA-256 of its content, so the same file met twice is parsed once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.lib.decp_xml import XmlRejected, xml_to_decp_json
from pipelines.lib.download import looks_like_html
from pipelines.lib.paths import PnadPaths
from pipelines.lib.sql import run_sql

Log = Callable[[str], None]
DATA_SUFFIXES = {".json", ".xml", ".csv", ".parquet", ".txt", ".gz", ".dat"}
# Errors that mean "this file cannot be read"; any other DuckDB error is a bug and is raised.
FILE_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)
FORMAT_LABELS = {
    "decp-json": "JSON",
    "decp-xml": "XML",
    "decp-tabular-parquet": "Parquet",
    "decp-tabular-csv": "CSV",
}
PARSERS = tuple(FORMAT_LABELS)
BATCH_BYTES = 48 * 1024 * 1024  # JSON bytes per parsing batch: bounds the memory a batch takes
SNIFF_BYTES = 64 * 1024


def _quiet(_: str) -> None:
    return None


def is_data_file(name: str) -> bool:
    """Data files are registered; hidden files (partial downloads) and ``_``-prefixed metadata
    files (manifests) are not."""
    return not name.startswith((".", "_")) and Path(name).suffix.lower() in DATA_SUFFIXES


def copy_atomically(source: Path, target: Path) -> None:
    """Copy under a hidden partial name, then rename: a reader never sees half a file."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


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
    if head[:2] == b"\x1f\x8b":  # gzip (.json.gz, .csv.gz, .xml.gz): sniff what it holds
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except (OSError, EOFError) as error:
            return None, f"damaged gzip file ({error})"
    if not head.strip():
        return None, "empty file"
    if head.startswith(b"PAR1"):
        return "decp-tabular-parquet", None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        if b'"marches"' in text:
            return "decp-json", None
        return None, 'JSON without a "marches" root: not a DECP file'
    if text[:1] == b"<":
        if looks_like_html(text):
            return None, "HTML page (an error page saved as a data file?)"
        return "decp-xml", None
    header = text.split(b"\n", 1)[0].lower()
    if b"acheteur" in header and (b";" in header or b"," in header or b"\t" in header):
        return "decp-tabular-csv", None
    if b";" in header or b"," in header:
        return None, "CSV without DECP columns (no acheteur column in the header)"
    return None, "unrecognised content (not JSON, XML, CSV or Parquet)"


@dataclass(frozen=True)
class RegistrationSummary:
    new_files: int
    known_files: int
    duplicate_content: int


SUFFIX_BY_FORMAT = {
    "decp-json": ".json",
    "decp-xml": ".xml",
    "decp-tabular-parquet": ".parquet",
    "decp-tabular-csv": ".csv",
}


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
    for item in inputs:
        item = Path(item).expanduser().resolve()
        if not item.exists():
            raise FileNotFoundError(f"no such file or folder: {item}")
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.is_file() and is_data_file(p.name))
        else:
            files = [item]
        for source in files:
            checksum = sha256_of(source)
            fmt, _ = sniff_format(source)
            suffix = SUFFIX_BY_FORMAT.get(fmt or "", source.suffix.lower())
            if suffix not in DATA_SUFFIXES:
                suffix = ".dat"  # still landed: registration quarantines it with the reason
            with source.open("rb") as probe:
                if probe.read(2) == b"\x1f\x8b" and suffix != ".gz":
                    suffix += ".gz"  # DuckDB decompresses by extension
            target = target_dir / f"{checksum[:32]}{suffix}"
            if not target.exists():
                copy_atomically(source, target)
            landed.append((source, target))
            if con is not None:
                con.execute(
                    "insert or replace into local_landings values ($path, $original, now())",
                    {"path": target.relative_to(paths.home).as_posix(), "original": str(source)},
                )
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
    given_names = dict(
        con.execute("select relative_path, original_path from local_landings").fetchall()
    )
    next_seq = con.execute("select coalesce(max(ingest_seq), 0) from ingest_files").fetchone()[0]
    duplicate = unchanged = 0
    # Landing order (modification time) is the order files were received: a later file wins
    # ties between versions of a contract published on the same day.
    candidates = sorted(
        (p for p in paths.raw.rglob("*") if p.is_file() and is_data_file(p.name)),
        key=lambda p: (p.stat().st_mtime_ns, p.as_posix()),
    )
    rows = []
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
        parts = path.relative_to(paths.raw).parts
        source = parts[0] if len(parts) > 1 else "raw"
        original = Path(given_names.get(relative, path.name)).name  # information only
        rows.append((checksum, source, relative, original, size, datetime.now(), next_seq))
        known_ids.add(checksum)
    new = len(rows)
    if rows:
        # one transaction for the whole scan: a daily folder can hold thousands of files
        con.execute("begin transaction")
        try:
            con.executemany(
                "insert into ingest_files (file_id, source, relative_path, original_name, "
                "size_bytes, registered_at, ingest_seq, status) "
                "values (?, ?, ?, ?, ?, ?, ?, 'registered')",
                rows,
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    if new:
        log(f"registered {new} new raw file(s); {unchanged} already known")
    return RegistrationSummary(new_files=new, known_files=unchanged, duplicate_content=duplicate)


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
            {"file_id": file_id, "reason": f"whole file quarantined: {reason}"},
        )


# Tabular exports: staging field -> accepted column names (decp-processing, data.economie.gouv.fr).
# Identifiers put into SQL come from this fixed list only, never from the file.
TABULAR_COLUMNS: dict[str, tuple[str, ...]] = {
    "contract_id": ("id",),
    "buyer_id": ("acheteur_id", "acheteur.id"),
    "buyer_name": ("acheteur_nom", "acheteur.nom"),
    "nature": ("nature",),
    "objet": ("objet",),
    "cpv_code": ("codeCPV",),
    "procedure": ("procedure",),
    "duration_months": ("dureeMois",),
    "notification_date": ("dateNotification",),
    "publication_date": ("datePublicationDonnees",),
    "amount": ("montant",),
    "place_code": ("lieuExecution_code", "lieuExecution.code"),
    "place_type_code": ("lieuExecution_typeCode", "lieuExecution.typeCode"),
    "framework_id": ("idAccordCadre",),
    "social": ("considerationsSociales",),
    "environmental": ("considerationsEnvironnementales",),
    "holder_id": ("titulaire_id", "titulaire_id_1"),
    "modification_id": ("modification_id", "idModification"),
    "modification_amount": ("montantModification",),
}
TABULAR_READERS = {
    "decp-tabular-parquet": "read_parquet($path)",
    "decp-tabular-csv": "read_csv($path, all_varchar = true, header = true, strict_mode = false)",
}


class UnusableFileError(Exception):
    """The file's content cannot be used as DECP data (reason in the message)."""


def _load_tabular_rows(con: duckdb.DuckDBPyConnection, file_id: str, path: str, fmt: str) -> None:
    """Temp table tabular_rows with the fixed column set; columns the file lacks are NULL."""
    reader = TABULAR_READERS[fmt]
    present = {
        row[0].lower(): row[0]
        for row in con.execute(f"describe select * from {reader}", {"path": path}).fetchall()  # noqa: S608
    }
    selected = []
    for field, candidates in TABULAR_COLUMNS.items():
        found = next((name for name in candidates if name.lower() in present), None)
        selected.append(
            f'cast("{found}" as varchar) as {field}' if found else f"null::varchar as {field}"
        )
    if selected[0].startswith("null") or selected[1].startswith("null"):
        raise UnusableFileError("tabular file without DECP columns (needs id and acheteur_id)")
    con.execute(
        "create or replace temp table tabular_rows as "  # noqa: S608 - identifiers from TABULAR_COLUMNS
        f"select $file_id as file_id, row_number() over () as row_number, {', '.join(selected)} "
        f"from {reader}",
        {"file_id": file_id, "path": path},
    )


def _parse_batch(
    con: duckdb.DuckDBPyConnection, batch: list[tuple[str, str]], fmt: str, scratch: Path
) -> None:
    """Parse a batch of files of one format in one transaction; raises if a file is unreadable.

    XML files are first converted (safely, streaming) into JSON documents under ``scratch``.
    """
    converted: list[Path] = []
    if fmt == "decp-xml":
        scratch.mkdir(parents=True, exist_ok=True)
        json_batch = []
        for file_id, path in batch:
            target = scratch / f"{file_id}.json"
            converted.append(target)
            try:
                xml_to_decp_json(Path(path), target)
            except XmlRejected as error:
                raise UnusableFileError(str(error)) from error
            json_batch.append((file_id, str(target)))
        batch = json_batch
    con.execute("create or replace temp table batch_files (file_id varchar, path varchar)")
    con.executemany("insert into batch_files values (?, ?)", batch)
    con.execute("begin transaction")
    try:
        if fmt in ("decp-json", "decp-xml"):
            largest = max(Path(path).stat().st_size for _, path in batch)
            run_sql(
                con,
                "staging/batch_decp_json_documents",
                {"paths": [path for _, path in batch], "max_object_size": largest + (1 << 20)},
            )
            run_sql(con, "staging/batch_decp_json_records")
            con.execute(
                "create or replace temp table batch_unreadable as "
                "select file_id from batch_documents where marches is null"
            )
        else:
            ((file_id, path),) = batch  # tabular files are large: one per batch
            _load_tabular_rows(con, file_id, path, fmt)
            run_sql(con, "staging/batch_decp_tabular_records")
            con.execute("create or replace temp table batch_unreadable (file_id varchar)")
        run_sql(con, "staging/insert_ingest_rejects")
        run_sql(con, "staging/insert_ingest_unknown_keys")
        run_sql(con, "staging/insert_stg_decp_records")
        run_sql(con, "staging/update_ingest_files_parsed", {"format": fmt})
        for (file_id,) in con.execute("select file_id from batch_unreadable").fetchall():
            _set_status(con, file_id, "quarantined", 'no "marches" root in the JSON document')
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for path in converted:
            path.unlink(missing_ok=True)


def _batches(files: list[tuple[str, str, int]], fmt: str) -> list[list[tuple[str, str]]]:
    """Group files into batches: DECP JSON files up to BATCH_BYTES together, tabular files alone."""
    if fmt not in ("decp-json", "decp-xml"):
        return [[(file_id, path)] for file_id, path, _ in files]
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    current_bytes = 0
    for file_id, path, size in files:
        if current and current_bytes + size > BATCH_BYTES:
            batches.append(current)
            current, current_bytes = [], 0
        current.append((file_id, path))
        current_bytes += size
    if current:
        batches.append(current)
    return batches


def parse_pending_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = _quiet
) -> dict[str, int]:
    """Parse every registered file not parsed yet; returns counts by outcome."""
    pending = con.execute(
        "select file_id, relative_path, size_bytes from ingest_files "
        "where status = 'registered' order by ingest_seq"
    ).fetchall()
    outcome = {"parsed": 0, "quarantined": 0, "unsupported": 0}
    by_format: dict[str, list[tuple[str, str, int]]] = {}
    for file_id, relative, size in pending:
        path = paths.home / relative
        fmt, reason = sniff_format(path)
        if reason:
            _set_status(con, file_id, "quarantined", reason)
            outcome["quarantined"] += 1
            log(f"quarantined {relative}: {reason}")
        elif fmt not in PARSERS:
            _set_status(con, file_id, "unsupported", f"format {fmt} is not read yet", fmt)
            outcome["unsupported"] += 1
            log(f"left aside {relative}: format {fmt} is not read yet")
        else:
            by_format.setdefault(fmt, []).append((file_id, str(path), size))

    scratch = paths.work_db.parent / "scratch"
    for fmt, files in by_format.items():
        done = 0
        for batch in _batches(files, fmt):
            try:
                _parse_batch(con, batch, fmt, scratch)
            except (*FILE_ERRORS, UnusableFileError):
                # One unreadable file fails the whole batch: retry file by file to isolate it.
                for file_id, path in batch:
                    try:
                        _parse_batch(con, [(file_id, path)], fmt, scratch)
                    except (*FILE_ERRORS, UnusableFileError) as error:
                        reason = str(error).strip().splitlines()[0][:300]
                        label = FORMAT_LABELS[fmt]
                        _set_status(con, file_id, "quarantined", f"unreadable {label}: {reason}")
                        log(f"quarantined {path}: {reason}")
            done += len(batch)
            log(f"parsed {done}/{len(files)} {fmt} file(s)")
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
    return outcome


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
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(ids)
