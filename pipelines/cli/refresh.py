"""``pnad refresh``: process what is under ``raw/`` and publish, offline."""

from __future__ import annotations

import argparse

from pipelines.cli.common import (
    SharedOptions,
    fail_on_refused_exports,
    print_summary,
    run_refresh,
    warn_if_demo_mixed,
)
from pipelines.common.paths import PnadPaths
from pipelines.service import unchanged


def cmd_refresh(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve().ensure()
    warn_if_demo_mixed(paths)
    last = None if args.force else unchanged.last_unchanged(paths)
    if last is not None:  # nothing new: Dagster is not even started
        print(
            f"rien de nouveau depuis la mise à jour du {last:%d/%m/%Y à %H:%M} (fichiers reçus, "
            "exports, réglages et jour inchangés) : la publication en usage reste la même. "
            "pnad refresh --force refait tout."
        )
    else:
        run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet)
    print_summary(paths)
    fail_on_refused_exports(paths)
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    refresh = sub.add_parser(
        "refresh",
        parents=[shared.publishing],
        help="traite les fichiers déjà déposés sous raw/ et publie (hors ligne)",
    )
    refresh.add_argument(
        "--force",
        action="store_true",
        help="refait le traitement même si rien n'a changé depuis la dernière mise à jour",
    )
    refresh.set_defaults(func=cmd_refresh)
