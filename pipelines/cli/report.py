"""``pnad report``: a coordinator's report of one région or département, from the published
database."""

from __future__ import annotations

import argparse

from pipelines.cli.common import (
    CliError,
    SharedOptions,
)
from pipelines.common.paths import PnadPaths


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


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    report = sub.add_parser(
        "report",
        help="écrit le rapport d'une région (ou d'un département) depuis la base publiée",
    )
    territory = report.add_mutually_exclusive_group(required=True)
    territory.add_argument("--region", metavar="CODE", help="code INSEE de la région, ex. 84")
    territory.add_argument("--departement", metavar="CODE", help="code du département, ex. 74")
    report.add_argument(
        "--month", metavar="AAAA-MM", help="mois du rapport (défaut : le dernier mois complet)"
    )
    report.add_argument(
        "--pdf", action="store_true", help="écrit aussi un PDF (avec Chromium, s'il est installé)"
    )
    report.set_defaults(func=cmd_report)
