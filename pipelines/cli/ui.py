"""``pnad ui``: the Dagster UI on this project."""

from __future__ import annotations

import argparse
import os
import shutil

from pipelines.cli.common import (
    CliError,
    SharedOptions,
)
from pipelines.common.french_argparse import whole_number
from pipelines.common.paths import PROJECT_ROOT, PnadPaths
from pipelines.service.instance import dagster_environment


def cmd_ui(args: argparse.Namespace) -> int:
    environment = dagster_environment(PnadPaths.resolve().ensure())
    dg_cli = shutil.which("dg")
    if not dg_cli:
        raise CliError(
            "la commande `dg` n'est pas installée : lancez `uv sync` (dépendance de développement)"
        )
    os.chdir(PROJECT_ROOT)  # dg finds the project from the folder it runs in
    os.execvpe(dg_cli, [dg_cli, "dev", "--port", str(args.port)], environment)
    return 0  # not reached


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    ui = sub.add_parser("ui", help="ouvre l'interface Dagster (dg dev) sur ce projet")
    ui.add_argument("--port", type=whole_number, default=3000, help="port de l'interface")
    ui.set_defaults(func=cmd_ui)
