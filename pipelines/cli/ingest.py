"""``pnad ingest``: local DECP files and facilitators' exports landed, processed and reported
file by file."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from pipelines.cli.common import (
    CliError,
    SharedOptions,
    print_summary,
    run_refresh,
    warn_if_demo_mixed,
)
from pipelines.common.files import printable
from pipelines.common.formatting import number_fr
from pipelines.common.paths import PnadPaths


def _split_inputs(inputs: list[str], exports_only: bool = False) -> tuple[list[Path], list[Path]]:
    """(DECP files and folders, facilitator exports): exports are told from DECP files by their
    content (an Excel workbook, a table whose header names insertion hours, a CSV that is not a
    DECP table); with ``exports_only`` (--facilitator or --period given) every CSV or Excel
    file is an export."""
    items = [Path(given).expanduser().resolve() for given in inputs]
    for item in items:  # refused before anything heavy is imported (pandas, DuckDB's readers)
        if not item.exists():
            raise CliError(f"fichier ou dossier introuvable : {item}")
    from pipelines.decp import landing
    from pipelines.facilitators import reading

    def is_export(path: Path) -> bool:
        if exports_only and path.suffix.lower() in reading.EXPORT_SUFFIXES:
            return True
        return reading.looks_like_export(path)

    decp, exports = [], []
    for item in items:
        if item.is_file():
            (exports if is_export(item) else decp).append(item)
            continue
        for path in sorted(p for p in item.rglob("*") if p.is_file()):
            if reading.is_export_name(path.name) and is_export(path):
                exports.append(path)
            elif landing.is_data_file(path.name):
                decp.append(path)
    return decp, exports


def _load_exports(paths: PnadPaths, exports: list[Path], args: argparse.Namespace) -> list[dict]:
    """Load the facilitator exports one by one; one that cannot be loaded is reported with its
    reason (and a mapping template when its columns are not recognised)."""
    from pipelines.common import warehouse
    from pipelines.facilitators import loading, mapping

    reports = []
    with warehouse.connect(paths) as con:
        for path in exports:
            try:
                report = loading.load_export(
                    con,
                    paths,
                    path,
                    facilitator=args.facilitator,
                    period=args.period,
                    reload=args.reload,
                )
                report.update(status="loaded", reason=None)
            except mapping.FacilitatorExportError as error:
                report = {
                    "file": str(path),
                    "format": "facilitator",
                    "status": "not_loaded",
                    "reason": str(error),
                    "records_read": 0,
                    "loaded": 0,
                    "duplicates": 0,
                    "rejected": 0,
                }
            if report.get("already_loaded"):
                report["reason"] = (
                    "déjà chargé (même contenu) : rien n'est ajouté ; --reload le relit avec "
                    "la correspondance de colonnes actuelle"
                )
            elif report["status"] == "loaded":
                notes = []
                if report.get("replaced_files"):
                    notes.append(f"remplace {len(report['replaced_files'])} export(s) antérieur(s)")
                if report.get("rejected"):
                    notes.append("lignes rejetées et leur raison : vue facilitator_rejects")
                if report.get("lines_with_unrecognised_values"):
                    notes.append(
                        f"{report['lines_with_unrecognised_values']} ligne(s) avec des valeurs "
                        "non reconnues : vue facilitator_unrecognised_values"
                    )
                report["reason"] = " ; ".join(notes) or None
            reports.append(report)
    return reports


# A file's status (ingest_files.status, facilitator exports' status) as the terminal says it.
STATUS_FR = {
    "parsed": "lu",
    "loaded": "chargé",
    "quarantined": "mis de côté",
    "unsupported": "format non lu",
    "registered": "en attente",
    "not_loaded": "non chargé",
}


def cmd_ingest(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve().ensure()
    decp_inputs, exports = _split_inputs(
        args.paths, exports_only=bool(args.facilitator or args.period)
    )
    exported = _load_exports(paths, exports, args)
    landed, known_before = _land(paths, decp_inputs)
    if not landed and not exports:
        raise CliError(
            "aucun fichier de données (.json, .xml, .csv, .parquet, ou export de facilitateur "
            ".csv/.xlsx) dans les dossiers donnés"
        )
    warn_if_demo_mixed(paths)
    run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet or args.json)
    report = _decp_report(paths, landed, known_before)
    report += [{key: r.get(key) for key in EXPORT_REPORT_KEYS} for r in exported]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
        print_summary(paths)
    unreadable = [r["file"] for r in report if r["status"] not in ("parsed", "loaded")]
    if unreadable:
        names = [Path(f).name for f in unreadable]
        shown = ", ".join(names[:10]) + (
            f" et {number_fr(len(names) - 10)} autres" if len(names) > 10 else ""
        )
        raise CliError(
            f"{number_fr(len(unreadable))} fichier(s) sur {number_fr(len(report))} illisible(s) : "
            f"{shown} (raisons ci-dessus, et dans les tables ingest_files et ingest_rejects)"
        )
    return 0


EXPORT_REPORT_KEYS = (
    "file",
    "format",
    "status",
    "reason",
    "records_read",
    "loaded",
    "duplicates",
    "rejected",
)


def _land(paths: PnadPaths, decp_inputs: list[Path]) -> tuple[list, dict[str, datetime]]:
    """The DECP files copied into raw/local/ (given, landed pairs), and when the contents
    already registered before were first read (they are not read again)."""
    from pipelines.common import warehouse
    from pipelines.decp import landing

    if not decp_inputs:
        return [], {}
    try:
        with warehouse.connect(paths) as con:
            known_before = dict(
                con.execute("select left(file_id, 32), registered_at from ingest_files").fetchall()
            )
            landed = landing.land_local_files(paths, decp_inputs, con)
            _retry_set_aside(con, paths, [target.name[:32] for _, target in landed])
            return landed, known_before
    except FileNotFoundError as error:
        raise CliError(str(error)) from error


def _retry_set_aside(con, paths: PnadPaths, keys: list[str]) -> None:
    """A file given again whose reading, alone, stopped the process is read again (alone
    first): given again, it is the operator asking for it (as ``pnad retry`` does)."""
    from pipelines.decp.set_aside import retry_files

    ids = [
        row[0]
        for row in con.execute(
            "select file_id from ingest_parse_attempts where set_aside_at is not null "
            "and left(file_id, 32) in (select unnest($keys))",
            {"keys": keys},
        ).fetchall()
    ]
    if ids:
        retry_files(con, paths, ids)


def _decp_report(paths: PnadPaths, landed: list, known_before: dict[str, datetime]) -> list[dict]:
    """What became of each DECP file given, from the working database.

    A landed file is named by the first 32 hex digits of its SHA-256 (its file_id): no need to
    read every input a second time to find what became of it. A file whose content was known
    before this run, or given twice under two names, is reported with the outcome of its first
    reading."""
    from pipelines.common import warehouse

    with warehouse.connect(paths) as con:
        rows = {
            row[0][:32]: row[1:]
            for row in con.execute(
                "select f.file_id, f.relative_path, coalesce(f.format, '') as format, f.status, "
                "f.status_reason, coalesce(a.records_read, f.records_read, 0), "
                "coalesce(a.loaded, 0), coalesce(a.duplicates, 0), "
                "coalesce(a.rejected, f.records_rejected, 0), v.format_versions "
                "from ingest_files f left join ingest_accounting a using (file_id) "
                "left join (select file_id, list(distinct format_version order by "
                "format_version) as format_versions from stg_decp_records "
                "where left(file_id, 32) in (select unnest($ids)) group by file_id) "
                "as v using (file_id) "
                "where left(f.file_id, 32) in (select unnest($ids))",
                {"ids": sorted({target.name[:32] for _, target in landed})},
            ).fetchall()
        }
    report = []
    first_given: dict[str, str] = {}
    for source, target in landed:
        key = target.name[:32]
        if key not in rows:
            continue
        path, fmt, status, reason, read, loaded, dup, rejected, versions = rows[key]
        report.append(
            {
                "file": printable(str(source)),
                "stored_as": path,
                "format": fmt,
                # the regime and shape of its records: decp-2022, decp-2022-flat, decp-2019,
                # decp-tabular
                "format_versions": versions or [],
                "status": status,
                "reason": reason,
                "records_read": read,
                "loaded": loaded,
                "duplicates": dup,
                "rejected": rejected,
                # the same content given earlier in this run, or read by an earlier run
                "same_content_as": first_given.get(key),
                "known_since": known_before[key].isoformat(" ", "seconds")
                if key in known_before
                else None,
            }
        )
        first_given.setdefault(key, printable(str(source)))
    return report


def _print_report(report: list[dict]) -> None:
    for r in report:
        extra = f" ({r['reason']})" if r["reason"] else ""
        if r.get("same_content_as"):
            extra += f", même contenu que {r['same_content_as']} : lu une seule fois"
        elif r.get("known_since"):
            extra += f", déjà lu le {r['known_since']} (même contenu) : pas relu"
        print(
            f"{r['file']} : {STATUS_FR.get(r['status'], r['status'])}{extra}, "
            f"{number_fr(r['records_read'])} lus, {number_fr(r['loaded'])} chargés, "
            f"{number_fr(r['duplicates'])} doublons, {number_fr(r['rejected'])} rejetés"
        )


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    ingest = sub.add_parser(
        "ingest",
        parents=[shared.publishing],
        help="intègre des fichiers ou dossiers DECP locaux, puis met tout à jour",
        description="Copie les fichiers DECP donnés (JSON, XML, CSV, Parquet ; le format se lit "
        "dans le contenu) sous $PNAD_HOME/raw/local/, charge les exports de facilitateurs "
        "trouvés parmi eux, puis met à jour les tables, la base publiée et les tableaux de "
        "bord. Un fichier illisible est mis de côté avec sa raison, les autres sont lus ; "
        "--json donne le bilan de chaque fichier (lus = chargés + doublons + rejetés).",
    )
    ingest.add_argument("paths", nargs="+", metavar="CHEMIN", help="fichier ou dossier")
    ingest.add_argument("--json", action="store_true", help="bilan par fichier en JSON")
    ingest.add_argument(
        "--facilitator",
        help="exports de facilitateurs : nom du facilitateur, quand le fichier ne le dit pas "
        "(clé de remplacement d'un export corrigé, avec la période)",
    )
    ingest.add_argument(
        "--period",
        help="exports de facilitateurs : période couverte (2024, ou 2024-01-01:2024-06-30), "
        "quand elle ne se lit pas dans les dates du fichier",
    )
    ingest.add_argument(
        "--reload",
        action="store_true",
        help="exports de facilitateurs : relit un export déjà chargé (après avoir corrigé sa "
        "correspondance de colonnes) ; sa lecture précédente est remplacée",
    )
    ingest.set_defaults(func=cmd_ingest)
