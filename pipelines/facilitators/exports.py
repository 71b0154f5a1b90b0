"""Facilitators' exports (ABC Clauses and spreadsheets): read any real layout, map its columns to
the canonical model, pseudonymise participants, and load it into DuckDB with every row accounted
for.

Reading and mapping happen here (a few thousand rows per export); typing, validation and the
canonical tables are SQL (``sql/facilitators/``). Names and birth dates never leave this module:
they only feed the pseudonym and are dropped before anything reaches the database.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.sql import run_sql
from pipelines.decp import ingest as decp_ingest

PRESETS_DIR = Path(__file__).with_name("mappings")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
EXPORT_SUFFIXES = (".csv", ".txt", *EXCEL_SUFFIXES)
HEADER_SEARCH_ROWS = 30  # exports often start with a title block; the header is within these rows
MIN_RECOGNISED_HEADERS = 3
# Words that carry no meaning in a column header ("Nombre d'heures réalisées" = "heures réalisées").
STOP_WORDS = frozenset(
    "de d du des la le les l en a au aux nombre nb total totaux h hrs ht ttc".split()
)
PERSONAL_FIELDS = (
    "participant_id",
    "participant_last_name",
    "participant_first_name",
    "participant_birth_date",
)
PUBLIC_FLAGS = ("deld", "rsa", "th", "jeune", "senior", "qpv", "iae", "geiq")


class FacilitatorExportError(ValueError):
    """An export that cannot be loaded as it is; the message says what to do."""


class UnmappedExportError(FacilitatorExportError):
    """No mapping recognises the file's columns with confidence; a template was written."""

    def __init__(self, message: str, template: Path | None, unmapped: list[str]):
        super().__init__(message)
        self.template = template
        self.unmapped = unmapped


@dataclass(frozen=True)
class FieldSpec:
    name: str
    level: str
    personal: bool
    description: str
    synonyms: frozenset[str]


def header_key(text: object) -> str:
    """The comparison key of a column header: no accents, lower case, words only, no stop words.
    'Nombre d’heures réalisées (h)' and 'HEURES REALISEES' share the key 'heures realisees'."""
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", plain.lower()).split()
    return " ".join(w for w in words if w not in STOP_WORDS)


@cache
def canonical_fields() -> dict[str, FieldSpec]:
    """The canonical columns of an export (pipelines/reference/facilitator_fields.csv)."""
    with (REFERENCE_DIR / "facilitator_fields.csv").open(encoding="utf-8") as handle:
        return {
            row["field"]: FieldSpec(
                row["field"],
                row["level"],
                row["personal"] == "true",
                row["description"],
                frozenset(header_key(s) for s in row["synonyms"].split("|")) | {row["field"]},
            )
            for row in csv.DictReader(handle)
        }


@dataclass
class Mapping:
    """A column mapping: canonical field -> header as written in the file (one per layout)."""

    name: str
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    facilitator: str | None = None
    source: str = "recognised"

    @classmethod
    def from_file(cls, path: Path) -> Mapping:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise FacilitatorExportError(
                f"mapping file {path} is not valid TOML: {error}"
            ) from error
        columns = {k: v for k, v in data.get("columns", {}).items() if isinstance(v, str) and v}
        unknown = sorted(set(columns) - set(canonical_fields()))
        if unknown:
            raise FacilitatorExportError(
                f"mapping file {path} names unknown fields: {', '.join(unknown)} "
                f"(known: {', '.join(canonical_fields())})"
            )
        return cls(
            name=data.get("name", path.stem),
            columns=columns,
            values={k: dict(v) for k, v in data.get("values", {}).items()},
            facilitator=data.get("facilitator"),
            source=str(path),
        )


def available_mappings(paths: PnadPaths) -> list[Mapping]:
    """The user's mappings (PNAD_HOME/mappings/*.toml) first, then the presets shipped here."""
    found = []
    for folder in (paths.mappings, PRESETS_DIR):
        if folder.is_dir():
            found += [
                Mapping.from_file(p)
                for p in sorted(folder.glob("*.toml"))
                if not p.name.endswith(".a_completer.toml")
            ]
    return found


