"""The published data as files, for people who work in spreadsheets: each published view as
Parquet and CSV (UTF-8 with BOM, ``;``), ``contracts`` as Parquet partitioned by notification
year, the indicator views in one Excel workbook with a « Lisez-moi » sheet, each territory's
contracts and buyers, and a Data Package (frictionless Table Schema) describing every column.

Everything is read from the published database itself (its views, their comments: the data
dictionary) and written into the publication's folder (``telechargements/``), so the files switch
with the database and the pages in the same rename (publications.py). Data moves through DuckDB
``COPY``; only the workbook's few thousand rows go through Python.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import xlsxwriter
from pydantic import BaseModel, ConfigDict

from pipelines.common.settings import load_settings
from pipelines.common.sql import quoted_identifier as _quoted
from pipelines.common.sql import string_literal
from pipelines.publishing.download_reuse import (
    HIVE_NULL,
    DownloadReuse,
    content,
    rows_of,
    writer_salt,
)
from pipelines.publishing.publications import DOWNLOADS

FOLDER = DOWNLOADS
WORKBOOK = "indicateurs.xlsx"
DATAPACKAGE = "datapackage.json"
SETTINGS = Path(__file__).with_name("downloads.toml")

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
TERRITORY_CODE = re.compile(r"[0-9A-Z]{2,3}")  # a région or département code, safe in a file name
# The indicator views of the workbook: small (a few thousand rows at most), what a ministry
# officer or a coordinator compares in a spreadsheet.
INDICATOR_VIEWS = (
    "pnad_shares",
    "pnad_shares_monthly",
    "pnad_breakdowns",
    "pnad_final_balance",
    "pnad_share_projection",
    "obligation_compliance",
    "publication_weaknesses",
    "facilitator_hours",
    "facilitator_hours_breakdowns",
    "ref_oecp_series",
)
# Views written as Parquet partitioned by a column (one folder per value: a year is read alone).
PARTITIONED = {"contracts": "notification_year"}
# Each territory's extract: file suffix -> (view, column naming the région, the département).
TERRITORY_EXTRACTS = {
    "contrats": ("contracts", "buyer_region_code", "buyer_departement_code"),
    "acheteurs": ("buyer_shares", "buyer_region_code", "buyer_departement_code"),
}
# DuckDB's column types as Table Schema types (https://specs.frictionlessdata.io/table-schema/).
TABLE_SCHEMA_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "integer",
    "INTEGER": "integer",
    "HUGEINT": "integer",
    "DOUBLE": "number",
    "DATE": "date",
    "TIMESTAMP": "datetime",
    "BOOLEAN": "boolean",
}


class DownloadSettings(BaseModel):
    """The ``[downloads]`` table of downloads.toml (overridden by ``$PNAD_HOME/downloads.toml``)."""

    model_config = ConfigDict(extra="forbid")
    decimal_comma: bool = False


def load_download_settings(home: Path | None) -> DownloadSettings:
    override = home / "downloads.toml" if home else None
    return load_settings(DownloadSettings, SETTINGS, override, "downloads")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB's name for it
    description: str


def published_views(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[Column]]]:
    """Every view of the published database: (its description, its columns with their
    dictionary text), in the database's order."""
    views = {
        name: (comment or "", [])
        for name, comment in con.execute(
            "select view_name, comment from duckdb_views() where schema_name = 'main' "
            "and not internal order by view_name"
        ).fetchall()
    }
    odd = [name for name in views if not IDENTIFIER.fullmatch(name)]
    if odd:
        raise ValueError(f"not an identifier among the published views: {odd}")
    for view, name, data_type, comment in con.execute(
        "select table_name, column_name, data_type, comment from duckdb_columns() "
        "where schema_name = 'main' and table_name in (select unnest($views)) "
        "order by table_name, column_index",
        {"views": list(views)},
    ).fetchall():
        views[view][1].append(Column(name, data_type, comment or ""))
    return views


