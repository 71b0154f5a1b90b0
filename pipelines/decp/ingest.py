"""Landing and parsing DECP files: register raw files by checksum, detect their format from their
content, parse new ones into ``stg_decp_records``, and quarantine what cannot be read.

A file is identified by the SHA-256 of its content, so the same file met twice is parsed once.
"""

from __future__ import annotations

import codecs
import functools
import gzip
import hashlib
import io
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.common import progress as progress_display
from pipelines.common.download import looks_like_html
from pipelines.common.paths import PnadPaths
from pipelines.common.sql import checkpoint_after_bulk_write, insert_rows, run_sql
from pipelines.decp.json_split import InvalidJson, NotSplittable, split_document
from pipelines.decp.xml_records import XmlRejected, xml_to_decp_json

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
# JSON bytes per parsing batch of ordinary files (a daily file is a few MB): bounds the memory a
# batch takes; larger batches parallelise better and commit less often.
BATCH_BYTES = 128 * 1024 * 1024
# A JSON document larger than this is read alone, split, streaming, into parts of PART_BYTES
# (DuckDB reads a document whole, so its memory would follow the largest file).
LARGE_JSON_BYTES = 96 * 1024 * 1024
PART_BYTES = 48 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
# A file whose reading stopped the process this many times is quarantined (ingest_parse_attempts).
MAX_INTERRUPTED_READS = 2
GZIP_MAGIC = b"\x1f\x8b"
# The "marches" root and the first character of its value: '{' wrapped lists, '[' an array.
JSON_ROOT = re.compile(rb'"marches"\s*:\s*([\[{])')


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


class DamagedGzipError(Exception):
    """A gzip file whose content cannot be decompressed."""