@dataclass
class Sheet:
    """One table of an export: its header row and its data rows, all as text."""

    name: str
    header_line: int  # 1-based line (CSV) or row (Excel) of the header
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line number, cells)


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
    """UTF-8 (with or without BOM), else Windows-1252: the two encodings exports come in."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


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
            f"{path.name}: old Excel format (.xls) is not read; save it as .xlsx or .csv"
        )
    if is_excel(path):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
        except Exception as error:  # openpyxl raises many kinds on damaged workbooks
            raise FacilitatorExportError(
                f"{path.name}: unreadable Excel workbook ({error})"
            ) from error
        return [
            (str(name), [[_cell(v) for v in row] for row in frame.itertuples(index=False)])
            for name, frame in sheets.items()
        ]
    text = _decode(path.read_bytes())
    lines = text.splitlines()
    delimiter = _delimiter(lines[:HEADER_SEARCH_ROWS])
    rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return [(path.stem, rows)]


def _recognised(headers: list[str]) -> dict[int, str]:
    """Column index -> canonical field, for the headers a synonym recognises."""
    by_key = {syn: spec.name for spec in canonical_fields().values() for syn in spec.synonyms}
    return {i: by_key[header_key(h)] for i, h in enumerate(headers) if header_key(h) in by_key}


def locate_header(grid: list[list[str]]) -> int | None:
    """Index of the header row: among the first rows, the one most headers are recognised in."""
    best, best_count = None, MIN_RECOGNISED_HEADERS - 1
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        count = len(set(_recognised(row).values()))
        if count > best_count:
            best, best_count = index, count
    return best


def _mapping_header_index(mapping: Mapping, headers: list[str]) -> dict[str, int] | None:
    """field -> column index when every header the mapping names is in the row, else None."""
    keys = {header_key(h): i for i, h in enumerate(headers) if h}
    found = {f: keys.get(header_key(h)) for f, h in mapping.columns.items()}
    return None if None in found.values() else found  # type: ignore[return-value]


def sheet_kind(fields: set[str]) -> str | None:
    """participants (hours worked per participant), marches (hours planned), or None."""
    has_marche = bool(fields & {"marche_id", "decp_id", "marche_object", "operation_id"})
    has_person = bool(fields & {"participant_id", "participant_last_name"})
    if "hours_worked" in fields and has_marche and has_person:
        return "participants"
    if "hours_planned" in fields and "marche_id" in fields and "hours_worked" not in fields:
        return "marches"
    return None


@dataclass
class MappedSheet:
    sheet: Sheet
    mapping: Mapping
    columns: dict[str, int]  # canonical field -> column index
    kind: str
    ignored: list[str]


def map_sheet(sheet: Sheet, mappings: list[Mapping]) -> MappedSheet | str:
    """The sheet mapped by the first mapping whose headers are all present, else by recognised
    synonyms; or the reason it cannot be mapped confidently."""
    for mapping in mappings:
        columns = _mapping_header_index(mapping, sheet.headers)
        if columns is not None and (kind := sheet_kind(set(columns))):
            ignored = [h for i, h in enumerate(sheet.headers) if h and i not in columns.values()]
            return MappedSheet(sheet, mapping, columns, kind, ignored)
    recognised = _recognised(sheet.headers)
    by_field: dict[str, list[int]] = {}
    for index, name in recognised.items():
        by_field.setdefault(name, []).append(index)
    ambiguous = {f: idx for f, idx in by_field.items() if len(idx) > 1}
    if ambiguous:
        return "; ".join(
            f"columns {', '.join(repr(sheet.headers[i]) for i in idx)} could all be {f}"
            for f, idx in sorted(ambiguous.items())
        )
    columns = {f: idx[0] for f, idx in by_field.items()}
    kind = sheet_kind(set(columns))
    if kind is None:
        return (
            "no hours column with a marché and a participant (or a marché sheet with hours "
            "planned) recognised"
        )
    ignored = [h for i, h in enumerate(sheet.headers) if h and i not in recognised]
    return MappedSheet(sheet, Mapping("reconnaissance des en-têtes", {}), columns, kind, ignored)


def _sheets(path: Path, mappings: list[Mapping]) -> list[Sheet]:
    sheets = []
    for name, grid in read_grids(path):
        # the header row is the first one a mapping recognises whole, else the best recognised
        index = next(
            (
                i
                for i, row in enumerate(grid[:HEADER_SEARCH_ROWS])
                if any(_mapping_header_index(m, row) is not None for m in mappings)
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
        sheets.append(Sheet(name, index + 1, grid[index], rows))
    return sheets


# Column names only DECP tables have (decp-processing, data.economie.gouv.fr exports).
DECP_TABLE_COLUMNS = ("acheteur_id", "acheteur.id", "datenotification", "codecpv", "titulaire_id")


def looks_like_export(path: Path) -> bool:
    """True for an Excel workbook, a table whose header names insertion hours, or any other
    CSV that is not a DECP table: such a file is a facilitator's export to map (refused with a
    mapping template when it cannot be), never landed as a DECP file — it may hold names."""
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        return False
    if is_excel(path):
        return True
    head = _decode(path.read_bytes()[:65536]).splitlines()[:HEADER_SEARCH_ROWS]
    grid = list(csv.reader(head, delimiter=_delimiter(head)))
    index = locate_header(grid)
    fields = set(_recognised(grid[index]).values()) if index is not None else set()
    if fields & {"hours_worked", "hours_planned"}:
        return True
    first = head[0].lower().replace('"', "") if head else ""
    if decp_ingest.is_decp_csv_header(first.encode()):
        return False
    return not any(column in first for column in DECP_TABLE_COLUMNS)


def write_template(path: Path, sheets: list[Sheet], target_dir: Path) -> Path:
    """A mapping file to fill in: every canonical field with the header guessed for it (or
    empty), and the file's headers listed. Renamed to .toml, it is used on the next load."""
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem)[:60] or "export"
    target = target_dir / f"{stem}.a_completer.toml"
    headers = [h for s in sheets for h in s.headers if h]
    guessed = {}
    for sheet in sheets:
        for index, name in _recognised(sheet.headers).items():
            guessed.setdefault(name, sheet.headers[index])
    lines = [
        f"# Correspondance des colonnes pour « {path.name} ».",
        "# Pour chaque champ, écrire l'en-tête de colonne tel qu'il figure dans le fichier",
        '# (laisser "" si la colonne n\'existe pas), puis renommer ce fichier en .toml',
        f"# (sans « .a_completer ») dans {target_dir}.",
        f"# En-têtes trouvés : {' | '.join(headers)}",
        "",
        f'name = "{stem}"',
        '# facilitator = "Nom du facilitateur"   # si le fichier ne le dit pas',
        "",
        "[columns]",
    ]
    for spec in canonical_fields().values():
        value = guessed.get(spec.name, "").replace('"', '\\"')
        lines.append(f'{spec.name} = "{value}"  # {spec.description}')
    lines += [
        "",
        "# Valeurs propres à ce fichier, par exemple :",
        "# [values.modality]",
        '# "Recrutement en direct" = "embauche_directe"',
        "",
    ]
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def installation_secret(paths: PnadPaths) -> bytes:
    """The key of participant pseudonyms: $PNAD_PSEUDONYM_SECRET, else a random secret created
    once in PNAD_HOME/.pnad_secret (readable by its owner only). The same person gets the same
    pseudonym in every export of this installation, and nobody without the key can go back."""
    if os.environ.get("PNAD_PSEUDONYM_SECRET"):
        return os.environ["PNAD_PSEUDONYM_SECRET"].encode()
    target = paths.pseudonym_secret
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return target.read_text().strip().encode()


NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)  # identities and facilitator names repeat from line to line
def _identity_key(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return NOT_ALPHANUMERIC.sub("", text.lower())


def _date_key(text: str) -> str:
    """A date however it is written (1990-05-04, 04/05/1990, Excel's datetime) as ISO digits."""
    text = text.strip()[:10]
    for layout in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, layout).strftime("%Y%m%d")
        except ValueError:
            continue
    return _identity_key(text)


def pseudonym(secret: bytes, facilitator: str, row: dict[str, str]) -> str | None:
    """HMAC-SHA256 of the participant's identity. From name + first name + birth date when
    present (the same person across facilitators), else from the facilitator's own identifier
    (scoped to that facilitator: two tools may reuse a number). None when neither is given."""
    last = _identity_key(row.get("participant_last_name", ""))
    if last:
        first = _identity_key(row.get("participant_first_name", ""))
        birth = _date_key(row.get("participant_birth_date", ""))
        identity = f"person|{last}|{first}|{birth}"
    elif _identity_key(row.get("participant_id", "")):
        identity = f"id|{_identity_key(facilitator)}|{_identity_key(row['participant_id'])}"
    else:
        return None
    return "P" + hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()[:20]


TOTAL_LABEL = re.compile(r"(sous[- ]?)?(total|totaux)\b|ensemble\b")


