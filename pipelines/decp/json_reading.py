"""Reading DECP JSON documents (and XML, converted to the same JSON shape) into staging: a batch
of ordinary files in one typed read, a large document split, streaming, into parts.
SQL: ``sql/decp/staging/batch_json_lists_*.sql``, ``batch_decp_json_records.sql``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines.common.sql import insert_rows, run_sql
from pipelines.decp.formats import content_size, json_root_shape
from pipelines.decp.json_split import InvalidJson, NotSplittable, RecordTooLarge, split_document
from pipelines.decp.parts import FILE_ERRORS, Part, UnusableFileError
from pipelines.decp.xml_records import XmlRejected, xml_to_decp_json

if TYPE_CHECKING:
    from pipelines.decp.parsing import ParseProgress


# A JSON document larger than this is read alone, split, streaming, into parts of PART_BYTES
# (DuckDB reads a document whole, so its memory would follow the largest file).
LARGE_JSON_BYTES = 96 * 1024 * 1024


PART_BYTES = 48 * 1024 * 1024


def json_records(con: duckdb.DuckDBPyConnection, batch: list[tuple[str, str]]) -> None:
    """Fill batch_records with the records of a batch of DECP JSON files; files without a
    "marches" root are set aside in batch_unreadable.

    Files whose root shape is known from their first bytes are read with typed lists (one parse);
    a group the typed read refuses, and files whose shape is unknown, are read as generic JSON.
    Runs outside any transaction (a refused read would abort it).
    """
    run_sql(con, "decp/staging/create_batch_records")
    groups: dict[str | None, list[str]] = {}
    for _, path in batch:
        groups.setdefault(json_root_shape(Path(path)), []).append(path)
    for shape, group in groups.items():
        largest = max(content_size(Path(path)) for path in group)
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


def json_parts(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    scratch: Path,
    temporary: list[Path],
    progress: ParseProgress,
    repair: bool = False,
) -> list[Part]:
    """How a batch of DECP JSON files is read: the steps that each fill batch_records.

    A batch of ordinary files is one step. A large file (alone in its batch) is split, streaming,
    into parts read one after the other, so that memory does not follow its size. With
    ``repair`` (a file alone that DuckDB refused), the file is split with each record written
    again as valid JSON: a record no reader can use is rejected, the others are read.
    """
    if len(batch) == 1 and (repair or is_large_json(Path(batch[0][1]))):
        ((file_id, path),) = batch
        directory = scratch / f"{file_id}.parts"
        temporary.append(directory)
        try:
            document = split_document(
                Path(path),
                directory,
                PART_BYTES,
                lambda chars: progress.within_file(chars),
                repair=repair,
            )
        except RecordTooLarge as error:
            raise UnusableFileError(str(error)) from error
        except (NotSplittable, InvalidJson) as error:
            if repair:
                raise UnusableFileError(f"JSON invalide : {error}") from error
            # not the usual shape, or not JSON to the json module: read whole, as a small file
            # is, and let DuckDB's reader decide (the same reasons, the same outcome)
            progress.log(f"{Path(path).name} lu d'un seul tenant : {error}")
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
            return [Part(functools.partial(json_records, con, [part])) for part in parts]
    return [Part(functools.partial(json_records, con, batch))]


def is_large_json(path: Path) -> bool:
    """Too large to be read whole: split into parts instead."""
    return content_size(path) > LARGE_JSON_BYTES


def xml_as_json(
    batch: list[tuple[str, str]], scratch: Path, temporary: list[Path]
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The batch's XML files converted (safely, streaming) into JSON documents under scratch,
    and the reading note of each file that has one (file_id -> note)."""
    scratch.mkdir(parents=True, exist_ok=True)
    json_batch = []
    notes = {}
    for file_id, path in batch:
        target = scratch / f"{file_id}.json"
        temporary.append(target)
        try:
            note = xml_to_decp_json(Path(path), target).note()
        except XmlRejected as error:
            raise UnusableFileError(str(error)) from error
        json_batch.append((file_id, str(target)))
        if note:
            notes[file_id] = note
    return json_batch, notes
