"""``pnad shares``: the PNAD shares of the published database."""

from __future__ import annotations

import argparse
import json

from pipelines.cli.common import (
    LEVEL_FR,
    LEVELS,
    SCOPES,
    CliError,
    SharedOptions,
    plausible_year,
    published,
)
from pipelines.common.formatting import number_fr, percent_fr
from pipelines.common.paths import PnadPaths

SHARE_COLUMNS = (
    "scope",
    "year",
    "level",
    "territory_code",
    "territory_name",
    "contracts",
    "social_yes",
    "social_declared",
    "social_share",
    "social_share_declared",
    "social_completeness",
    "environmental_yes",
    "environmental_declared",
    "environmental_share",
    "environmental_share_declared",
    "environmental_completeness",
    "social_gap_points",
    "environmental_gap_points",
    "social_share_by_amount",
    "environmental_share_by_amount",
    "amount_coverage",
    "is_provisional",
)


def query_shares(
    paths: PnadPaths, year: int | None, level: str | None, scope: str = "all"
) -> list[dict]:
    with published(paths) as con:
        cursor = con.execute(
            f"select {', '.join(SHARE_COLUMNS)} from pnad_shares "  # noqa: S608 - fixed columns
            "where scope = $scope and ($year is null or year = $year) "
            "and ($level is null or level = $level) "
            "order by year, case level when 'national' then 0 when 'region' then 1 else 2 end, "
            "territory_code nulls last",
            {"year": year, "level": level, "scope": scope},
        )
        return [dict(zip(SHARE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def print_shares_table(rows: list[dict]) -> None:
    header = (
        f"{'année':<6} {'niveau':<12} {'territoire':<34} {'contrats':>9} {'social':>8} "
        f"{'compl.soc':>9} {'environ.':>9} {'compl.env':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        name = f"{r['territory_code'] or '–'} {r['territory_name']}"[:34]
        mark = " (prov.)" if r["is_provisional"] else ""
        print(
            f"{r['year']:<6} {LEVEL_FR[r['level']]:<12} {name:<34} {number_fr(r['contracts']):>9} "
            f"{percent_fr(r['social_share']):>8} {percent_fr(r['social_completeness']):>9} "
            f"{percent_fr(r['environmental_share']):>9} "
            f"{percent_fr(r['environmental_completeness']):>9}{mark}"
        )


def cmd_shares(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve()
    rows = query_shares(paths, args.year, args.level, args.scope)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        with published(paths) as con:
            years = [
                y
                for (y,) in con.execute(
                    "select distinct year from pnad_shares order by year"
                ).fetchall()
            ]
        available = ", ".join(map(str, years)) or "aucune"
        raise CliError(
            f"aucun chiffre pour cette sélection ; années avec des contrats : {available}"
        )
    else:
        print_shares_table(rows)
    return 0


def add_parser(sub: argparse._SubParsersAction, shared: SharedOptions) -> None:
    shares = sub.add_parser("shares", help="affiche les parts PNAD de la base publiée")
    shares.add_argument("--year", type=plausible_year, help="année de notification")
    shares.add_argument("--level", choices=LEVELS, help="national, region ou departement")
    shares.add_argument(
        "--scope",
        choices=SCOPES,
        default="all",
        help="variante : all (marchés et concessions, défaut), marches, marches_hors_subsequents, "
        "oecp_basis (marchés >= 90 000 EUR HT), hors_defense",
    )
    shares.add_argument("--json", action="store_true", help="une liste d'objets JSON")
    shares.set_defaults(func=cmd_shares)