def _is_total_row(cells: list[str]) -> bool:
    """A totals line at the bottom of a sheet ('Total', 'TOTAL GÉNÉRAL', 'Sous-total')."""
    for cell in cells[:4]:
        # cheap test first: a label of a totals line starts with t, s or e
        if cell[:1] in "TtSsEe" and TOTAL_LABEL.match(cell.lower()):
            return True
    return False


STAGED_FIELDS = [f for f in canonical_fields() if f not in PERSONAL_FIELDS]


def staged_frame(mapped: list[MappedSheet], secret: bytes, facilitator: str) -> pd.DataFrame:
    """One text row per data row of every mapped sheet, canonical columns only, with the
    participant pseudonym in place of any personal column. Built column by column: an export
    of a few hundred thousand lines takes seconds."""
    frames = []
    for item in mapped:
        rows = [cells for _, cells in item.sheet.rows]
        column = {
            f: [cells[i] if i < len(cells) else "" for cells in rows]
            for f, i in item.columns.items()
        }
        frame = pd.DataFrame({f: column.get(f) for f in STAGED_FIELDS if f in column})
        for name in frame.columns:
            # an empty cell is no value; in a column of publics the file has, it means "no"
            if name != "publics" and not name.startswith("public_"):
                frame[name] = frame[name].mask(frame[name] == "")
        frame.insert(0, "sheet", item.sheet.name)
        frame.insert(1, "sheet_kind", item.kind)
        frame.insert(2, "line_number", [line for line, _ in item.sheet.rows])
        frame.insert(3, "is_total_row", [_is_total_row(cells) for cells in rows])
        if item.kind == "participants":
            personal = [column.get(f, [""] * len(rows)) for f in (*PERSONAL_FIELDS, "facilitator")]
            frame.insert(
                4,
                "participant_key",
                [
                    pseudonym(
                        secret,
                        row_facilitator or facilitator,
                        dict(zip(PERSONAL_FIELDS, values, strict=True)),
                    )
                    for *values, row_facilitator in zip(*personal, strict=True)
                ],
            )
        frames.append(frame)
    columns = [
        "sheet",
        "sheet_kind",
        "line_number",
        "is_total_row",
        "participant_key",
        *STAGED_FIELDS,
    ]
    combined = pd.concat(frames, ignore_index=True).reindex(columns=columns)
    return combined.astype(
        {c: "string" for c in columns if c not in ("line_number", "is_total_row")}
    )


def _value_map(mapped: list[MappedSheet]) -> pd.DataFrame:
    """The vocabulary of the export's coded values: the file's own mapping first, then the
    built-in vocabulary (pipelines/reference/facilitator_vocabulary.csv)."""
    rows = [
        (name, spelling, value)
        for item in mapped
        for name, values in item.mapping.values.items()
        for spelling, value in values.items()
    ]
    return pd.DataFrame(rows, columns=["field", "spelling", "value"], dtype="string")


def file_id_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def _parse_period(text: str | None) -> tuple[str, str] | None:
    """'2024' or '2024-01-01:2024-06-30' -> (first day, last day) as ISO dates."""
    if not text:
        return None
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01", f"{text}-12-31"
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})", text)
    if not match:
        raise FacilitatorExportError(
            f"period {text!r}: write a year (2024) or two dates (2024-01-01:2024-06-30)"
        )
    return match.group(1), match.group(2)


