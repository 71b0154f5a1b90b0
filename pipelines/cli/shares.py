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
    paths: PnadPaths,
    year: int | None,
    level: str | None,
    scope: str = "all",
    levels: tuple[str, ...] = LEVELS,
) -> list[dict]:
    with published(paths) as con:
        cursor = con.execute(
            f"select {', '.join(SHARE_COLUMNS)} from pnad_shares "  # noqa: S608 - fixed columns
            "where scope = $scope and ($year is null or year = $year) "
            "and ($level is null or level = $level) and list_contains($levels, level) "
            "order by year, case level when 'national' then 0 when 'region' then 1 else 2 end, "
            "territory_code nulls last",
            {"year": year, "level": level, "scope": scope, "levels": list(levels)},
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


def latest_complete_year(paths: PnadPaths) -> int | None:
    """The latest year whose figures are final (else the latest year): what a table shows first."""
    with published(paths) as con:
        return con.execute(
            "select coalesce(max(year) filter (where not is_provisional), max(year)) "
            "from pnad_shares"
        ).fetchone()[0]


def cmd_shares(args: argparse.Namespace) -> int:
    paths = PnadPaths.resolve()
    short = not (args.json or args.all or args.year or args.level)
    year = latest_complete_year(paths) if short else args.year
    levels = ("national", "region") if short else LEVELS
    rows = query_shares(paths, year, args.level, args.scope, levels)
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
        if short:
            print(
                f"(France et régions, année {year} ; --year ANNÉE, --level departement ou --all "
                "pour les autres années et les départements)"
            )
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
    shares.add_argument(
        "--all",
        action="store_true",
        help="toutes les années et tous les niveaux (par défaut : France et régions de la "
        "dernière année complète)",
    )
    shares.add_argument(
        "--json", action="store_true", help="une liste d'objets JSON (toutes les lignes)"
    )
    shares.set_defaults(func=cmd_shares)
