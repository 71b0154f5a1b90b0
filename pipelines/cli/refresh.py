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


def cmd_refresh(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve().ensure()
    warn_if_demo_mixed(paths)
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
    refresh.set_defaults(func=cmd_refresh)