def load_export(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths,
    path: Path,
    *,
    facilitator: str | None = None,
    period: str | None = None,
    reload: bool = False,
) -> dict:
    """Load one export into the canonical tables (one transaction); returns its accounting.

    An export already loaded (same content) changes nothing, unless ``reload`` (after a mapping
    was fixed: its earlier lines are replaced by the new reading). A later export from the same
    facilitator that covers an earlier one's period and shares work contracts with it replaces
    it; one sharing work contracts without covering the period is refused (those hours would
    count twice); exports sharing none add up."""
    path = Path(path)
    file_id = file_id_of(path)
    known = con.execute(
        "select status from facilitator_files where file_id = $id", {"id": file_id}
    ).fetchone()
    if known and known[0] != "withdrawn" and not reload:
        return {**file_report(con, file_id), "file": str(path), "already_loaded": True}
    mappings = available_mappings(paths)
    sheets = _sheets(path, mappings)
    mapped, problems = [], []
    for sheet in sheets:
        result = map_sheet(sheet, mappings)
        if isinstance(result, MappedSheet):
            mapped.append(result)
        elif sheet.rows:
            problems.append(f"sheet {sheet.name!r} (header line {sheet.header_line}): {result}")
    if not mapped:
        template = write_template(path, sheets, paths.mappings)
        unmapped = [
            h
            for s in sheets
            for h in s.headers
            if h
            and header_key(h)
            not in {syn for spec in canonical_fields().values() for syn in spec.synonyms}
        ]
        raise UnmappedExportError(
            f"{path.name}: columns not recognised with confidence "
            f"({'; '.join(problems) or 'no header row found'}). "
            f"Unmapped columns: {', '.join(repr(h) for h in unmapped) or 'none'}. "
            f"Fill in the mapping template {template} and rename it to .toml, then load again.",
            template,
            unmapped,
        )
    declared = facilitator or next(
        (m.mapping.facilitator for m in mapped if m.mapping.facilitator), None
    )
    secret = installation_secret(paths)
    frame = staged_frame(mapped, secret, declared or "")
    if declared is None:
        named = sorted(set(frame.loc[~frame["is_total_row"], "facilitator"].dropna()))
        if not named:
            # the facilitator is the key a corrected export replaces the earlier one by:
            # guessing it (from a file name) would count a renamed correction twice
            raise FacilitatorExportError(
                f"{path.name}: the file does not say which facilitator sent it (no "
                "« Facilitateur » column): give --facilitator NAME, or put it in "
                f"{paths.facilitator_drop}/<NAME>/"
            )
        declared = " + ".join(named)
    override = _parse_period(period)
    run_sql(
        con,
        "reference/facilitator_vocabulary",
        {"path": str(REFERENCE_DIR / "facilitator_vocabulary.csv")},
    )
    con.execute("begin transaction")
    try:
        con.register("facilitator_upload", frame)
        con.register("facilitator_upload_values", _value_map(mapped))
        _set_variables(con, facilitator_name=declared)
        run_sql(con, "facilitators/stage_facilitator_rows")
        con.unregister("facilitator_upload")
        con.unregister("facilitator_upload_values")
        start, end = (
            override
            or con.execute(
                "select min(period_start)::varchar, max(period_end)::varchar "
                "from stg_facilitator_hours"
            ).fetchone()
        )
        if known:  # reload: the earlier reading of this very file gives way
            for table in FACILITATOR_TABLES:
                con.execute(
                    f"delete from {table} where file_id = $id",  # noqa: S608 - fixed names
                    {"id": file_id},
                )
        replaced = _exports_replaced(con, path.name, declared, start, end)
        _set_variables(
            con,
            file_id=file_id,
            file_name=path.name,
            period_start=start,
            period_end=end,
            layout=", ".join(sorted({m.mapping.name for m in mapped})),
            sheets=", ".join(f"{m.sheet.name} ({m.kind})" for m in mapped),
            ignored_columns=sorted({h for m in mapped for h in m.ignored}),
            replaced=replaced,
        )
        run_sql(con, "facilitators/insert_facilitator_export")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for name in ("stg_facilitator_rows", "stg_facilitator_hours", "stg_facilitator_value_map"):
            con.execute(f"drop table if exists {name}")  # noqa: S608 - fixed names
    report = file_report(con, file_id)
    report.update(file=str(path), already_loaded=False, unmapped_sheets=problems)
    return report


