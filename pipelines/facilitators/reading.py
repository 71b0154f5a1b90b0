"""Reading a facilitator's export as grids of text, whatever its layout: CSV with any delimiter
and encoding, Excel workbooks with one or several sheets, a title block above the header; and
telling an export from a DECP table by its content."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from pipelines.common.files import printable
from pipelines.common.personal_data import personal_columns
from pipelines.decp import formats
from pipelines.facilitators.mapping import (
    HEADER_SEARCH_ROWS,
    FacilitatorExportError,
    Mapping,
    Sheet,
    locate_header,
    mapping_header_index,
    recognised,
)

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


EXPORT_SUFFIXES = (".csv", ".txt", *EXCEL_SUFFIXES)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    # Excel stores 35 hours as 35.0 and dates as datetimes: give them back as written
    if re.fullmatch(r"-?\d+\.0", text):
        return text[:-2]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", text):
        return text[:10]
    return text


def _decode(raw: bytes) -> str:
    """UTF-16 told by its byte-order mark (Excel's « Texte Unicode », .txt), UTF-8 (with or
    without BOM), else Windows-1252: the encodings exports come in."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # (errors replaced: the first bytes of a file, read to sniff it, may cut a character)
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


# A title line naming the facilitator: "Facilitateur : PLIE Est Hérault" in one cell, or
# "Facilitateur :" / "Facilitatrice" and the name in the next cell.
TITLE_FACILITATOR = re.compile(r"facilitat(?:eur|rice)\s*(?::\s*(.*))?", re.IGNORECASE)


def title_facilitator(title_rows: list[list[str]]) -> str | None:
    """The facilitator the title block above an export's header names, or None."""
    for row in title_rows:
        cells = [cell.strip() for cell in row]
        for index, cell in enumerate(cells):
            match = TITLE_FACILITATOR.fullmatch(cell)
            if not match:
                continue
            name = (match.group(1) or "").strip() or next((c for c in cells[index + 1 :] if c), "")
            if name:
                return name
    return None


def _delimiter(lines: list[str]) -> str:
    """The separator that splits the header block into the most columns, consistently."""
    best, best_score = ";", -1
    for candidate in (";", "\t", ","):
        counts = [len(next(csv.reader([line], delimiter=candidate))) for line in lines if line]
        score = max(counts, default=0)
        if score > best_score:
            best, best_score = candidate, score
    return best


def is_excel(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04" and path.suffix.lower() in EXCEL_SUFFIXES


def read_grids(path: Path) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of the file as rows of text cells (a CSV is one sheet named after the file)."""
    if path.suffix.lower() == ".xls":
        raise FacilitatorExportError(
            f"{printable(path.name)} : l'ancien format Excel (.xls) n'est pas lu ; "
            "enregistrez-le en .xlsx ou en .csv"
        )
    if is_excel(path):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
        except Exception as error:  # openpyxl raises many kinds on damaged workbooks
            raise FacilitatorExportError(
                f"{printable(path.name)} : classeur Excel illisible ({error})"
            ) from error
        return [
            (str(name), [[_cell(v) for v in row] for row in frame.itertuples(index=False)])
            for name, frame in sheets.items()
        ]
    raw = path.read_bytes()
    what = binary_content(raw[: formats.SNIFF_BYTES])
    if what:
        raise FacilitatorExportError(
            f"{printable(path.name)} : ce fichier est {what}, pas un export (CSV ou classeur Excel)"
        )
    text = _decode(raw)
    lines = text.splitlines()
    delimiter = _delimiter(lines[:HEADER_SEARCH_ROWS])
    try:
        rows = [
            [c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
    except csv.Error as error:
        raise FacilitatorExportError(f"{printable(path.name)} : CSV illisible ({error})") from error
    return [(path.stem, rows)]


def binary_content(head: bytes) -> str | None:
    """What a file is when its first bytes are not text (an image, an archive, a program…), in
    French; None for text (UTF-16 and UTF-32 are text)."""
    what = next((name for magic, name in formats.MAGIC_NUMBERS if head.startswith(magic)), None)
    if what is None and formats.is_binary(formats.as_utf8_text(head)):
        what = "un fichier binaire"
    return what


def sheets_of(path: Path, mappings: list[Mapping]) -> list[Sheet]:
    sheets = []
    for name, grid in read_grids(path):
        # the header row is the first one a mapping recognises whole, else the best recognised
        index = next(
            (
                i
                for i, row in enumerate(grid[:HEADER_SEARCH_ROWS])
                if any(mapping_header_index(m, row) is not None for m in mappings)
            ),
            None,
        )
        if index is None:
            index = locate_header(grid)
        if index is None:
            sheets.append(Sheet(name, 0, grid[0] if grid else [], []))
            continue
        rows = [
            (index + 2 + offset, row)
            for offset, row in enumerate(grid[index + 1 :])
            if any(cell for cell in row)
        ]
        sheets.append(Sheet(name, index + 1, grid[index], rows, title_facilitator(grid[:index])))
    return sheets


# Column names only DECP tables have (decp-processing, data.economie.gouv.fr exports).
DECP_TABLE_COLUMNS = ("acheteur_id", "acheteur.id", "datenotification", "codecpv", "titulaire_id")


def looks_like_export(path: Path) -> bool:
    """True for an Excel workbook, a table whose header names insertion hours or a person (name,
    birth date), or any other CSV that is not a DECP table: such a file is a facilitator's
    export to map (refused with a mapping template when it cannot be), never landed as a DECP
    file — it may hold names. A binary file is not an export (it is set aside as DECP input)."""
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        return False
    if is_excel(path):
        return True
    with path.open("rb") as handle:
        raw = handle.read(65536)
    if binary_content(raw):
        return False  # landed as a DECP file, and set aside there with what it is
    head = _decode(formats.as_utf8_text(raw)).splitlines()[:HEADER_SEARCH_ROWS]
    try:
        grid = list(csv.reader(head, delimiter=_delimiter(head)))
    except csv.Error:
        return False
    index = locate_header(grid)
    fields = set(recognised(grid[index]).values()) if index is not None else set()
    if fields & {"hours_worked", "hours_planned"}:
        return True
    if any(personal_columns(row) for row in head[:HEADER_SEARCH_ROWS]):
        return True  # names or birth dates: read only as an export, pseudonymised, never landed
    first = head[0].lower().replace('"', "") if head else ""
    if formats.is_decp_csv_header(first.encode()):
        return False
    return not any(column in first for column in DECP_TABLE_COLUMNS)


def is_export_name(name: str) -> bool:
    """Files of the drop folder taken as exports (not hidden files, not Excel lock files)."""
    return not name.startswith((".", "~$")) and Path(name).suffix.lower() in EXPORT_SUFFIXES
