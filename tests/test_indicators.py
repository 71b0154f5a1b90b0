"""Indicators beyond the headline: kinds, breakdowns, buyers, opportunities, national series."""

from __future__ import annotations

import pytest

from pipelines.common.sql import sql_text
from tests.conftest import build_warehouse, marche, write_decp_2022

COMMUNE = "21740056300011"  # Haute-Savoie (74), région 84
DEPARTEMENT = "22740001700015"
STATE = "13001845000028"


@pytest.fixture
def indicators(pnad_paths, query):
    write_decp_2022(
        pnad_paths.raw / "f" / "day.json",
        [
            # 2024: the commune, 2 contracts, 0 social
            marche("C24A", COMMUNE, notified="2024-03-01", cpv="45210000", amount=500_000),
            marche("C24B", COMMUNE, notified="2024-04-01", cpv="30190000", amount=60_000),
            # 2025: the commune, 2 contracts, 1 social (critère) -> trend +50 points
            marche(
                "C25A",
                COMMUNE,
                notified="2025-02-01",
                cpv="90910000",
                amount=120_000,
                social=["Critère social"],
                published="2025-02-05",
            ),
            marche(
                "C25B",
                COMMUNE,
                notified="2025-03-01",
                cpv="77310000",
                amount=95_000,
                published="2025-03-05",
                procedure="PROCEDURE ADAPTEE",
            ),
            # 2025: the département, works without a clause, and a small one under the threshold
            marche(
                "D25A",
                DEPARTEMENT,
                notified="2025-03-10",
                cpv="45233140",
                amount=2_000_000,
                social=["NC"],
                published="2025-03-15",
            ),
            marche(
                "D25B",
                DEPARTEMENT,
                notified="2025-03-11",
                cpv="45233140",
                amount=50_000,
                published="2025-03-15",
            ),
            # 2025: the State, services, clause + réservé, place in Seine-Saint-Denis
            marche(
                "S25A",
                STATE,
                notified="2025-01-15",
                cpv="79000000",
                amount=300_000,
                social=["Clause sociale", "Marché réservé"],
                environmental=["Critère environnemental", "Clause environnementale"],
                place=("93", "Code département"),
                published="2025-01-20",
            ),
        ],
    )
    build_warehouse(pnad_paths)  # opportunities with the defaults: 90 000 EUR, 12 months
    return query


def test_kinds_are_counted(indicators):
    assert indicators(
        "select social_yes, social_clause, social_critere, social_reserve, environmental_clause, "
        "environmental_critere from pnad_shares where scope = 'all' and level = 'national' "
        "and year = 2025"
    ) == [(2, 1, 1, 1, 1, 1)]


def test_breakdowns_by_market_type_buyer_category_and_procedure(indicators):
    rows = indicators(
        "select dimension, category, contracts, social_yes from pnad_breakdowns "
        "where level = 'national' and year = 2025 order by dimension, category"
    )
    assert rows == [
        ("buyer_category", "commune", 2, 1),
        ("buyer_category", "departement", 2, 0),
        ("buyer_category", "etat", 1, 1),
        ("market_type", "services", 3, 2),
        ("market_type", "travaux", 2, 0),
        ("procedure", "Appel d'offres ouvert", 4, 2),
        ("procedure", "Procédure adaptée", 1, 0),  # 'PROCEDURE ADAPTEE' folded
    ]


def test_breakdowns_add_up_to_the_shares(indicators):
    assert indicators(sql_text("indicators/checks/breakdowns_add_up")) == []
    assert indicators(sql_text("indicators/checks/national_equals_parts")) == []


def test_buyer_table_with_gap_and_trend(indicators):
    rows = indicators(
        "select buyer_siret, year, contracts, social_share, social_gap_points, "
        "social_trend_points, buyer_category from buyer_shares order by buyer_siret, year"
    )
    assert rows == [
        (STATE, 2025, 1, 1.0, -70.0, None, "etat"),
        (COMMUNE, 2024, 2, 0.0, 30.0, None, "commune"),
        (COMMUNE, 2025, 2, 0.5, -20.0, 50.0, "commune"),
        (DEPARTEMENT, 2025, 2, 0.0, 30.0, None, "departement"),
    ]


def test_opportunities_list(indicators):
    # labour-intensive, >= 90 000 EUR, within 12 months of the latest notification (2025-03-11),
    # without a declared social consideration: C25B (green spaces, 'no'), D25A (works, 'unknown')
    rows = indicators("select uid, sector, social_status from opportunities order by uid")
    assert rows == [
        (COMMUNE + "C25B", "Espaces verts", "no"),
        (DEPARTEMENT + "D25A", "Travaux (BTP)", "unknown"),
    ]


def test_official_series_reference(indicators):
    assert indicators("select year, social_share, environmental_share from ref_oecp_series") == [
        (2019, 0.125, 0.158),
        (2020, 0.121, 0.168),
        (2021, 0.132, 0.187),
        (2022, 0.223, 0.292),
        (2023, 0.187, None),
    ]


def test_monthly_shares(indicators):
    rows = indicators(
        "select month::varchar, contracts, social_yes, is_provisional from pnad_shares_monthly "
        "where level = 'national' order by month"
    )
    assert rows == [
        ("2024-03-01", 1, 0, False),
        ("2024-04-01", 1, 0, False),
        ("2025-01-01", 1, 1, False),
        ("2025-02-01", 1, 1, False),
        ("2025-03-01", 3, 0, False),
    ]
