"""The canonical model of a facilitator's export and how a file's columns map to it: the
canonical fields (``pipelines/reference/facilitator_fields.csv``), mapping files (presets in
``pipelines/facilitators/mappings/``, the user's in ``$PNAD_HOME/mappings/``) or header
synonyms, and a template to fill in when a layout is not recognised with confidence."""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipelines.common.files import printable
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.personal_data import header_key

PRESETS_DIR = Path(__file__).with_name("mappings")


HEADER_SEARCH_ROWS = 30  # exports often start with a title block; the header is within these rows


MIN_RECOGNISED_HEADERS = 3


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
                f"fichier de correspondance {path} : TOML non valide ({error})"
            ) from error
        columns = {k: v for k, v in data.get("columns", {}).items() if isinstance(v, str) and v}
        unknown = sorted(set(columns) - set(canonical_fields()))
        if unknown:
            raise FacilitatorExportError(
                f"fichier de correspondance {path} : champs inconnus {', '.join(unknown)} "
                f"(champs connus : {', '.join(canonical_fields())})"
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
    # the facilitator the title block above the header names ("Facilitateur : PLIE ...")
    title_facilitator: str | None = None


def recognised(headers: list[str]) -> dict[int, str]:
    """Column index -> canonical field, for the headers a synonym recognises."""
    by_key = {syn: spec.name for spec in canonical_fields().values() for syn in spec.synonyms}
    return {i: by_key[header_key(h)] for i, h in enumerate(headers) if header_key(h) in by_key}


def locate_header(grid: list[list[str]]) -> int | None:
    """Index of the header row: among the first rows, the one most headers are recognised in."""
    best, best_count = None, MIN_RECOGNISED_HEADERS - 1
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        count = len(set(recognised(row).values()))
        if count > best_count:
            best, best_count = index, count
    return best


def mapping_header_index(mapping: Mapping, headers: list[str]) -> dict[str, int] | None:
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
        columns = mapping_header_index(mapping, sheet.headers)
        if columns is not None and (kind := sheet_kind(set(columns))):
            ignored = [h for i, h in enumerate(sheet.headers) if h and i not in columns.values()]
            return MappedSheet(sheet, mapping, columns, kind, ignored)
    found = recognised(sheet.headers)
    by_field: dict[str, list[int]] = {}
    for index, name in found.items():
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
    ignored = [h for i, h in enumerate(sheet.headers) if h and i not in found]
    return MappedSheet(sheet, Mapping("reconnaissance des en-têtes", {}), columns, kind, ignored)


def write_template(path: Path, sheets: list[Sheet], target_dir: Path) -> Path:
    """A mapping file to fill in: every canonical field with the header guessed for it (or
    empty), and the file's headers listed. Renamed to .toml, it is used on the next load."""
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem)[:60] or "export"
    target = target_dir / f"{stem}.a_completer.toml"
    headers = [h for s in sheets for h in s.headers if h]
    guessed = {}
    for sheet in sheets:
        for index, name in recognised(sheet.headers).items():
            guessed.setdefault(name, sheet.headers[index])
    lines = [
        f"# Correspondance des colonnes pour « {printable(path.name)} ».",
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