def _exports_replaced(
    con: duckdb.DuckDBPyConnection, name: str, facilitator: str, start: str, end: str
) -> list[str]:
    """The active exports of the same facilitator the staged one replaces: those of exactly the
    same period (a corrected file), and those sharing work contracts with it whose period it
    covers (a cumulative file). One sharing work contracts whose period it does not cover is
    refused: those hours would count twice. Exports sharing none add up (monthly files)."""
    if not start:
        return []
    overlapping = con.execute(
        "select file_id, file_name, period_start, period_end, "
        "period_start >= $start::date and period_end <= $end::date as covered, "
        "period_start = $start::date and period_end = $end::date as same_period, "
        "exists (select 1 from facilitator_work_contracts w where w.file_id = f.file_id "
        "and w.work_contract_key in (select work_contract_key from stg_facilitator_rows "
        "where reject_reason is null)) as shares_work "
        "from facilitator_files f where status = 'active' and facilitator = $facilitator "
        "and period_start <= $end::date and period_end >= $start::date",
        {"start": start, "end": end, "facilitator": facilitator},
    ).fetchall()
    partial = [r for r in overlapping if r[6] and not r[4]]
    if partial:
        raise FacilitatorExportError(
            f"{name} ({facilitator}, {start} to {end}) repeats work contracts of "
            + ", ".join(f"{r[1]} ({r[2]} to {r[3]})" for r in partial)
            + " without covering its period: those hours would be counted twice. Load an "
            "export covering the whole period of the earlier one (it then replaces it), or "
            "give --period."
        )
    return [r[0] for r in overlapping if r[5] or (r[6] and r[4])]


def _set_variables(con: duckdb.DuckDBPyConnection, **values: object) -> None:
    """DuckDB session variables read by the SQL files (getvariable): a file of several
    statements cannot take bound parameters, variables are bound values all the same."""
    for name, value in values.items():
        con.execute(f"set variable {name} = $value", {"value": value})


def file_report(con: duckdb.DuckDBPyConnection, file_id: str) -> dict:
    """The accounting of one loaded export, as `pnad ingest --json` prints it."""
    cursor = con.execute(
        "select file_id, file_name, facilitator, layout, period_start::varchar as period_start, "
        "period_end::varchar as period_end, status, rows_read as records_read, "
        "rows_loaded as loaded, 0 as duplicates, rows_rejected as rejected, replaced_files, "
        "(select coalesce(sum(lines), 0) from facilitator_unrecognised_values u "
        "where u.file_id = $id) as lines_with_unrecognised_values "
        "from facilitator_files where file_id = $id",
        {"id": file_id},
    )
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    report = dict(zip(names, row, strict=True))
    report["format"] = f"facilitator:{report.pop('layout')}"
    return report


def is_export_name(name: str) -> bool:
    """Files of the drop folder taken as exports (not hidden files, not Excel lock files)."""
    return not name.startswith((".", "~$")) and Path(name).suffix.lower() in EXPORT_SUFFIXES