def _head(path: Path) -> bytes:
    """The first bytes of a file's content, decompressed when it is gzipped (.json.gz, .csv.gz,
    .xml.gz)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head[:2] != GZIP_MAGIC:
        return head
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise DamagedGzipError(f"damaged gzip file ({error})") from error


def header_delimiter(header: bytes) -> bytes:
    """The delimiter of a CSV header line: the most frequent of ; , tab | (DuckDB's sniffer, from a
    few rows, can be misled by one malformed row)."""
    return max((b";", b",", b"\t", b"|"), key=header.count)


def is_decp_csv_header(header: bytes) -> bool:
    """A CSV header line of DECP data: a buyer column (acheteur_id, acheteur.id, ...), or a
    decp-processing uid beside at least one other DECP column (an analyst's partial extract)."""
    header = header.lower()
    delimiter = header_delimiter(header)
    if delimiter not in header:
        return False
    if b"acheteur" in header:
        return True
    names = {name.strip().strip(b'"') for name in header.split(delimiter)}
    return b"uid" in names and bool(names & DECP_EXTRACT_COLUMNS)


def sniff_format(path: Path) -> tuple[str | None, str | None]:
    """(format, reason): the format read from the first bytes, or why the file is unusable."""
    try:
        head = _head(path)
    except DamagedGzipError as error:
        return None, str(error)
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
    if is_decp_csv_header(header):
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
                if probe.read(2) == GZIP_MAGIC and suffix != ".gz":
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
        rows.append(
            (checksum, source, relative, original, size, datetime.now(), next_seq, "registered")
        )
        known_ids.add(checksum)
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
    # data.economie.gouv.fr 2019 exports name them in the singular
    "techniques": ("techniques", "technique"),
    "execution_modalities": ("modalitesExecution", "modaliteExecution"),
    # the feed a row came from: decp-processing's sourceDataset, an export's source
    "publisher": ("sourceDataset", "source"),
    "holder_id": ("titulaire_id", "titulaire_id_1"),
    "holder_type": ("titulaire_typeIdentifiant", "titulaire_typeIdentifiant_1"),
    # decp-processing: titulaire_nom; data.economie.gouv.fr: titulaire_denominationSociale_N
    "holder_name": ("titulaire_nom", "titulaire_denominationSociale_1"),
    # data.economie.gouv.fr exports name up to three holders on one row
    "holder_id_2": ("titulaire_id_2",),
    "holder_type_2": ("titulaire_typeIdentifiant_2",),
    "holder_name_2": ("titulaire_denominationSociale_2",),
    "holder_id_3": ("titulaire_id_3",),
    "holder_type_3": ("titulaire_typeIdentifiant_3",),
    "holder_name_3": ("titulaire_denominationSociale_3",),
    "modification_id": ("modification_id", "idModification"),
    # data.economie.gouv.fr exports give a contract's modification on its own row, beside the
    # initial values (idModification often empty); the 2022 exports double "Modification"
    "modification_amount": ("montantModification",),
    "modification_duration": ("dureeMoisModification",),
    "modification_date": (
        "dateNotificationModification",
        "dateNotificationModificationModification",
    ),
    "modification_publication_date": (
        "datePublicationDonneesModification",
        "datePublicationDonneesModificationModification",
    ),
    # ... and the holder that modification names (2022 exports)
    "modification_holder_id": ("idTitulaireModification",),
    "modification_holder_type": ("typeIdentifiantTitulaireModification",),
    # data.economie.gouv.fr 2022 exports: one acte de sous-traitance per row
    "act_id": ("idActeSousTraitance",),
    "act_duration": ("dureeMoisActeSousTraitance",),
    "act_date": ("dateNotificationActeSousTraitance",),
    "act_publication_date": ("datePublicationDonneesActeSousTraitance",),
    "act_amount": ("montantActeSousTraitance",),
    "act_price_variation": ("variationPrixActeSousTraitance",),
    "subcontractor_id": ("idSousTraitant",),
    "subcontractor_type": ("typeIdentifiantSousTraitant",),
}
# Columns that, beside a uid, make a CSV an extract of DECP data (lower case).
DECP_EXTRACT_COLUMNS = {
    name.lower().encode()
    for names in TABULAR_COLUMNS.values()
    for name in names
    # words a facilitator's table may use
    if name not in ("id", "nature", "objet", "procedure", "techniques", "technique", "source")
}
# Rows of a tabular file read at once: a larger file is read in parts (the contracts whose initial
# row is in each range of rows), so that its memory follows this, not the file (3 M rows, more).
TABULAR_PART_ROWS = 1_500_000
# A CSV file's malformed rows, stored as rejects with the file's first part.
MALFORMED_ROW_STEPS = (
    "decp/staging/insert_tabular_malformed_rejects",
    "decp/staging/insert_tabular_malformed_counts",
)


class UnusableFileError(Exception):
    """The file's content cannot be used as DECP data (reason in the message)."""