def comment_columns(con: duckdb.DuckDBPyConnection, dictionary: list[dict[str, str]]) -> int:
    """``COMMENT ON COLUMN`` with its dictionary text for every column of the published views
    (``dictionary``: the data dictionary's rows); returns how many columns were commented."""
    views = {
        row[0]
        for row in con.execute(
            "select view_name from duckdb_views() where schema_name = 'main' and not internal"
        ).fetchall()
    }
    commented = 0
    for row in dictionary:
        if row["view_name"] not in views:
            continue
        # COMMENT takes no bound parameter; identifiers are the dictionary's (checked to be
        # identifiers by data_dictionary()), the text quoted as a literal.
        con.execute(
            f"comment on column {_quoted(row['view_name'])}.{_quoted(row['column_name'])} "
            f"is {string_literal(row['description'])}"
        )
        commented += 1
    return commented


def write_downloads(
    database: Path, folder: Path, settings: DownloadSettings, previous: Path | None = None
) -> dict[str, int]:
    """Write the downloads of the published ``database`` under ``folder/telechargements``;
    returns the rows written per view. ``previous`` (the publication in use) lends the files
    whose content has not changed, hard-linked (download_reuse.py)."""
    target = folder / FOLDER
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    lent = previous / FOLDER if previous is not None else None
    reuse = DownloadReuse(lent, target, writer_salt(settings.decimal_comma))
    rows, whole = {}, {}
    with duckdb.connect(str(database), read_only=True) as con:
        views = published_views(con)
        extracts = {view: (suffix, codes) for suffix, (view, *codes) in TERRITORY_EXTRACTS.items()}
        for view, (_, columns) in views.items():
            whole[view] = reuse.fingerprint(content(con, view, [c.name for c in columns])[None])
            rows[view] = rows_of(whole[view])
            select = _csv_select(view, columns, settings.decimal_comma)
            _write_view(con, reuse, view, columns, select, whole[view], csv=view not in extracts)
            if view in extracts:
                suffix, codes = extracts[view]
                _write_csv_and_extracts(
                    con, reuse, view, columns, select, whole[view], suffix, codes
                )
        indicators = ";".join(whole[view] for view in INDICATOR_VIEWS if view in whole)
        if not reuse.take("workbook", indicators, [WORKBOOK]):
            write_workbook(con, target / WORKBOOK, views)
    write_datapackage(target / DATAPACKAGE, views, settings.decimal_comma)
    reuse.save()
    return rows


def _csv_select(view: str, columns: list[Column], decimal_comma: bool) -> str:
    """The select a CSV is written from: the first column's header starts with the byte order
    mark (spreadsheets then read the file as UTF-8), lists as JSON, decimals with a comma when
    asked."""
    expressions = []
    for index, column in enumerate(columns):
        value = _quoted(column.name)
        if column.type.endswith("[]"):
            value = f"to_json({value})::varchar"
        elif decimal_comma and column.type == "DOUBLE":
            value = f"replace({value}::varchar, '.', ',')"
        alias = ("\ufeff" if index == 0 else "") + column.name
        expressions.append(f"{value} as {_quoted(alias)}")
    return f"select {', '.join(expressions)} from {_quoted(view)}"  # noqa: S608 - catalogue names


CSV_OPTIONS = "format csv, delimiter ';', header true"


def _write_view(
    con: duckdb.DuckDBPyConnection,
    reuse: DownloadReuse,
    view: str,
    columns: list[Column],
    select: str,
    fingerprint: str,
    *,
    csv: bool = True,
) -> None:
    """One view as Parquet (partitioned when listed in PARTITIONED) and, unless ``csv`` is False
    (its CSV is then written with its territories' files), as CSV from ``select``; or the
    previous publication's files when its content is the same."""
    target, name, partition = reuse.target, _quoted(view), PARTITIONED.get(view)
    files = ([] if partition else [f"{view}.parquet"]) + ([f"{view}.csv"] if csv else [])
    if files and not reuse.take(view, fingerprint, files):
        # COPY takes no bound parameter for its file: paths go in as quoted literals, names
        # are the catalogue's identifiers (checked in published_views)
        if not partition:
            parquet = string_literal(str(target / f"{view}.parquet"))
            con.execute(f"copy (select * from {name}) to {parquet} (format parquet)")  # noqa: S608
        if csv:
            csv_file = string_literal(str(target / f"{view}.csv"))
            con.execute(f"copy ({select}) to {csv_file} ({CSV_OPTIONS})")
    if partition:
        _write_partitions(con, reuse, view, columns, partition)


