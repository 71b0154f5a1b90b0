"""Reading tabular DECP files (Parquet, CSV) into staging: the fixed column set over the file's
columns, a CSV converted to Parquet first with its malformed rows set aside, a file without
modification ids read by its rows' dates, and the contracts read by ranges of rows so that
memory follows the part, not the file.
SQL: ``sql/decp/staging/tabular_*.sql``, ``batch_decp_tabular_records.sql``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.common.sql import run_sql
from pipelines.decp.formats import header_delimiter, read_head, utf8_copy
from pipelines.decp.parts import Part, UnusableFileError
from pipelines.decp.tabular_columns import TABULAR_COLUMNS

# Rows of a tabular file read at once: a larger file is read in parts (the contracts whose initial
# row is in each range of rows), so that its memory follows this, not the file (3 M rows, more).
TABULAR_PART_ROWS = 1_500_000


# A CSV file's malformed rows, stored as rejects with the file's first part.
MALFORMED_ROW_STEPS = (
    "decp/staging/insert_tabular_malformed_rejects",
    "decp/staging/insert_tabular_malformed_counts",
)


def _csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV file, read from its header line (header_delimiter)."""
    header = read_head(path).removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return header_delimiter(header).decode()


@dataclass(frozen=True)
class TabularSource:
    """The Parquet file tabular_rows reads, its rows, and whether it gives modification ids
    (decp-processing's modification_id, the exports' idModification)."""

    path: str
    rows: int
    has_modification_ids: bool


def define_tabular_rows(
    con: duckdb.DuckDBPyConnection, path: str, fmt: str, scratch: Path
) -> TabularSource:
    """Define the temporary table macro tabular_rows(path) over a tabular file, with the fixed
    column set (columns the file lacks are NULL) and row_number (1-based place in the file);
    returns the Parquet file it reads, its number of rows and whether it has modification ids.

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
        if utf8_copy(Path(path), utf8):  # DuckDB reads UTF-8 only
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
            "fichier tabulaire sans colonnes DECP (il faut id et acheteur_id, ou uid)"
        )
    con.execute(
        "create or replace temp macro tabular_rows(path) as table "  # noqa: S608 - identifiers from TABULAR_COLUMNS
        f"select file_row_number + 1 as row_number, {', '.join(selected)} "
        "from read_parquet(path, file_row_number = true)"
    )
    rows = con.execute("select count(*) from read_parquet($path)", {"path": path}).fetchone()[0]
    has_ids = any(name.lower() in present for name in TABULAR_COLUMNS["modification_id"])
    return TabularSource(path, rows, has_ids)


# Rows of a tabular file folded into contracts at once (tabular_contract_folds.sql): the folds'
# list aggregates (holders, acts, modifications) held 3 M rows at once over the default 2 GB
# memory limit in 3 runs of 15; in parts, their memory follows the part.
FOLD_PART_ROWS = 750_000


def fold_contracts(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Fill tabular_contract_folds from tabular_row_keys, in parts of about FOLD_PART_ROWS rows
    (the contracts of a part chosen by a hash of their key: a contract's rows stay together)."""
    parts = max(1, -(-rows // FOLD_PART_ROWS))
    for part in range(parts):
        run_sql(
            con,
            "decp/staging/tabular_contract_folds",
            {"fold_parts": parts, "fold_part": part},
        )
        if part == 0:
            con.execute(
                "create or replace temp table tabular_contract_folds as "
                "from tabular_contract_folds_part"
            )
        else:
            con.execute("insert into tabular_contract_folds from tabular_contract_folds_part")
    con.execute("drop table tabular_contract_folds_part")


def tabular_parts(
    con: duckdb.DuckDBPyConnection,
    batch: list[tuple[str, str]],
    fmt: str,
    scratch: Path,
    temporary: list[Path],
) -> list[Part]:
    """How a tabular file is read: what every row gives its contract first, then the contracts
    by ranges of initial rows (TABULAR_PART_ROWS), each part's keys into batch_records and its
    records straight into stg_decp_records."""
    ((file_id, path),) = batch  # tabular files are large: one per batch
    source = define_tabular_rows(con, path, fmt, scratch)
    if source.path != path:
        temporary.append(Path(source.path))
    run_sql(con, "decp/staging/tabular_row_keys", {"path": source.path})
    if not source.has_modification_ids:  # a contract's rows told apart by their dates
        run_sql(con, "decp/staging/tabular_dated_modifications", {"path": source.path})
    fold_contracts(con, source.rows)
    parts = []
    for first in range(1, max(source.rows, 1) + 1, TABULAR_PART_ROWS):
        params = {
            "file_id": file_id,
            "path": source.path,
            "first_row": first,
            "last_row": first + TABULAR_PART_ROWS - 1,
        }
        read = functools.partial(run_sql, con, "decp/staging/batch_decp_tabular_records", params)
        steps = () if parts else MALFORMED_ROW_STEPS  # with the first part
        parts.append(Part(read, "decp/staging/insert_stg_decp_tabular_records", params, steps))
    return parts
