"""``pnad run``: download the enabled sources, look buyers up in SIRENE, process and publish."""

from __future__ import annotations

import argparse
from datetime import datetime

from pipelines.cli.common import (
    CliError,
    SharedOptions,
    fail_on_refused_exports,
    print_summary,
    run_refresh,
)
from pipelines.common.paths import PnadPaths


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.common.formatting import OUTCOMES_FR
    from pipelines.decp.releases import decided_since
    from pipelines.decp.sources import SourceConfigError, load_sources

    paths = PnadPaths.resolve().ensure()
    try:
        enabled = [s.name for s in load_sources(paths) if s.enabled]
    except SourceConfigError as error:
        raise CliError(f"configuration des sources non valide : {error}") from error
    if not enabled:
        raise CliError(
            "aucune source activée : activez-en une dans pipelines/decp/sources.toml ou "
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
            releases = decided_since(con, started)
        for source, outcome, reason, where in fetched:
            detail = f" - {reason}" if reason else ""
            print(
                f"{source} : {OUTCOMES_FR.get(outcome, outcome)}{detail}"
                f"{f' -> {where}' if where else ''}"
            )
        for line in releases:  # snapshot sources: the release put in use, or set aside
            print(line)
    good = {source for source, outcome, _, _ in fetched if outcome not in ("failed", "quarantined")}
    print_summary(paths)
    fail_on_refused_exports(paths)
    if not good:
        raise CliError(
            "aucune source n'a pu être récupérée (voir ci-dessus) ; les chiffres publiés sont ceux "
            "des fichiers déjà reçus"
        )
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    run = sub.add_parser(
        "run",
        parents=[shared.publishing],
        help="télécharge les sources activées (sources.toml), interroge SIRENE, "
        "puis met tout à jour",
    )
    run.set_defaults(func=cmd_run)