def _changed(
    con: duckdb.DuckDBPyConnection,
    reuse: DownloadReuse,
    view: str,
    columns: list[Column],
    by: str,
    files: Callable[[str | None], str | None],
) -> list[str | None]:
    """The values of column ``by`` whose rows changed since the previous publication (their
    files are linked from it otherwise); ``files(value)`` names a value's file or folder, None
    for a value written but never lent (not a plain code)."""
    changed = []
    for value, fingerprint in content(con, view, [c.name for c in columns], by).items():
        relative = files(value)
        key = f"{view}/{by}/{value}"
        if relative is None or not reuse.take(key, reuse.fingerprint(fingerprint), [relative]):
            changed.append(value)
    # the changed values, for a filter: bound as a list, not written into the SQL
    con.execute(
        "create or replace temp table changed_values as select unnest($values::varchar[]) as v",
        {"values": [value for value in changed if value is not None]},
    )
    return changed


def _write_partitions(
    con: duckdb.DuckDBPyConnection,
    reuse: DownloadReuse,
    view: str,
    columns: list[Column],
    partition: str,
) -> None:
    """``<view>/<partition>=<value>/`` Parquet folders: the changed values written (one COPY),
    the others linked."""
    folder = reuse.target / view

    def files(value: str | None) -> str:
        return f"{view}/{partition}={HIVE_NULL if value is None else value}"

    changed = _changed(con, reuse, view, columns, partition, files)
    if not changed:
        return
    column = _quoted(partition)
    nulls = f" or {column} is null" if None in changed else ""
    staging = reuse.target / f".{view}"
    con.execute(
        f"copy (select * from {_quoted(view)} where {column}::varchar in "  # noqa: S608
        f"(select v from changed_values){nulls}) to {string_literal(str(staging))} "
        f"(format parquet, partition_by ({column}))"
    )
    folder.mkdir(exist_ok=True)
    for part in staging.iterdir():
        part.rename(folder / part.name)
    shutil.rmtree(staging)


def _write_csv_and_extracts(
    con: duckdb.DuckDBPyConnection,
    reuse: DownloadReuse,
    view: str,
    columns: list[Column],
    select: str,
    fingerprint: str,
    suffix: str,
    code_columns: list[str],
) -> None:
    """The view's CSV, ``regions/<code>_<suffix>.csv`` and ``departements/<code>_<suffix>.csv``
    from one render: the rows are written once as CSV, partitioned by région and département
    (one COPY), and each file is put together from its parts (a département's is its part, a
    région's its départements', the national one all of them), instead of three renders of the
    same rows. A file whose rows have not changed is linked from the previous publication."""
    target = reuse.target
    pending: dict[str, tuple[int, str]] = {}  # file -> (level: 0 région, 1 département, code)
    if not reuse.take(f"{view}.csv", fingerprint, [f"{view}.csv"]):
        pending[f"{view}.csv"] = (-1, "")
    for level, (folder, column) in enumerate(
        zip(("regions", "departements"), code_columns, strict=True)
    ):

        def files(value: str | None, folder: str = folder) -> str | None:
            plain = value is not None and TERRITORY_CODE.fullmatch(value)
            return f"{folder}/{value}_{suffix}.csv" if plain else None  # else national only

        for value in _changed(con, reuse, view, columns, column, files):
            if files(value) is not None:
                pending[files(value)] = (level, value)
    if not pending:
        return
    staging = target / f".{view}_parts"
    region, departement = map(_quoted, code_columns)
    con.execute(
        f"copy ({select}) to {string_literal(str(staging))} "
        f"({CSV_OPTIONS}, partition_by ({region}, {departement}), write_partition_columns true)"
    )
    # each part file (sorted) with its (région, département) codes, from its folders' names
    # <column>=<code>
    parts = [
        ((part.parent.parent.name.split("=", 1)[1], part.parent.name.split("=", 1)[1]), part)
        for part in sorted(staging.glob("*/*/*.csv"))
    ]
    # the national file and the régions' first (they read the parts), the départements' last
    for relative, (level, code) in sorted(pending.items(), key=lambda item: item[1][0]):
        chosen = [f for codes, f in parts if level < 0 or codes[level] == code]
        (target / relative).parent.mkdir(exist_ok=True)
        if level < 0 and not chosen:  # no rows: the header alone
            con.execute(
                f"copy ({select}) to {string_literal(str(target / relative))} ({CSV_OPTIONS})"
            )
        elif level == 1 and len(chosen) == 1:
            chosen[0].rename(target / relative)
        else:
            _concatenate(chosen, target / relative)
    shutil.rmtree(staging)