def _csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV file, read from its header line (header_delimiter)."""
    return header_delimiter(_head(path).removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]).decode()


def _define_tabular_rows(
    con: duckdb.DuckDBPyConnection, path: str, fmt: str, scratch: Path
) -> tuple[str, int]:
    """Define the temporary table macro tabular_rows(path) over a tabular file, with the fixed
    column set (columns the file lacks are NULL) and row_number (1-based place in the file);
    returns the Parquet file it reads and its number of rows.

    A CSV file is first converted, streaming, into a Parquet file under ``scratch`` (text kept
    as it is): the staging SQL reads the rows more than once, and each part again. Its delimiter
    is the header's most frequent one. A malformed row (too many or too few fields, bad quoting)
    is set aside with DuckDB's reason in the temporary table tabular_malformed_rows, and the
    other rows are read (MALFORMED_ROW_STEPS make them rejects).
    """
    con.execute(
        "create or replace temp table tabular_malformed_rows "
        "(line bigint, reason varchar, raw_excerpt varchar)"
    )
    if fmt == "decp-tabular-csv":
        scratch.mkdir(parents=True, exist_ok=True)
        converted = scratch / f"{Path(path).name}.parquet"
        utf8 = scratch / f"{Path(path).name}.utf8.csv"
        if _utf8_copy(Path(path), utf8):  # DuckDB reads UTF-8 only
            path = str(utf8)
        for table in ("csv_reject_errors", "csv_reject_scans"):
            con.execute(f"drop table if exists {table}")  # noqa: S608 - fixed names
        con.execute(
            "copy (select * from read_csv($path, all_varchar = true, header = true, "
            "delim = $delim, ignore_errors = true, store_rejects = true, "
            "rejects_table = 'csv_reject_errors', rejects_scan = 'csv_reject_scans')) "
            "to $target (format parquet)",
            {"path": path, "target": str(converted), "delim": _csv_delimiter(Path(path))},
        )
        if con.execute(
            "select count(*) from duckdb_tables() where table_name = 'csv_reject_errors'"
        ).fetchone()[0]:
            con.execute(  # one row per malformed line (DuckDB reports each error of a line)
                "insert into tabular_malformed_rows select line, "
                "'malformed CSV row (line ' || line || ' of the file): ' "
                "|| arg_min(error_message, column_idx), left(any_value(csv_line), 300) "
                "from csv_reject_errors group by line order by line"
            )
        utf8.unlink(missing_ok=True)
        path = str(converted)
    present = {
        row[0].lower()
        for row in con.execute(
            "describe select * from read_parquet($path)", {"path": path}
        ).fetchall()
    }
    selected = []
    for field, candidates in TABULAR_COLUMNS.items():
        found = next((name for name in candidates if name.lower() in present), None)
        selected.append(
            f'cast("{found}" as varchar) as {field}' if found else f"null::varchar as {field}"
        )
    if (selected[0].startswith("null") or selected[1].startswith("null")) and "uid" in present:
        # a partial extract with decp-processing's uid only: uid = buyer SIRET (14) + id
        selected[0] = "substr(cast(uid as varchar), 15) as contract_id"
        selected[1] = "left(cast(uid as varchar), 14) as buyer_id"
    if selected[0].startswith("null") or selected[1].startswith("null"):
        raise UnusableFileError(
            "tabular file without DECP columns (needs id and acheteur_id, or uid)"
        )
    con.execute(
        "create or replace temp macro tabular_rows(path) as table "  # noqa: S608 - identifiers from TABULAR_COLUMNS
        f"select file_row_number + 1 as row_number, {', '.join(selected)} "
        "from read_parquet(path, file_row_number = true)"
    )
    rows = con.execute("select count(*) from read_parquet($path)", {"path": path}).fetchone()[0]
    return path, rows


def _json_root_shape(path: Path) -> str | None:
    """What the "marches" root of a DECP JSON file holds, read from its first bytes: 'wrapped'
    (an object of lists, the 2022 format) or 'array' (2019 format, 2.0.0 flat draft); None when
    the first bytes do not tell."""
    try:
        match = JSON_ROOT.search(_head(path))
    except (OSError, DamagedGzipError):
        return None  # the generic read reports what is wrong with the file
    if match is None:
        return None
    return "wrapped" if match.group(1) == b"{" else "array"


@dataclass(frozen=True)
class _Part:
    """One step of reading a batch: ``read`` fills batch_records, outside any transaction; then,
    in the transaction that stores the part, ``records_step`` adds its usable records to
    stg_decp_records (from batch_records, or for a tabular file straight from the file)."""

    read: Callable[[], None]
    records_step: str = "decp/staging/insert_stg_decp_records"
    params: dict | None = None
    # run first in the same transaction, with the same parameters (a CSV file's malformed rows)
    rejects_steps: tuple[str, ...] = ()


def _json_records(con: duckdb.DuckDBPyConnection, batch: list[tuple[str, str]]) -> None:
    """Fill batch_records with the records of a batch of DECP JSON files; files without a
    "marches" root are set aside in batch_unreadable.

    Files whose root shape is known from their first bytes are read with typed lists (one parse);
    a group the typed read refuses, and files whose shape is unknown, are read as generic JSON.
    Runs outside any transaction (a refused read would abort it).
    """
    run_sql(con, "decp/staging/create_batch_records")
    groups: dict[str | None, list[str]] = {}
    for _, path in batch:
        groups.setdefault(_json_root_shape(Path(path)), []).append(path)
    for shape, group in groups.items():
        largest = max(_content_size(Path(path)) for path in group)
        params = {"paths": group, "max_object_size": largest + (1 << 20)}
        if shape is not None:
            try:
                run_sql(con, f"decp/staging/batch_json_lists_{shape}")
                run_sql(con, "decp/staging/batch_decp_json_records", params)
                continue
            except FILE_ERRORS:
                # not the shape the first bytes suggested, or unreadable: read generically
                con.execute(
                    "delete from batch_records where file_id in "
                    "(select file_id from batch_files where path in (select unnest($paths)))",
                    {"paths": group},
                )
        run_sql(con, "decp/staging/batch_json_lists_generic")
        run_sql(con, "decp/staging/batch_decp_json_records", params)
    con.execute(
        "insert into batch_unreadable select distinct file_id from batch_records where not has_root"
    )
    con.execute("delete from batch_records where not has_root")


def _json_parts(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    scratch: Path,
    temporary: list[Path],
    progress: _Progress,
) -> list[_Part]:
    """How a batch of DECP JSON files is read: the steps that each fill batch_records.

    A batch of ordinary files is one step. A large file (alone in its batch) is split, streaming,
    into parts read one after the other, so that memory does not follow its size.
    """
    if len(batch) == 1 and _is_large_json(Path(batch[0][1])):
        ((file_id, path),) = batch
        directory = scratch / f"{file_id}.parts"
        temporary.append(directory)
        try:
            document = split_document(
                Path(path), directory, PART_BYTES, lambda chars: progress.within_file(chars)
            )
        except (NotSplittable, InvalidJson) as error:
            # not the usual shape, or not JSON to the json module: read whole, as a small file
            # is, and let DuckDB's reader decide (the same reasons, the same outcome)
            progress.log(f"{Path(path).name} read whole: {error}")
        else:
            con.execute("delete from batch_files")
            parts = [(file_id, str(part.path)) for part in document.parts]
            insert_rows(
                con,
                "batch_files",
                ("file_id", "path", "position_base"),
                [
                    (*part, document.position_base(split))
                    for part, split in zip(parts, document.parts, strict=True)
                ],
            )
            return [_Part(functools.partial(_json_records, con, [part])) for part in parts]
    return [_Part(functools.partial(_json_records, con, batch))]


def _content_size(path: Path) -> int:
    """Bytes of the file's content: a gzip file gives it in its last four bytes (modulo 4 GiB,
    so a content that seems smaller than the compressed file is taken as larger than 4 GiB)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(2) != GZIP_MAGIC or size < 18:
            return size
        handle.seek(-4, os.SEEK_END)
        content = int.from_bytes(handle.read(4), "little")
    return content if content >= size else content + (1 << 32)


