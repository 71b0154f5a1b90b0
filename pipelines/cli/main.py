"""The ``pnad`` command: the operations Dagster runs, for people and for cron.

Every command exits 0 on success and non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import PROJECT_ROOT, PnadPaths, dagster_environment

LEVELS = ("national", "region", "departement")
SCOPES = ("all", "marches", "marches_hors_subsequents", "oecp_basis", "hors_defense")
SHARE_COLUMNS = (
    "scope",
    "year",
    "level",
    "territory_code",
    "territory_name",
    "contracts",
    "social_yes",
    "social_declared",
    "social_share",
    "social_share_declared",
    "social_completeness",
    "environmental_yes",
    "environmental_declared",
    "environmental_share",
    "environmental_share_declared",
    "environmental_completeness",
    "social_gap_points",
    "environmental_gap_points",
    "social_share_by_amount",
    "environmental_share_by_amount",
    "amount_coverage",
    "is_provisional",
)


class CliError(Exception):
    """A failure to report to the user in one line (exit code 1)."""


def run_refresh(
    paths: PnadPaths,
    *,
    allow_shrink: bool = False,
    quiet: bool = False,
    job_name: str = "pnad_refresh",
) -> str:
    """Materialize the assets of a job through Dagster (``pnad_refresh`` by default), in this
    process.

    Returns the run id; raises CliError naming the failed step when the run fails.
    """
    os.environ["PNAD_HOME"] = str(paths.home)
    os.environ.update(dagster_environment())
    import dagster as dg  # imported late: `pnad shares` and `--help` stay fast

    from pipelines.common.progress import show_progress_in_terminal

    if not quiet:
        show_progress_in_terminal()  # downloads and parses draw a bar when stderr is a terminal

    from pipelines.definitions import defs

    job = defs().resolve_job_def(job_name)
    run_config = {
        "ops": {"published_database": {"config": {"allow_shrink": allow_shrink}}},
        "loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}},
    }
    previous_folder = Path.cwd()
    os.chdir(PROJECT_ROOT)  # dagster.yaml places instance state relative to the project root
    try:
        with dg.DagsterInstance.get() as instance:
            result = job.execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False
            )
    finally:
        os.chdir(previous_folder)
    if not result.success:
        failures = [
            f"{event.step_key}: {_root_cause(event.step_failure_data.error)}"
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error
        ]
        failed_checks = [
            f"check {event.asset_check_evaluation_data.check_name} failed"
            for event in result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION"
            and not event.asset_check_evaluation_data.passed
        ]
        raise CliError(
            "pipeline run failed: " + "; ".join(failures + failed_checks or ["see logs"])
        )
    return result.run_id


def _root_cause(error) -> str:
    """First line of the innermost error Dagster recorded (the user's real reason)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = (error.message or "").strip().splitlines()
    return lines[0] if lines else error.cls_name or "unknown error"


def _published(paths: PnadPaths) -> duckdb.DuckDBPyConnection:
    if not paths.published_db.exists():
        raise CliError(
            f"no published database at {paths.published_db}: "
            "run `pnad demo` or `pnad ingest PATH` first"
        )
    return duckdb.connect(str(paths.published_db), read_only=True)


def query_shares(
    paths: PnadPaths, year: int | None, level: str | None, scope: str = "all"
) -> list[dict]:
    with _published(paths) as con:
        cursor = con.execute(
            f"select {', '.join(SHARE_COLUMNS)} from pnad_shares "  # noqa: S608 - fixed columns
            "where scope = $scope and ($year is null or year = $year) "
            "and ($level is null or level = $level) "
            "order by year, case level when 'national' then 0 when 'region' then 1 else 2 end, "
            "territory_code nulls last",
            {"year": year, "level": level, "scope": scope},
        )
        return [dict(zip(SHARE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def print_shares_table(rows: list[dict]) -> None:
    header = (
        f"{'année':<6} {'niveau':<12} {'territoire':<34} {'contrats':>9} {'social':>8} "
        f"{'compl.soc':>9} {'environ.':>9} {'compl.env':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        name = f"{r['territory_code'] or '–'} {r['territory_name']}"[:34]
        mark = " (prov.)" if r["is_provisional"] else ""
        print(
            f"{r['year']:<6} {r['level']:<12} {name:<34} {r['contracts']:>9} "
            f"{percent_fr(r['social_share']):>8} {percent_fr(r['social_completeness']):>9} "
            f"{percent_fr(r['environmental_share']):>9} "
            f"{percent_fr(r['environmental_completeness']):>9}{mark}"
        )


def print_summary(paths: PnadPaths) -> None:
    with _published(paths) as con:
        total, in_scope = con.execute(
            "select count(*), count(*) filter (where in_pnad_scope) from contracts"
        ).fetchone()
        national = con.execute(
            "select year, contracts, social_share, social_completeness, environmental_share, "
            "environmental_completeness, is_provisional from pnad_shares "
            "where scope = 'all' and level = 'national' order by year"
        ).fetchall()
        hours = con.execute(
            "select year, hours_worked, etp, completion_rate, marches "
            "from facilitator_hours where level = 'national' order by year"
        ).fetchall()
    print(f"contrats distincts : {total} (dans le champ PNAD : {in_scope})")
    for year, contracts, social, social_c, env, env_c, provisional in national:
        print(
            f"  {year}{' (provisoire)' if provisional else ''} : {contracts} contrats, "
            f"social {percent_fr(social)} (complétude {percent_fr(social_c)}), "
            f"environnemental {percent_fr(env)} (complétude {percent_fr(env_c)})"
        )
    if hours:
        print("heures d'insertion suivies par les facilitateurs (année travaillée) :")
    for year, worked, etp, rate, marches in hours:
        print(
            f"  {year} : {number_fr(worked)} heures ({number_fr(etp, 1)} ETP), "
            f"{marches} marchés, réalisation {percent_fr(rate, 0)} des heures prévues"
        )
    print(f"base publiée : {paths.published_db}")
    print(f"tableau de bord : {paths.dashboard_html}")


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.decp import ingest as decp_ingest
    from pipelines.demo.facilitator_exports import DEMO_FACILITATORS, write_demo_exports
    from pipelines.demo.generator import generate_demo
    from pipelines.facilitators import exports as facilitator

    paths = PnadPaths.resolve().ensure()
    demo_dir = paths.raw / "demo"
    with warehouse.connect(paths) as con:
        decp_ingest.forget_source(con, "demo")  # the demo is regenerated whole each time
        facilitator.forget_facilitators(con, list(DEMO_FACILITATORS))
    shutil.rmtree(demo_dir, ignore_errors=True)
    print(
        f"génération de {args.size} contrats de démonstration (graine {args.seed}) dans {demo_dir}"
    )
    result = generate_demo(demo_dir, size=args.size, seed=args.seed, fault_rate=args.fault_rate)
    print(
        f"{len(result.files)} fichiers, {result.records} enregistrements écrits (avec les "
        "republications ; les défauts injectés, comme un SIRET mal formé, font apparaître "
        "quelques contrats distincts de plus)"
    )
    run_refresh(paths, allow_shrink=True, quiet=args.quiet)
    # The facilitators' exports follow marchés of the demo DECP: written from its contracts,
    # then loaded by a second (short) run, as a drop in facilitateurs/ would be.
    with warehouse.connect(paths) as con:
        exports = write_demo_exports(con, paths.facilitator_drop, seed=args.seed)
    print(
        "exports de facilitateurs de démonstration : "
        + ", ".join(str(p.relative_to(paths.home)) for p in exports)
    )
    run_refresh(paths, allow_shrink=True, quiet=args.quiet)
    print_summary(paths)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.decp.sources import SourceConfigError, load_sources

    paths = PnadPaths.resolve().ensure()
    try:
        enabled = [s.name for s in load_sources(paths) if s.enabled]
    except SourceConfigError as error:
        raise CliError(f"invalid sources configuration: {error}") from error
    if not enabled:
        raise CliError(
            "no source is enabled: enable one in pipelines/decp/sources.toml or "
            f"{paths.home / 'sources.toml'}"
        )
    started = datetime.now()
    try:
        run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet, job_name="pnad_update")
    finally:
        with warehouse.connect(paths) as con:
            fetched = con.execute(
                "select source, case when outcome = 'downloaded' and url not like 'http%' "
                "then 'copied' else outcome end, coalesce(reason, ''), relative_path "
                "from download_manifest where fetched_at >= $started order by fetched_at",
                {"started": started},
            ).fetchall()
        for source, outcome, reason, where in fetched:
            detail = f" - {reason}" if reason else ""
            print(f"{source}: {outcome}{detail}{f' -> {where}' if where else ''}")
    good = {source for source, outcome, _, _ in fetched if outcome not in ("failed", "quarantined")}
    print_summary(paths)
    _fail_on_refused_exports(paths)
    if not good:
        raise CliError(
            "no source could be fetched (see above); the published figures are those of the files "
            "already landed"
        )
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve().ensure()
    _warn_if_demo_mixed(paths)
    run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet)
    print_summary(paths)
    _fail_on_refused_exports(paths)
    return 0


def _fail_on_refused_exports(paths: PnadPaths) -> None:
    """Exports of the drop folder that could not be loaded: each with its reason, and a
    non-zero exit (the rest is published all the same)."""
    from pipelines.common import warehouse

    with warehouse.connect(paths) as con:
        con.execute(
            "create table if not exists facilitator_load_errors (file varchar, error varchar)"
        )
        refused = con.execute("select file, error from facilitator_load_errors").fetchall()
    for file, error in refused:
        print(f"export non chargé : {file}\n  {error}", file=sys.stderr)
    if refused:
        raise CliError(
            f"{len(refused)} export(s) of {paths.facilitator_drop} could not be loaded "
            "(reasons above); the other data is published"
        )


def _warn_if_demo_mixed(paths: PnadPaths) -> None:
    """Demo and real files under one data root give mixed figures: say so."""
    demo = paths.raw / "demo"
    others = [p for p in paths.raw.iterdir() if p.is_dir() and p.name != "demo"]
    if demo.exists() and any(demo.iterdir()) and others:
        print(
            f"attention : {paths.home} contient aussi les données de démonstration ({demo}) ; "
            "les chiffres mélangent démonstration et données réelles. Supprimez ce dossier ou "
            "utilisez un autre PNAD_HOME.",
            file=sys.stderr,
        )


def _split_inputs(inputs: list[str], exports_only: bool = False) -> tuple[list[Path], list[Path]]:
    """(DECP files and folders, facilitator exports): exports are told from DECP files by their
    content (an Excel workbook, a table whose header names insertion hours, a CSV that is not a
    DECP table); with ``exports_only`` (--facilitator or --period given) every CSV or Excel
    file is an export."""
    from pipelines.decp import ingest as decp_ingest
    from pipelines.facilitators import exports as facilitator

    def is_export(path: Path) -> bool:
        if exports_only and path.suffix.lower() in facilitator.EXPORT_SUFFIXES:
            return True
        return facilitator.looks_like_export(path)

    decp, exports = [], []
    for given in inputs:
        item = Path(given).expanduser().resolve()
        if not item.exists():
            raise CliError(f"no such file or folder: {item}")
        if item.is_file():
            (exports if is_export(item) else decp).append(item)
            continue
        for path in sorted(p for p in item.rglob("*") if p.is_file()):
            if facilitator.is_export_name(path.name) and is_export(path):
                exports.append(path)
            elif decp_ingest.is_data_file(path.name):
                decp.append(path)
    return decp, exports


def _load_exports(paths: PnadPaths, exports: list[Path], args: argparse.Namespace) -> list[dict]:
    """Load the facilitator exports one by one; one that cannot be loaded is reported with its
    reason (and a mapping template when its columns are not recognised)."""
    from pipelines.common import warehouse
    from pipelines.facilitators import exports as facilitator

    reports = []
    with warehouse.connect(paths) as con:
        for path in exports:
            try:
                report = facilitator.load_export(
                    con,
                    paths,
                    path,
                    facilitator=args.facilitator,
                    period=args.period,
                    reload=args.reload,
                )
                report.update(status="loaded", reason=None)
            except facilitator.FacilitatorExportError as error:
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
    from pipelines.common import warehouse
    from pipelines.decp import ingest as decp_ingest

    paths = PnadPaths.resolve().ensure()
    decp_inputs, exports = _split_inputs(
        args.paths, exports_only=bool(args.facilitator or args.period)
    )
    exported = _load_exports(paths, exports, args)
    landed = []
    known_before: dict[str, datetime] = {}  # files already registered: not read again
    if decp_inputs:
        try:
            with warehouse.connect(paths) as con:
                known_before = dict(
                    con.execute(
                        "select left(file_id, 32), registered_at from ingest_files"
                    ).fetchall()
                )
                landed = decp_ingest.land_local_files(paths, decp_inputs, con)
        except FileNotFoundError as error:
            raise CliError(str(error)) from error
    if not landed and not exports:
        raise CliError(
            "no data file (.json, .xml, .csv, .parquet, or a facilitator export .csv/.xlsx) "
            "found in the given folders"
        )
    _warn_if_demo_mixed(paths)
    run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet or args.json)
    # A landed file is named by the first 32 hex digits of its SHA-256 (its file_id): no need to
    # read every input a second time to find what became of it. The working database is the
    # authority on what happened to each file; a file whose content was known before this run,
    # or given twice under two names, is reported with the outcome of its first reading.
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
        entry = {
            "file": str(source),
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
            # the same content given earlier in this run, or read by an earlier run: not read again
            "same_content_as": first_given.get(key),
            "known_since": known_before[key].isoformat(" ", "seconds")
            if key in known_before
            else None,
        }
        first_given.setdefault(key, str(source))
        report.append(entry)
    report += [
        {
            key: r.get(key)
            for key in (
                "file",
                "format",
                "status",
                "reason",
                "records_read",
                "loaded",
                "duplicates",
                "rejected",
            )
        }
        for r in exported
    ]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for r in report:
            extra = f" ({r['reason']})" if r["reason"] else ""
            if r.get("same_content_as"):
                extra += f", même contenu que {r['same_content_as']} : lu une seule fois"
            elif r.get("known_since"):
                extra += f", déjà lu le {r['known_since']} (même contenu) : pas relu"
            print(
                f"{r['file']}: {STATUS_FR.get(r['status'], r['status'])}{extra}, "
                f"{r['records_read']} lus, {r['loaded']} chargés, {r['duplicates']} doublons, "
                f"{r['rejected']} rejetés"
            )
        print_summary(paths)
    unreadable = [r["file"] for r in report if r["status"] not in ("parsed", "loaded")]
    if unreadable:
        names = [Path(f).name for f in unreadable]
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise CliError(
            f"{len(unreadable)} of {len(report)} file(s) could not be read: {shown} "
            "(reasons above and in ingest_files / ingest_rejects)"
        )
    return 0


def cmd_shares(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve()
    rows = query_shares(paths, args.year, args.level, args.scope)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        with _published(paths) as con:
            years = [
                y
                for (y,) in con.execute(
                    "select distinct year from pnad_shares order by year"
                ).fetchall()
            ]
        available = ", ".join(map(str, years)) or "aucune"
        raise CliError(f"no figures for this selection; years with contracts: {available}")
    else:
        print_shares_table(rows)
    return 0


HOURS_COLUMNS = (
    "year",
    "level",
    "territory_code",
    "territory_name",
    "hours_worked",
    "hours_planned",
    "completion_rate",
    "etp",
    "participants",
    "work_contracts",
    "marches",
    "buyers",
    "companies",
    "hours_worked_previous_year",
    "hours_worked_change",
    "is_small_aggregate",
    "is_provisional",
)


def query_hours(paths: PnadPaths, year: int | None, level: str | None) -> list[dict]:
    """The published facilitator_hours (people counts already blanked below the threshold)."""
    with _published(paths) as con:
        cursor = con.execute(
            f"select {', '.join(HOURS_COLUMNS)} from facilitator_hours "  # noqa: S608 - fixed
            "where ($year is null or year = $year) and ($level is null or level = $level) "
            "order by year, case level when 'national' then 0 when 'region' then 1 else 2 end, "
            "territory_code nulls last",
            {"year": year, "level": level},
        )
        return [dict(zip(HOURS_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def cmd_hours(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve()
    rows = query_hours(paths, args.year, args.level or ("national" if not args.json else None))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        with _published(paths) as con:
            years = [
                str(y)
                for (y,) in con.execute(
                    "select distinct year from facilitator_hours order by year"
                ).fetchall()
            ]
        if years:
            raise CliError(
                f"no facilitator hours for this selection; years with hours: {', '.join(years)}"
            )
        raise CliError(
            "no facilitator hours yet: load an export with `pnad ingest FILE --facilitator NAME` "
            f"or drop it in {paths.facilitator_drop}/<NAME>/"
        )
    header = (
        f"{'année':<12} {'niveau':<12} {'territoire':<30} {'heures':>12} {'ETP':>8} "
        f"{'prévues':>12} {'réal.':>7} {'pers.':>7} {'contrats':>8} {'marchés':>8} {'évol.':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        name = f"{r['territory_code'] or '–'} {r['territory_name']}"[:30]
        year = f"{r['year']}{' (prov.)' if r['is_provisional'] else ''}"
        secret = "secret"
        print(
            f"{year:<12} {r['level']:<12} {name:<30} {number_fr(r['hours_worked']):>12} "
            f"{number_fr(r['etp'], 1):>8} {number_fr(r['hours_planned']):>12} "
            f"{percent_fr(r['completion_rate'], 0):>7} "
            f"{secret if r['participants'] is None else r['participants']:>7} "
            f"{secret if r['work_contracts'] is None else r['work_contracts']:>8} "
            f"{r['marches']:>8} {percent_fr(r['hours_worked_change'], 0):>8}"
        )
    print(
        "\nheures : réalisées dans l'année ; ETP = heures / 1 600 ; prévues : heures prévues des "
        "marchés actifs dans l'année (sur toute leur durée) ; réal. : heures réalisées sur ces "
        "marchés depuis leur début / heures prévues ; pers. : personnes distinctes (« secret » "
        "sous 5) ; évol. : heures par rapport à l'année précédente (prov. : année en cours, "
        "incomplète)."
    )
    return 0


def cmd_exports(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.facilitators import exports as facilitator

    paths = PnadPaths.resolve().ensure()
    if args.withdraw:
        with warehouse.connect(paths) as con:
            try:
                report = facilitator.withdraw_export(con, args.withdraw)
            except facilitator.FacilitatorExportError as error:
                raise CliError(str(error)) from error
        print(f"retiré : {report['file_name']} ({report['facilitator']})")
        run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet)
    with warehouse.connect(paths) as con:
        cursor = con.execute(
            "select file_id, file_name, facilitator, period_start::varchar, period_end::varchar, "
            "status, rows_read, rows_loaded, rows_rejected, hours_worked, loaded_at::varchar "
            "from facilitator_files order by loaded_at"
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(f"aucun export chargé (dépôt : {paths.facilitator_drop}/<NOM>/ ou pnad ingest)")
    for r in rows:
        print(
            f"{r['file_id'][:12]}  {r['status']:<9} {r['facilitator']} · {r['file_name']} · "
            f"{r['period_start']} → {r['period_end']} · {r['rows_read']} lignes lues, "
            f"{r['rows_rejected']} rejetées · {number_fr(r['hours_worked'])} heures"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.publishing.regional_report import (
        ReportError,
        ReportRequest,
        parse_month,
        write_report,
    )

    paths = PnadPaths.resolve()
    level, code = ("region", args.region) if args.region else ("departement", args.departement)
    try:
        request = ReportRequest(level, code.upper(), parse_month(args.month))
        written = write_report(paths, request, pdf=args.pdf)
    except ReportError as error:
        raise CliError(str(error)) from error
    for kind in ("html", "pdf"):
        if kind in written:
            print(f"rapport {kind.upper()} : {written[kind]}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    environment = dagster_environment()
    environment["PNAD_HOME"] = str(PnadPaths.resolve().home)
    dg_cli = shutil.which("dg")
    if not dg_cli:
        raise CliError("the `dg` command is not installed: run `uv sync` (it is a dev dependency)")
    os.chdir(PROJECT_ROOT)  # dg finds the project from the folder it runs in
    os.execvpe(dg_cli, [dg_cli, "dev", "--port", str(args.port)], environment)
    return 0  # not reached


def _size(text: str) -> int:
    value = int(text)
    if not 100 <= value <= 3_000_000:
        raise argparse.ArgumentTypeError("size must be between 100 and 3000000 contracts")
    return value


def _year(text: str) -> int:
    value = int(text)
    if not 2000 <= value <= date.today().year + 1:
        raise argparse.ArgumentTypeError(f"not a plausible year: {text}")
    return value


_size.__name__ = "size"  # argparse names the type in its messages: "invalid size value"
_year.__name__ = "year"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pnad",
        description="Suivi du PNAD : parts de contrats avec considération sociale et "
        "environnementale, à partir des DECP. Données sous $PNAD_HOME (défaut : data/ du projet).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Options of every command that runs the pipeline, declared once.
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument(
        "--quiet", action="store_true", help="n'affiche que les avertissements du pipeline"
    )
    publishing = argparse.ArgumentParser(add_help=False, parents=[quiet])
    publishing.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publie même avec beaucoup moins de contrats que la dernière fois",
    )

    demo = sub.add_parser(
        "demo",
        parents=[quiet],
        help="génère des fichiers DECP de démonstration et exécute tout le pipeline (hors ligne)",
    )
    demo.add_argument(
        "--size", type=_size, default=20_000, help="nombre de contrats à générer (100 à 3 000 000)"
    )
    demo.add_argument("--seed", type=int, default=42, help="graine (même graine, mêmes fichiers)")
    demo.add_argument(
        "--fault-rate",
        type=float,
        default=0.01,
        help="part des enregistrements portant un défaut réel (défaut 0,01)",
    )
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser(
        "run",
        parents=[publishing],
        help="télécharge les sources activées (sources.toml), interroge SIRENE, "
        "puis met tout à jour",
    )
    run.set_defaults(func=cmd_run)

    refresh = sub.add_parser(
        "refresh",
        parents=[publishing],
        help="traite les fichiers déjà déposés sous raw/ et publie (hors ligne)",
    )
    refresh.set_defaults(func=cmd_refresh)

    ingest = sub.add_parser(
        "ingest",
        parents=[publishing],
        help="intègre des fichiers ou dossiers DECP locaux, puis met tout à jour",
        description="Copie les fichiers DECP donnés (JSON, XML, CSV, Parquet ; le format se lit "
        "dans le contenu) sous $PNAD_HOME/raw/local/, charge les exports de facilitateurs "
        "trouvés parmi eux, puis met à jour les tables, la base publiée et les tableaux de "
        "bord. Un fichier illisible est mis de côté avec sa raison, les autres sont lus ; "
        "--json donne le bilan de chaque fichier (lus = chargés + doublons + rejetés).",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="fichier ou dossier")
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

    hours = sub.add_parser(
        "hours", help="affiche les heures d'insertion des exports des facilitateurs (base publiée)"
    )
    hours.add_argument("--year", type=_year, help="année où les heures ont été travaillées")
    hours.add_argument("--level", choices=LEVELS, help="national, region ou departement")
    hours.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    hours.set_defaults(func=cmd_hours)

    shares = sub.add_parser("shares", help="affiche les parts PNAD de la base publiée")
    shares.add_argument("--year", type=_year, help="année de notification")
    shares.add_argument("--level", choices=LEVELS, help="national, region ou departement")
    shares.add_argument(
        "--scope",
        choices=SCOPES,
        default="all",
        help="variante : all (marchés et concessions, défaut), marches, marches_hors_subsequents, "
        "oecp_basis (marchés >= 90 000 EUR HT), hors_defense",
    )
    shares.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    shares.set_defaults(func=cmd_shares)

    exports = sub.add_parser(
        "exports",
        parents=[publishing],
        help="liste les exports de facilitateurs chargés ; --withdraw en retire un",
    )
    exports.add_argument(
        "--withdraw",
        metavar="ID",
        help="retire l'export d'identifiant ID (ses 6 premiers caractères suffisent) et republie",
    )
    exports.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    exports.set_defaults(func=cmd_exports)

    report = sub.add_parser(
        "report",
        help="écrit le rapport d'une région (ou d'un département) depuis la base publiée",
    )
    territory = report.add_mutually_exclusive_group(required=True)
    territory.add_argument("--region", metavar="CODE", help="code INSEE de la région, ex. 84")
    territory.add_argument("--departement", metavar="CODE", help="code du département, ex. 74")
    report.add_argument(
        "--month", metavar="YYYY-MM", help="mois du rapport (défaut : le dernier mois complet)"
    )
    report.add_argument(
        "--pdf", action="store_true", help="écrit aussi un PDF (avec Chromium, s'il est installé)"
    )
    report.set_defaults(func=cmd_report)

    ui = sub.add_parser("ui", help="ouvre l'interface Dagster (dg dev) sur ce projet")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # a crash inside a native library (DuckDB) still says where it happened
    faulthandler.enable()
    logging.getLogger("dagster").setLevel(
        logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    )
    try:
        return args.func(args)
    except BrokenPipeError:  # `pnad hours | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except CliError as error:
        print(f"pnad: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the user gets one line, the trace with PNAD_DEBUG
        if os.environ.get("PNAD_DEBUG"):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"pnad: error: {reason} (set PNAD_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
