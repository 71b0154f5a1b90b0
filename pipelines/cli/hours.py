"""``pnad hours``: the facilitators' insertion hours of the published database."""

from __future__ import annotations

import argparse
import json

from pipelines.cli.common import (
    LEVEL_FR,
    LEVELS,
    CliError,
    SharedOptions,
    plausible_year,
    published,
)
from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import PnadPaths

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
    with published(paths) as con:
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
        with published(paths) as con:
            years = [
                str(y)
                for (y,) in con.execute(
                    "select distinct year from facilitator_hours order by year"
                ).fetchall()
            ]
        if years:
            raise CliError(
                "aucune heure d'insertion pour cette sélection ; années avec des heures : "
                + ", ".join(years)
            )
        raise CliError(
            "aucune heure d'insertion pour l'instant : chargez un export avec "
            "`pnad ingest FICHIER --facilitator NOM` ou déposez-le dans "
            f"{paths.facilitator_drop}/<NOM>/"
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
            f"{year:<12} {LEVEL_FR[r['level']]:<12} {name:<30} {number_fr(r['hours_worked']):>12} "
            f"{number_fr(r['etp'], 1):>8} {number_fr(r['hours_planned']):>12} "
            f"{percent_fr(r['completion_rate'], 0):>7} "
            f"{secret if r['participants'] is None else number_fr(r['participants']):>7} "
            f"{secret if r['work_contracts'] is None else number_fr(r['work_contracts']):>8} "
            f"{number_fr(r['marches']):>8} {percent_fr(r['hours_worked_change'], 0):>8}"
        )
    print(
        "\nheures : réalisées dans l'année ; ETP = heures / 1 600 ; prévues : heures prévues des "
        "marchés actifs dans l'année (sur toute leur durée) ; réal. : heures réalisées sur ces "
        "marchés depuis leur début / heures prévues ; pers. : personnes distinctes (« secret » "
        "sous 5) ; évol. : heures par rapport à l'année précédente (prov. : année en cours, "
        "incomplète)."
    )
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    hours = sub.add_parser(
        "hours", help="affiche les heures d'insertion des exports des facilitateurs (base publiée)"
    )
    hours.add_argument(
        "--year", type=plausible_year, help="année où les heures ont été travaillées"
    )
    hours.add_argument("--level", choices=LEVELS, help="national, region ou departement")
    hours.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    hours.set_defaults(func=cmd_hours)