def _is_large_json(path: Path) -> bool:
    """Too large to be read whole: split into parts instead."""
    return _content_size(path) > LARGE_JSON_BYTES


def _tabular_parts(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    temporary: list[Path],
) -> list[_Part]:
    """How a tabular file is read: what every row gives its contract first, then the contracts
    by ranges of initial rows (TABULAR_PART_ROWS), each part's keys into batch_records and its
    records straight into stg_decp_records."""
    ((file_id, path),) = batch  # tabular files are large: one per batch
    source, rows = _define_tabular_rows(con, path, fmt, scratch)
    if source != path:
        temporary.append(Path(source))
    run_sql(con, "decp/staging/tabular_row_keys", {"path": source})
    run_sql(con, "decp/staging/tabular_contract_folds")
    parts = []
    for first in range(1, max(rows, 1) + 1, TABULAR_PART_ROWS):
        params = {
            "file_id": file_id,
            "path": source,
            "first_row": first,
            "last_row": first + TABULAR_PART_ROWS - 1,
        }
        read = functools.partial(run_sql, con, "decp/staging/batch_decp_tabular_records", params)
        steps = () if parts else MALFORMED_ROW_STEPS  # with the first part
        parts.append(_Part(read, "decp/staging/insert_stg_decp_tabular_records", params, steps))
    return parts


