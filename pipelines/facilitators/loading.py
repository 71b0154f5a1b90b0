"""Loading facilitators' exports into the canonical tables with every line accounted for: an
export already loaded adds nothing, a corrected one replaces the earlier one of the same
facilitator and period, one can be withdrawn. SQL: ``sql/facilitators/``."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.common.files import printable
from pipelines.common.formatting import EXPORT_STATUS_FR
from pipelines.common.paths import REFERENCE_DIR, PnadPaths
from pipelines.common.sql import run_sql
from pipelines.facilitators.mapping import (
    FacilitatorExportError,
    MappedSheet,
    UnmappedExportError,
    available_mappings,
    canonical_fields,
    header_key,
    map_sheet,
    write_template,
)
from pipelines.facilitators.pseudonyms import installation_secret, staged_frame, value_map
from pipelines.facilitators.reading import is_export_name, sheets_of


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
            f"période {text!r} : écrivez une année (2024) ou deux dates (2024-01-01:2024-06-30)"
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
        return {**file_report(con, file_id), "file": printable(str(path)), "already_loaded": True}
    mapped, problems = _mapped_sheets(paths, path)
    declared, frame = _facilitator_and_rows(paths, path, mapped, facilitator)
    override = _parse_period(period)
    run_sql(
        con,
        "reference/facilitator_vocabulary",
        {"path": str(REFERENCE_DIR / "facilitator_vocabulary.csv")},
    )
    con.execute("begin transaction")
    try:
        con.register("facilitator_upload", frame)
        con.register("facilitator_upload_values", value_map(mapped))
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
        replaced = _exports_replaced(con, printable(path.name), declared, start, end)
        _set_variables(
            con,
            file_id=file_id,
            file_name=printable(path.name),
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
    report.update(file=printable(str(path)), already_loaded=False, unmapped_sheets=problems)
    return report


def _mapped_sheets(paths: PnadPaths, path: Path) -> tuple[list[MappedSheet], list[str]]:
    """The sheets of the export that map to the canonical model, and why the others do not;
    refused, with a mapping template to fill in, when none does."""
    mappings = available_mappings(paths)
    sheets = sheets_of(path, mappings)
    mapped, problems = [], []
    for sheet in sheets:
        result = map_sheet(sheet, mappings)
        if isinstance(result, MappedSheet):
            mapped.append(result)
        elif sheet.rows:
            problems.append(f"sheet {sheet.name!r} (header line {sheet.header_line}): {result}")
    if mapped:
        return mapped, problems
    template = write_template(path, sheets, paths.mappings)
    synonyms = {syn for spec in canonical_fields().values() for syn in spec.synonyms}
    unmapped = [h for s in sheets for h in s.headers if h and header_key(h) not in synonyms]
    raise UnmappedExportError(
        f"{printable(path.name)} : colonnes non reconnues avec certitude "
        f"({' ; '.join(problems) or 'aucune ligne d’en-tête trouvée'}). "
        f"Colonnes sans correspondance : {', '.join(repr(h) for h in unmapped) or 'aucune'}. "
        f"Complétez le modèle de correspondance {template}, renommez-le en .toml, puis "
        "chargez à nouveau.",
        template,
        unmapped,
    )


def _facilitator_and_rows(
    paths: PnadPaths, path: Path, mapped: list[MappedSheet], facilitator: str | None
) -> tuple[str, pd.DataFrame]:
    """The facilitator the export comes from (given, in its mapping, in its title block
    « Facilitateur : PLIE Est Hérault », else named in its rows) and its staged rows."""
    declared = facilitator or next(
        (m.mapping.facilitator for m in mapped if m.mapping.facilitator), None
    )
    titled = sorted({m.sheet.title_facilitator for m in mapped if m.sheet.title_facilitator})
    declared = declared or " + ".join(titled) or None
    frame = staged_frame(mapped, installation_secret(paths), declared or "")
    return declared or _named_facilitator(paths, path, frame), frame


def _named_facilitator(paths: PnadPaths, path: Path, frame) -> str:
    """The facilitator(s) the export's « Facilitateur » column names; refused when it names
    none (nor its title block, nor the caller): the facilitator is the key a corrected export
    replaces the earlier one by, and guessing it (from a file name) would count a renamed
    correction twice."""
    named = sorted(set(frame.loc[~frame["is_total_row"], "facilitator"].dropna()))
    if not named:
        raise FacilitatorExportError(
            f"{printable(path.name)} : le fichier ne dit pas quel facilitateur l'a envoyé (ni "
            "colonne « Facilitateur », ni ligne « Facilitateur : NOM » au-dessus de l'en-tête) : "
            f"donnez --facilitator NOM, ou déposez-le dans {paths.facilitator_drop}/<NOM>/"
        )
    return " + ".join(named)


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
            f"{name} ({facilitator}, du {start} au {end}) reprend des contrats de travail de "
            + ", ".join(f"{r[1]} (du {r[2]} au {r[3]})" for r in partial)
            + " sans couvrir sa période : ces heures compteraient deux fois. Chargez un "
            "export couvrant toute la période du précédent (il le remplace alors), ou "
            "donnez --period."
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
    # a link is reported (not followed), never read to compute its id
    return [p for p in candidates if _link_in_drop_folder(paths, p) or file_id_of(p) not in known]


def drop_folder_facilitator(paths: PnadPaths, path: Path) -> str | None:
    """A sub-folder of the drop folder names the facilitator (facilitateurs/<nom>/export.csv):
    read from the path as found in the folder (a link is not followed)."""
    relative = path.relative_to(paths.facilitator_drop)
    return printable(relative.parts[0]) if len(relative.parts) > 1 else None


def _link_in_drop_folder(paths: PnadPaths, path: Path) -> Path | None:
    """The symbolic link (the file, or a folder above it) inside the drop folder, if any."""
    inside = (p for p in (path, *path.parents) if paths.facilitator_drop in p.parents)
    return next((p for p in inside if p.is_symlink()), None)


def _drop_folder_problem(paths: PnadPaths, path: Path) -> str | None:
    """Why a file of the drop folder is not read (French), or None: a symbolic link could make
    the pipeline read any file of the machine, so it is not followed."""
    linked = _link_in_drop_folder(paths, path)
    if linked is not None:
        return (
            f"{printable(path.name)} : lien symbolique non suivi "
            f"({printable(linked.name)}) ; déposez le fichier lui-même"
        )
    return None


def load_pending_exports(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths
) -> tuple[list[dict], list[dict]]:
    """Load every new export of the drop folder; (reports, errors). A file that cannot be loaded
    is reported with its reason and does not stop the others; it is tried again next time."""
    reports, errors = [], []
    for path in pending_exports(con, paths):
        problem = _drop_folder_problem(paths, path)
        if problem:
            errors.append({"file": printable(str(path)), "error": problem})
            continue
        try:
            reports.append(
                load_export(con, paths, path, facilitator=drop_folder_facilitator(paths, path))
            )
        except (FacilitatorExportError, OSError, ValueError) as error:
            # one export that cannot be read never stops the others: it is named with its reason
            errors.append({"file": printable(str(path)), "error": printable(str(error))})
    con.execute("create or replace table facilitator_load_errors (file varchar, error varchar)")
    if errors:
        con.executemany("insert into facilitator_load_errors values ($file, $error)", errors)
    return reports, errors


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
    if not re.fullmatch(r"[0-9a-fA-F]{6,64}", file_id):
        raise FacilitatorExportError(
            "donnez au moins les 6 premiers caractères de l'identifiant de l'export "
            "(chiffres et lettres a à f, `pnad exports` les liste)"
        )
    matches = con.execute(
        "select file_id, file_name, status from facilitator_files "
        "where starts_with(file_id, $prefix)",
        {"prefix": file_id.lower()},
    ).fetchall()
    if len(matches) != 1:
        raise FacilitatorExportError(
            f"{len(matches)} export(s) ont un identifiant commençant par {file_id!r} "
            "(`pnad exports` les liste)"
        )
    full_id, name, status = matches[0]
    if status != "active":
        raise FacilitatorExportError(
            f"{name} n'est pas actif ({EXPORT_STATUS_FR.get(status, status)}) : rien à retirer"
        )
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
