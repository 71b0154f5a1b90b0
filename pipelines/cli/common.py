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

import duckdb

from pipelines.common.formatting import number_fr, percent_fr, trend_fr
from pipelines.common.paths import PnadPaths
from pipelines.service.instance import dagster_environment

LEVELS = ("national", "region", "departement")


# A level as a person reads it (tables printed by `pnad shares` and `pnad hours`).
LEVEL_FR = {"national": "national", "region": "région", "departement": "département"}


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
    process, recorded in the data root's own instance (``$PNAD_HOME/dagster``).

    Runs whose process died are failed first (they would hold the queue); a failure is written
    to alerts.log and sent where configured. Returns the run id; raises CliError naming the
    failed step when the run fails.
    """
    os.environ.update(dagster_environment(paths))
    import dagster as dg  # imported late: `pnad shares` and `--help` stay fast

    from pipelines.cli.run_messages import french_console
    from pipelines.common.progress import show_progress_in_terminal
    from pipelines.definitions import defs
    from pipelines.service import unchanged
    from pipelines.service.alerts import record_failure
    from pipelines.service.runs import fail_dead_runs, worker_tags

    if not quiet:
        show_progress_in_terminal()  # downloads and parses draw a bar when stderr is a terminal
    before = unchanged.inputs_listing(paths)
    unchanged.forget(paths)  # a run that dies leaves no stamp behind
    job = defs().resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance, french_console(instance, quiet) as loggers:
        fail_dead_runs(instance, lambda message: print(f"pnad : {message}", file=sys.stderr), paths)
        run_config = {
            "ops": {"published_database": {"config": {"allow_shrink": allow_shrink}}},
            "loggers": loggers,
        }
        result = job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, tags=worker_tags()
        )
    if result.success:
        unchanged.record(paths, before)  # a `pnad refresh` with nothing new then stops at once
        return result.run_id
    failures = [
        f"étape {event.step_key} : {_root_cause(event.step_failure_data.error)}"
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error
    ]
    failed_checks = [
        f"contrôle {event.asset_check_evaluation_data.check_name} non satisfait"
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and not event.asset_check_evaluation_data.passed
    ]
    reason = "le traitement a échoué : " + " ; ".join(
        failures + failed_checks or ["voir le journal de l'exécution (pnad ui)"]
    )
    record_failure(paths, result.run_id, job_name, reason)
    raise CliError(reason)


def _root_cause(error) -> str:
    """First line of the innermost error Dagster recorded (the user's real reason)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = (error.message or "").strip().splitlines()
    return lines[0] if lines else error.cls_name or "erreur inconnue"


def published(paths: PnadPaths) -> duckdb.DuckDBPyConnection:
    if not paths.published_db.exists():
        raise CliError(
            f"pas de base publiée à {paths.published_db} : "
            "lancez d'abord `pnad demo` ou `pnad ingest CHEMIN`"
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
    print(f"contrats distincts : {number_fr(total)} (dans le champ PNAD : {number_fr(in_scope)})")
    for year, contracts, social, social_c, env, env_c, provisional in national:
        print(
            f"  {year}{' (provisoire)' if provisional else ''} : {number_fr(contracts)} contrats, "
            f"social {percent_fr(social)} (complétude {percent_fr(social_c)}), "
            f"environnemental {percent_fr(env)} (complétude {percent_fr(env_c)})"
        )
    if hours:
        print("heures d'insertion suivies par les facilitateurs (année travaillée) :")
    for year, worked, etp, rate, marches in hours:
        print(
            f"  {year} : {number_fr(worked)} heures ({number_fr(etp, 1)} ETP), "
            f"{number_fr(marches)} marchés, réalisation {percent_fr(rate, 0)} des heures prévues"
        )
    with published(paths) as con:
        for line in after_2025_summary(con):
            print(line)
    print(f"base publiée : {paths.published_db}")
    print(f"tableau de bord : {paths.dashboard_html}")


def after_2025_summary(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The national lines of the after-2025 tables: the PNAD 2022-2025 final balance, the 2026
    obligations with the undetermined beside, publication gaps, the projection."""
    lines = []
    balance = con.execute(
        "select final_year, social_share, social_target_reached, social_progress_points, "
        "environmental_share, environmental_target_reached, environmental_progress_points, "
        "final_from, is_provisional from pnad_final_balance where level = 'national'"
    ).fetchone()
    if balance:
        year, social, social_ok, social_up, env, env_ok, env_up, final_from, provisional = balance
        state = "provisoire" if provisional else f"définitif depuis le {final_from:%d/%m/%Y}"
        lines.append(
            f"bilan PNAD 2022-2025 ({year}, {state}) : social {percent_fr(social)} "
            f"(cible 30 % {'atteinte' if social_ok else 'non atteinte'}, "
            f"{trend_fr(social_up)} depuis {year - 1}), environnemental {percent_fr(env)} "
            f"(cible 100 % {'atteinte' if env_ok else 'non atteinte'}, {trend_fr(env_up)})"
        )
    obligations = con.execute(
        "select obligation, subject, compliance_share, undetermined, not_subject "
        "from obligation_compliance where level = 'national' and dimension = 'total' "
        "and month is null order by obligation"
    ).fetchall()
    if obligations:
        lines.append("obligations en vigueur depuis le 21/08/2026 (contrats notifiés depuis) :")
    for obligation, subject, share, undetermined, not_subject in obligations:
        label = "environnementale" if obligation == "environmental" else "sociale"
        lines.append(
            f"  {label} : {number_fr(subject)} contrats soumis, {percent_fr(share)} conformes ; "
            f"{number_fr(undetermined)} indéterminés, {number_fr(not_subject)} non soumis"
        )
    weak = con.execute(
        "select year, late_share, silent_buyers from publication_weaknesses "
        "where level = 'national' order by year desc limit 1"
    ).fetchone()
    if weak:
        lines.append(
            f"publication {weak[0]} : {percent_fr(weak[1])} des contrats publiés plus de deux "
            f"mois après leur notification ; {number_fr(weak[2])} acheteurs silencieux depuis "
            "l'an dernier"
        )
    for year, kind, projected, low, high in con.execute(
        "select year, consideration, projected_share, projected_low, projected_high "
        "from pnad_share_projection where level = 'national' order by consideration desc"
    ).fetchall():
        label = "sociale" if kind == "social" else "environnementale"
        lines.append(
            f"projection {year} au 31 décembre, part {label} : {percent_fr(projected)} "
            f"(intervalle à 90 % : {percent_fr(low)} – {percent_fr(high)})"
        )
    return lines


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
        raise argparse.ArgumentTypeError(
            f"année non plausible : {text} (entre 2000 et {date.today().year + 1})"
        )
    return value


plausible_year.__name__ = "année"  # argparse names the type in its messages
