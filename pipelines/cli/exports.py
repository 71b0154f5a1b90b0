"""``pnad exports``: the facilitators' exports loaded, and withdrawing one."""

from __future__ import annotations

import argparse
import json

from pipelines.cli.common import (
    CliError,
    SharedOptions,
    run_refresh,
)
from pipelines.common.formatting import EXPORT_STATUS_FR, number_fr
from pipelines.common.paths import PnadPaths


def _day(iso: str | None) -> str:
    """'2024-12-31' -> '31/12/2024'."""
    return "–" if not iso else "/".join(reversed(iso.split("-")))


def cmd_exports(args: argparse.Namespace) -> int:
    from pipelines.common import warehouse
    from pipelines.facilitators import loading, mapping

    paths = PnadPaths.resolve().ensure()
    if args.withdraw:
        with warehouse.connect(paths) as con:
            try:
                report = loading.withdraw_export(con, args.withdraw)
            except mapping.FacilitatorExportError as error:
                raise CliError(str(error)) from error
        print(f"retiré : {report['file_name']} ({report['facilitator']})")
        run_refresh(paths, allow_shrink=args.allow_shrink, quiet=args.quiet)
    with warehouse.connect(paths) as con:
        cursor = con.execute(
            "select file_id, file_name, facilitator, period_start::varchar as period_start, "
            "period_end::varchar as period_end, status, rows_read, rows_loaded, rows_rejected, "
            "hours_worked, loaded_at::varchar as loaded_at from facilitator_files "
            "order by loaded_at"
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
            f"{r['file_id'][:12]}  {EXPORT_STATUS_FR.get(r['status'], r['status']):<9} "
            f"{r['facilitator']} · {r['file_name']} · {_day(r['period_start'])} → "
            f"{_day(r['period_end'])} · {number_fr(r['rows_read'])} lignes lues, "
            f"{number_fr(r['rows_rejected'])} rejetées · {number_fr(r['hours_worked'])} heures"
        )
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    exports = sub.add_parser(
        "exports",
        parents=[shared.publishing],
        help="liste les exports de facilitateurs chargés ; --withdraw en retire un",
    )
    exports.add_argument(
        "--withdraw",
        metavar="ID",
        help="retire l'export d'identifiant ID (ses 6 premiers caractères suffisent) et republie",
    )
    exports.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    exports.set_defaults(func=cmd_exports)
