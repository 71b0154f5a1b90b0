"""What every ``pnad`` command shares: the one-line failure, running a job through Dagster,
reading the published database, the summary printed after a run, the argument types."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import PROJECT_ROOT, PnadPaths, dagster_environment

LEVELS = ("national", "region", "departement")


SCOPES = ("all", "marches", "marches_hors_subsequents", "oecp_basis", "hors_defense")


@dataclass(frozen=True)
class SharedOptions:
    """Options several commands take, declared once (argparse parent parsers): ``quiet`` for
    every command that runs the pipeline, ``publishing`` (quiet + --allow-shrink) for those that
    publish."""

    quiet: argparse.ArgumentParser
    publishing: argparse.ArgumentParser


class CliError(Exception):
    """A failure to report to the user in one line (exit code 1)."""


@contextmanager
def writing(command: str) -> Iterator[None]:
    """Hold the data root's writer lock for a command that writes (a second one waits, then
    refuses in French)."""
    from pipelines.common.writer_lock import WriterBusyError, writer_lock

    paths = PnadPaths.resolve().ensure()
    try:
        with writer_lock(paths, command):
            yield
    except WriterBusyError as error:
        raise CliError(str(error)) from error


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


def published(paths: PnadPaths) -> duckdb.DuckDBPyConnection:
    if not paths.published_db.exists():
        raise CliError(
            f"no published database at {paths.published_db}: "
            "run `pnad demo` or `pnad ingest PATH` first"
        )
    return duckdb.connect(str(paths.published_db), read_only=True)


def print_summary(paths: PnadPaths) -> None:
    with published(paths) as con:
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


def fail_on_refused_exports(paths: PnadPaths) -> None:
    """Exports of the drop folder that could not be loaded, and DECP files set aside because
    reading them, alone, stopped the process: each with its reason, and a non-zero exit (the
    rest is published all the same)."""
    from pipelines.common import warehouse
    from pipelines.decp.set_aside import files_needing_attention

    with warehouse.connect(paths) as con:
        con.execute(
            "create table if not exists facilitator_load_errors (file varchar, error varchar)"
        )
        refused = con.execute("select file, error from facilitator_load_errors").fetchall()
        set_aside = [f for f in files_needing_attention(con) if f["state"] == "set_aside"]
    for file, error in refused:
        print(f"export non chargé : {file}\n  {error}", file=sys.stderr)
    for file in set_aside:
        print(
            f"fichier mis de côté : {file['relative_path']} ({file['original_name']})\n"
            f"  {file['reason']}",
            file=sys.stderr,
        )
    problems = []
    if refused:
        problems.append(f"{len(refused)} export(s) de {paths.facilitator_drop} non chargé(s)")
    if set_aside:
        problems.append(
            f"{len(set_aside)} fichier(s) DECP mis de côté car leur lecture arrête le processus "
            "(pnad retry FICHIER les relit)"
        )
    if problems:
        raise CliError(
            " ; ".join(problems) + " (raisons ci-dessus) ; les autres données sont publiées"
        )


def warn_if_demo_mixed(paths: PnadPaths) -> None:
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


def plausible_year(text: str) -> int:
    value = int(text)
    if not 2000 <= value <= date.today().year + 1:
        raise argparse.ArgumentTypeError(f"not a plausible year: {text}")
    return value


plausible_year.__name__ = "year"  # argparse names the type in its messages: "invalid year value"