def _parse_batch(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    progress: _Progress,
) -> None:
    """Parse a batch of files of one format (stored in one transaction, a large file in one per
    part); raises if a file is unreadable.

    XML files are first converted (safely, streaming) into JSON documents under ``scratch``. A
    batch is read in one or more parts (a large file in several), each part's records stored
    before the next is read; the files' counts are recorded once every part is read.
    """
    temporary: list[Path] = []
    try:
        if fmt == "decp-xml":
            batch = _xml_as_json(batch, scratch, temporary)
        con.execute(
            "create or replace temp table batch_files "
            "(file_id varchar, path varchar, position_base bigint default 0)"
        )
        insert_rows(con, "batch_files", ("file_id", "path"), batch)
        _start_batch_counts(con)
        if fmt in ("decp-json", "decp-xml"):
            parts = _json_parts(con, batch, scratch, temporary, progress)
        else:
            parts = _tabular_parts(con, batch, fmt, scratch, temporary)
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
    finally:
        for path in temporary:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for table in ("tabular_row_keys", "tabular_contract_folds", "batch_records"):
            con.execute(f"drop table if exists {table}")  # noqa: S608 - fixed names; frees memory


def _store_part(con: duckdb.DuckDBPyConnection, fmt: str, part: _Part, *, last: bool) -> None:
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
                _set_status(con, file_id, "quarantined", 'no "marches" root in the JSON document')
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


def _xml_as_json(
    batch: list[tuple[str, str]], scratch: Path, temporary: list[Path]
) -> list[tuple[str, str]]:
    """The batch's XML files converted (safely, streaming) into JSON documents under scratch."""
    scratch.mkdir(parents=True, exist_ok=True)
    json_batch = []
    for file_id, path in batch:
        target = scratch / f"{file_id}.json"
        temporary.append(target)
        try:
            xml_to_decp_json(Path(path), target)
        except XmlRejected as error:
            raise UnusableFileError(str(error)) from error
        json_batch.append((file_id, str(target)))
    return json_batch


def _utf8_copy(path: Path, target: Path) -> bool:
    """When a text file is not UTF-8, write it to ``target`` decoded as Windows-1252 (what French
    spreadsheets and older platforms save in; a byte it does not define becomes U+FFFD) and
    return True; return False for a UTF-8 file. Streaming, for files of any size."""
    opener = gzip.open if _head_is_gzip(path) else open
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return False
    except UnicodeDecodeError:
        pass
    except (OSError, EOFError):
        return False  # a damaged gzip file: the first reading's reason stands
    target.parent.mkdir(parents=True, exist_ok=True)
    with opener(path, "rb") as source, target.open("w", encoding="utf-8") as out:
        shutil.copyfileobj(io.TextIOWrapper(source, encoding="cp1252", errors="replace"), out)
    return True


def _head_is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _parse_as_windows_1252(
    con: duckdb.DuckDBPyConnection,
    file_id: str,
    path: str,
    fmt: str,
    scratch: Path,
    progress: _Progress,
) -> bool:
    """A JSON file that could not be read and is not UTF-8 is read again from a UTF-8 copy
    (decoded as Windows-1252); True when that worked (its status_reason says so)."""
    if fmt != "decp-json":
        return False  # XML declares its encoding, a CSV file is converted before it is read
    copy = scratch / f"{file_id}.utf8{SUFFIX_BY_FORMAT[fmt]}"
    try:
        if not _utf8_copy(Path(path), copy):
            return False
        _parse_batch_attempt(con, [(file_id, str(copy))], fmt, scratch, progress)
    except (*FILE_ERRORS, UnusableFileError):
        return False
    finally:
        copy.unlink(missing_ok=True)
    con.execute(
        "update ingest_files set status_reason = $note where file_id = $file_id",
        {"note": "not UTF-8: read as Windows-1252", "file_id": file_id},
    )
    return True


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
        if size > LARGE_JSON_BYTES:  # an XML file too: converted, it is as large
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


class _Progress(progress_display.ProgressLine):
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
            self.log(f"reading a large JSON document: {chars / 1e6:,.0f} MB read")
        self._draw()

    def part_done(self, number: int, count: int) -> None:
        self.log(f"large file: part {number}/{count} stored")

    def finish(self) -> None:
        if self.done:
            super().finish()

    def _draw(self, *, force: bool = False) -> None:
        if self.due(force=force):
            progress_display.draw_bar(
                "parsing DECP files", self.done + self.current, self.total, self.started
            )