def pending_exports(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> list[Path]:
    """Exports in the drop folder whose content is not loaded yet (oldest first)."""
    folder = paths.facilitator_drop
    if not folder.is_dir():
        return []
    candidates = sorted(
        (p for p in folder.rglob("*") if p.is_file() and is_export_name(p.name)),
        key=lambda p: (p.stat().st_mtime_ns, str(p)),
    )
    known = {row[0] for row in con.execute("select file_id from facilitator_files").fetchall()}
    return [p for p in candidates if file_id_of(p) not in known]


def drop_folder_facilitator(paths: PnadPaths, path: Path) -> str | None:
    """A sub-folder of the drop folder names the facilitator (facilitateurs/<nom>/export.csv)."""
    relative = path.resolve().relative_to(paths.facilitator_drop.resolve())
    return relative.parts[0] if len(relative.parts) > 1 else None


def load_pending_exports(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths
) -> tuple[list[dict], list[dict]]:
    """Load every new export of the drop folder; (reports, errors). A file that cannot be loaded
    is reported with its reason and does not stop the others; it is tried again next time."""
    reports, errors = [], []
    for path in pending_exports(con, paths):
        try:
            reports.append(
                load_export(con, paths, path, facilitator=drop_folder_facilitator(paths, path))
            )
        except FacilitatorExportError as error:
            errors.append({"file": str(path), "error": str(error)})
    con.execute("create or replace table facilitator_load_errors (file varchar, error varchar)")
    if errors:
        con.executemany("insert into facilitator_load_errors values ($file, $error)", errors)
    return reports, errors


def min_participants() -> int:
    """Below this many people, a figure is about individuals: reports do not show it."""
    return int(os.environ.get("PNAD_MIN_PARTICIPANTS", "5"))


def build_facilitator_links(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Followed marchés, their link to DECP contracts, the facilitator confirmation on
    contracts, and the two gap lists (one transaction)."""
    con.execute("begin transaction")
    try:
        for name in (
            "facilitator_followed_marches",
            "facilitator_decp_links",
            "apply_facilitator_confirmations",
            "facilitator_gaps",
        ):
            run_sql(con, f"facilitators/{name}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
        for table in (
            "facilitator_followed_marches",
            "facilitator_decp_links",
            "facilitator_gap_underdeclared",
            "facilitator_gap_unfollowed",
        )
    }


def build_facilitator_hours(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The hours indicators by year and territory, and their breakdowns."""
    params = {"min_participants": min_participants()}
    counts = {}
    for name in ("facilitator_hours", "facilitator_hours_breakdowns"):
        run_sql(con, f"facilitators/{name}", params)
        counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]  # noqa: S608
    return counts


FACILITATOR_TABLES = (
    "facilitator_unrecognised_values",
    "facilitator_operations",
    "facilitator_marches",
    "facilitator_work_contracts",
    "facilitator_hours_worked",
    "facilitator_rejects",
    "facilitator_files",
)


def forget_facilitators(con: duckdb.DuckDBPyConnection, names: list[str]) -> int:
    """Remove every export of these facilitators (the demo is regenerated whole each time)."""
    ids = [
        row[0]
        for row in con.execute(
            "select file_id from facilitator_files where list_contains($names, facilitator)",
            {"names": list(names)},
        ).fetchall()
    ]
    for table in FACILITATOR_TABLES:
        con.execute(
            f"delete from {table} where list_contains($ids, file_id)",  # noqa: S608 - fixed names
            {"ids": ids},
        )
    return len(ids)


def withdraw_export(con: duckdb.DuckDBPyConnection, file_id: str) -> dict:
    """Take a loaded export back (sent by mistake, or to another installation): its lines go,
    its record stays with status 'withdrawn'. ``file_id`` may be a prefix of 6 or more digits."""
    if len(file_id) < 6:
        raise FacilitatorExportError("give at least the first 6 characters of the export's id")
    matches = con.execute(
        "select file_id, file_name, status from facilitator_files where file_id like $prefix",
        {"prefix": file_id.lower() + "%"},
    ).fetchall()
    if len(matches) != 1:
        raise FacilitatorExportError(
            f"{len(matches)} exports have an id starting with {file_id!r} "
            "(`pnad exports` lists them)"
        )
    full_id, name, status = matches[0]
    if status != "active":
        raise FacilitatorExportError(f"{name} is not active ({status}): nothing to withdraw")
    con.execute("begin transaction")
    try:
        for table in FACILITATOR_TABLES[:-2]:  # not the rejects and the file record
            con.execute(
                f"delete from {table} where file_id = $id",  # noqa: S608 - fixed names
                {"id": full_id},
            )
        con.execute(
            "update facilitator_files set status = 'withdrawn' where file_id = $id",
            {"id": full_id},
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return file_report(con, full_id)
