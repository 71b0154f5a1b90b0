"""``pnad schedule on|off``: the daily refresh, the monthly reports and the file-drop sensors
switched on or off for this data root (the daemon runs them: see README, « En service »)."""

from __future__ import annotations

import argparse

from pipelines.cli.common import SharedOptions
from pipelines.common.paths import PnadPaths

# DECLARED_IN_CODE: running because service.toml says so (the default status in code)
STATUS_FR = {"RUNNING": "en marche", "DECLARED_IN_CODE": "en marche", "STOPPED": "arrêté"}


def cmd_schedule(args: argparse.Namespace) -> int:
    from pipelines.service.automation import set_automation

    statuses = set_automation(PnadPaths.resolve().ensure(), args.state == "on")
    for name, status in statuses.items():
        print(f"{name} : {STATUS_FR.get(status, status)}")
    if args.state == "on":
        print("le démon Dagster doit tourner pour qu'elles s'exécutent (pnad ui, ou le service)")
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    schedule = sub.add_parser(
        "schedule",
        help="allume ou éteint l'actualisation quotidienne, les rapports mensuels et les "
        "capteurs de dépôt",
    )
    schedule.add_argument("state", choices=("on", "off"), help="on : allumer ; off : éteindre")
    schedule.set_defaults(func=cmd_schedule)