def _parse_batch_attempt(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    progress: _Progress,
) -> None:
    """_parse_batch, with the attempt recorded in ingest_parse_attempts while it runs: only a
    process that dies while reading (a crash inside DuckDB's reader, a kill) leaves it there."""
    ids = [file_id for file_id, _ in batch]
    con.execute(
        "insert into ingest_parse_attempts select unnest($ids), 1, now() on conflict (file_id) "
        "do update set attempts = attempts + 1, last_started_at = excluded.last_started_at",
        {"ids": ids},
    )
    try:
        _parse_batch(con, batch, fmt, scratch, progress)
    finally:
        con.execute(
            "delete from ingest_parse_attempts where file_id in (select unnest($ids))",
            {"ids": ids},
        )


def parse_pending_files(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths, log: Log = _quiet
) -> dict[str, int]:
    """Parse every registered file not parsed yet; returns counts by outcome."""
    pending = con.execute(
        "select file_id, relative_path, size_bytes from ingest_files "
        "where status = 'registered' order by ingest_seq"
    ).fetchall()
    outcome = {"parsed": 0, "quarantined": 0, "unsupported": 0}
    run_sql(con, "decp/staging/create_parse_attempts")
    con.execute(
        "delete from ingest_parse_attempts where file_id not in "
        "(select file_id from ingest_files where status = 'registered')"
    )
    interrupted = dict(
        con.execute("select file_id, attempts from ingest_parse_attempts").fetchall()
    )
    by_format: dict[str, list[tuple[str, str, int]]] = {}
    for file_id, relative, _ in pending:
        path = paths.home / relative
        fmt, reason = sniff_format(path)
        if not reason and interrupted.get(file_id, 0) >= MAX_INTERRUPTED_READS:
            reason = (
                f"reading this file stopped the process {interrupted.pop(file_id)} times (a "
                "crash in the reader, or a kill): set aside so that the other files are read"
            )
            con.execute("delete from ingest_parse_attempts where file_id = $id", {"id": file_id})
        if reason:
            _set_status(con, file_id, "quarantined", reason)
            outcome["quarantined"] += 1
            log(f"quarantined {relative}: {reason}")
        elif fmt not in PARSERS:
            _set_status(con, file_id, "unsupported", f"format {fmt} is not read yet", fmt)
            outcome["unsupported"] += 1
            log(f"left aside {relative}: format {fmt} is not read yet")
        else:
            by_format.setdefault(fmt, []).append((file_id, str(path), _content_size(path)))

    scratch = paths.work_db.parent / "scratch"
    sizes = {file_id: size for files in by_format.values() for file_id, _, size in files}
    progress = _Progress(sum(sizes.values()), log)
    for fmt, files in by_format.items():
        done = 0
        # a file whose reading was interrupted is read alone: it may be the one that stops it
        batches = [[(file_id, path)] for file_id, path, _ in files if file_id in interrupted]
        batches += _batches([file for file in files if file[0] not in interrupted], fmt)
        for batch in batches:
            try:
                _parse_batch_attempt(con, batch, fmt, scratch, progress)
            except (*FILE_ERRORS, UnusableFileError):
                # One unreadable file fails the whole batch: retry file by file to isolate it.
                for file_id, path in batch:
                    try:
                        _parse_batch_attempt(con, [(file_id, path)], fmt, scratch, progress)
                    except (*FILE_ERRORS, UnusableFileError) as error:
                        if _parse_as_windows_1252(con, file_id, path, fmt, scratch, progress):
                            continue
                        reason = str(error).strip().splitlines()[0][:300]
                        label = FORMAT_LABELS[fmt]
                        _set_status(con, file_id, "quarantined", f"unreadable {label}: {reason}")
                        progress.batch_done(0, f"quarantined {path}: {reason}")
            done += len(batch)
            progress.batch_done(
                sum(sizes[file_id] for file_id, _ in batch),
                f"parsed {done}/{len(files)} {fmt} file(s)",
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