def _concatenate(parts: list[Path], target: Path) -> None:
    """CSV files with the same header, one after the other, under one header."""
    with target.open("wb") as out:
        for number, part in enumerate(parts):
            with part.open("rb") as handle:
                if number:
                    handle.readline()  # the header: column names, never a line break inside
                shutil.copyfileobj(handle, out, 1 << 20)


def write_workbook(
    con: duckdb.DuckDBPyConnection, path: Path, views: dict[str, tuple[str, list[Column]]]
) -> None:
    """The indicator views in one workbook: a « Lisez-moi » sheet (what each sheet holds, each
    column's definition), then a sheet per view. xlsxwriter in constant-memory mode writes each
    row as it comes (several times faster than openpyxl, which the project keeps for reading
    facilitators' workbooks)."""
    partial = path.with_name(f".{path.name}.partial")
    workbook = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    bold = workbook.add_format({"bold": True})
    dates = {
        "DATE": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "TIMESTAMP": workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    shown = [view for view in INDICATOR_VIEWS if view in views]
    readme = workbook.add_worksheet("Lisez-moi")
    readme.write_row(0, 0, ["Indicateurs du PNAD : une feuille par vue de la base publiée."])
    readme.write_row(1, 0, ["Chaque colonne est définie ci-dessous (dictionnaire des données)."])
    readme.write_row(3, 0, ["feuille", "colonne", "type", "définition"], bold)
    line = 4
    for view in shown:
        description, columns = views[view]
        readme.write_row(line, 0, [view, "", "", description])
        for column in columns:
            line += 1
            readme.write_row(line, 0, [view, column.name, column.type, column.description])
        line += 1
    for view in shown:
        columns = views[view][1]
        sheet = workbook.add_worksheet(view[:31])
        sheet.write_row(0, 0, [column.name for column in columns], bold)
        styles = [dates.get(column.type) for column in columns]
        cursor = con.execute(f"select * from {_quoted(view)}")  # noqa: S608 - catalogue name
        number = 0
        while batch := cursor.fetchmany(5000):
            for row in batch:
                number += 1
                for col, (value, style) in enumerate(zip(row, styles, strict=True)):
                    _write_cell(sheet, number, col, value, style)
    workbook.close()
    partial.replace(path)


def _write_cell(sheet, row: int, col: int, value: object, style) -> None:
    """One value as a spreadsheet holds it: dates as dates, lists as text, nothing for null nor
    for a share without contracts (NaN, which a spreadsheet cell cannot hold)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return
    if style is not None:
        sheet.write_datetime(row, col, value, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, _cell(value))


def _cell(value: object) -> str:
    """A value as text (lists as JSON)."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_datapackage(
    path: Path, views: dict[str, tuple[str, list[Column]]], decimal_comma: bool
) -> None:
    """A Data Package (frictionless): one resource per view's CSV, with its Table Schema built
    from the data dictionary (the columns' comments) and the CSV dialect."""
    resources = []
    for view, (description, columns) in views.items():
        fields = []
        for column in columns:
            field = {
                "name": column.name,
                "type": "array" if column.type.endswith("[]") else _schema_type(column.type),
                "description": column.description,
            }
            if field["type"] == "number" and decimal_comma:
                field["decimalChar"] = ","
            if field["type"] == "datetime":
                field["format"] = "any"  # DuckDB writes "2026-12-06 15:33:04"
            fields.append(field)
        resources.append(
            {
                "name": view,
                "path": f"{view}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "description": description,
                "dialect": {"delimiter": ";", "header": True},
                "schema": {"fields": fields},
            }
        )
    package = {
        "name": "pnad-tracker",
        "title": "Suivi du PNAD : base publiée",
        "profile": "tabular-data-package",
        "resources": resources,
    }
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")


def _schema_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return "number"
    return TABLE_SCHEMA_TYPES.get(duckdb_type, "any")
