"""Where contracts belong: the buyer's territory (SIREN rule, then place of execution), with the
traps of real data — Corsica, overseas, Paris/Lyon/Marseille arrondissements, postal codes that
serve two départements, 'Code région' holding a département."""

from __future__ import annotations

import pytest

from tests.conftest import build_warehouse, marche, write_decp_2022

STATE = "13001845000028"  # a State body: no département in its SIREN, the place decides

PLACES = [
    # id, (code, typeCode), expected département, expected région
    ("AJACCIO", ("20000", "Code postal"), "2A", "94"),
    ("BASTIA", ("20200", "Code postal"), "2B", "94"),
    ("REUNION", ("97400", "Code postal"), "974", "04"),
    ("PARIS8", ("75108", "Code commune"), "75", "11"),
    ("LYON1", ("69381", "Code commune"), "69", "84"),
    ("MARSEILLE1", ("13201", "Code commune"), "13", "93"),
    ("AJACCIO_COMMUNE", ("2A004", "Code commune"), "2A", "94"),
    ("GEX", ("01200", "Code postal"), "01", "84"),  # serves Ain and Haute-Savoie: rule kept
    ("ORSAY", ("94390", "Code postal"), "91", "11"),  # a 94 code whose only commune is in 91
    ("STBARTH", ("97133", "Code postal"), "977", "977"),  # Saint-Barthélemy (COM)
    ("REGION_HOLDING_DEP", ("74", "Code région"), "74", "84"),  # 74 is no région code
    # three-digit départements as written: lpad(code, 2) cut them to 97, which none has
    ("REUNION_DEP", ("974", "Code département"), "974", "04"),
    ("MAYOTTE_IN_REGION_FIELD", ("976", "Code région"), "976", "06"),
    ("PAPEETE", ("98714", "Code postal"), "987", "987"),  # Polynésie française (COM)
    ("REGION_AMBIGUOUS", ("84", "Code région"), None, None),  # région 84 or département 84?
    ("COUNTRY", ("99134", "Code pays"), None, None),
    ("FREE_TEXT", ("(29) Finistère", "Code département"), None, None),
]


@pytest.fixture
def placed(pnad_paths, query):
    write_decp_2022(
        pnad_paths.raw / "t" / "day.json",
        [marche(contract_id, STATE, place=place) for contract_id, place, _, _ in PLACES]
        + [
            marche("CORSE_COMMUNE", "21200004000017", place=("20200", "Code postal")),
            marche("MARTINIQUE", "21972209700016", place=("99134", "Code pays")),
        ],
    )
    build_warehouse(pnad_paths)
    return dict(
        (uid, rest)
        for uid, *rest in query(
            "select uid, buyer_departement_code, buyer_region_code, buyer_territory_method "
            "from contracts"
        )
    )


@pytest.mark.parametrize(("contract_id", "place", "departement", "region"), PLACES)
def test_place_of_execution(placed, contract_id, place, departement, region):
    method = "place_of_execution" if departement else "unplaced"
    assert placed[STATE + contract_id] == [departement, region, method]


def test_corsican_commune_is_placed_by_its_place_not_its_siren(placed):
    # 21 2000 4...: the commune number cannot tell 2A from 2B, so the place (20200, Bastia) decides
    assert placed["21200004000017CORSE_COMMUNE"] == ["2B", "94", "place_of_execution"]


def test_overseas_commune_by_siren(placed):
    assert placed["21972209700016MARTINIQUE"] == ["972", "02", "siren_prefix"]


def test_unplaced_contracts_are_counted_not_dropped(placed, query):
    national, unplaced = query(
        "select (select contracts from pnad_shares where scope = 'all' and level = 'national'), "
        "(select contracts from pnad_shares where scope = 'all' and level = 'region' "
        "and territory_code is null)"
    )[0]
    assert (national, unplaced) == (len(PLACES) + 2, 3)
