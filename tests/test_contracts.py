"""From hand-written DECP files to contracts and shares, with exact expected values."""

from __future__ import annotations

import json

import pytest

from pipelines.decp.contracts import buyers_to_locate
from tests.conftest import build_warehouse, marche, write_decp_2022

STATE_BUYER = "13001845000028"
MARTINIQUE_COMMUNE = "21972209700016"


@pytest.fixture
def fixture_files(pnad_paths):
    raw = pnad_paths.raw / "fixtures"
    write_decp_2022(
        raw / "day1.json",
        [
            marche("A", social=["Clause sociale"], amount=100_000),
            marche(
                "B",
                social=["Critère social", "Clause sociale"],
                environmental=["Critère environnemental"],
            ),
            marche("C", buyer="20004107700011", place=("99134", "Code pays")),
            {
                k: v
                for k, v in marche("D").items()
                if k != "considerationsSociales" and k != "considerationsEnvironnementales"
            },
            marche("E", social=["NC"], environmental=["NC"], notified="2024-05-02+02:00"),
            marche("F", social=["clause sociale bizarre"]),
            marche(
                "G",
                modifications=[
                    {"id": 1, "dateNotificationModification": "2024-06-01", "montant": 120_000},
                    {
                        "id": 2,
                        "dateNotificationModification": "2024-09-01",
                        "montant": 130_000,
                        "dureeMois": 24,
                    },
                ],
            ),
            {k: v for k, v in marche("no-id").items() if k != "id"},
            marche("T", buyer="44090956200033", social=["Marché réservé"]),
        ],
        concessions=[
            {
                "id": "K",
                "autoriteConcedante": {"id": MARTINIQUE_COMMUNE},
                "nature": "Concession de service",
                "objet": "Restauration scolaire",
                "dateSignature": "2024-02-01",
                "datePublicationDonnees": "2024-02-10",
                "valeurGlobale": 2_000_000,
                "dureeMois": 60,
                "considerationsSociales": {"considerationSociale": ["Concession réservée"]},
                "considerationsEnvironnementales": {
                    "considerationEnvironnementale": ["Pas de considération environnementale"]
                },
            }
        ],
    )
    write_decp_2022(
        raw / "day2.json",
        [
            marche("A", social=["Clause sociale"], amount=105_000, published="2024-04-02"),
        ],
    )
    flat = {
        "marches": [
            {
                **marche("H", buyer=STATE_BUYER, place=("93", "Code département")),
                "considerationsSociales": [],
                "considerationsEnvironnementales": [],
                "_type": "Marché",
            }
        ]
    }
    (raw / "flat.json").write_text(json.dumps(flat), encoding="utf-8")
    (raw / "broken.json").write_text('{"marches": {"marche": [{"id": "X",', encoding="utf-8")
    (raw / "error_page.json").write_text("<!DOCTYPE html><html><body>502</body></html>")
    (raw / "empty.json").write_text("")
    build_warehouse(pnad_paths)
    return raw


def contract(query, uid):
    rows = query(
        "select kind, social_status, social_kinds, environmental_status, initial_amount, "
        "current_amount, duration_months, modifications, versions_seen, kept_rule, "
        "buyer_departement_code, buyer_region_code, buyer_territory_method, in_pnad_scope, "
        "is_test_record from contracts where uid = $uid",
        {"uid": uid},
    )
    assert len(rows) == 1, f"{uid}: {len(rows)} rows"
    names = (
        "kind",
        "social",
        "social_kinds",
        "environmental",
        "initial",
        "current",
        "duration",
        "modifications",
        "versions",
        "rule",
        "dep",
        "region",
        "method",
        "scope",
        "test",
    )
    return dict(zip(names, rows[0], strict=True))


def test_republication_keeps_latest_publication(fixture_files, query):
    a = contract(query, "21740056300011A")
    assert (a["initial"], a["versions"], a["rule"]) == (105_000, 2, "latest publication date")


def test_modifications_give_current_values(fixture_files, query):
    g = contract(query, "21740056300011G")
    assert (g["initial"], g["current"], g["duration"], g["modifications"]) == (
        100_000,
        130_000,
        24,
        2,
    )


@pytest.mark.parametrize(
    ("uid", "social", "kinds", "environmental"),
    [
        ("21740056300011A", "yes", ["clause"], "no"),
        ("21740056300011B", "yes", ["clause", "critere"], "yes"),
        ("20004107700011C", "no", [], "no"),
        ("21740056300011D", "unknown", [], "unknown"),  # fields missing
        ("21740056300011E", "unknown", [], "unknown"),  # NC
        ("21740056300011F", "unknown", [], "no"),  # unrecognised spelling
        ("13001845000028H", "no", [], "no"),  # 2.0.0 flat draft: [] means none
        (MARTINIQUE_COMMUNE + "K", "yes", ["reserve"], "no"),
    ],
)
def test_three_states_and_kinds(fixture_files, query, uid, social, kinds, environmental):
    c = contract(query, uid)
    assert (c["social"], c["social_kinds"], c["environmental"]) == (social, kinds, environmental)


@pytest.mark.parametrize(
    ("uid", "dep", "region", "method"),
    [
        ("21740056300011A", "74", "84", "siren_prefix"),
        ("13001845000028H", "93", "11", "place_of_execution"),
        (MARTINIQUE_COMMUNE + "K", "972", "02", "siren_prefix"),
        ("20004107700011C", None, None, "unplaced"),
    ],
)
def test_buyer_territory(fixture_files, query, uid, dep, region, method):
    c = contract(query, uid)
    assert (c["dep"], c["region"], c["method"]) == (dep, region, method)


def test_test_record_is_kept_but_not_counted(fixture_files, query):
    t = contract(query, "44090956200033T")
    assert (t["test"], t["scope"]) == (True, False)


def test_every_record_is_accounted_for(fixture_files, query):
    rows = query(
        "select split_part(relative_path, '/', -1), records_read, loaded, duplicates, rejected, "
        "balanced from ingest_accounting order by 1"
    )
    assert rows == [
        ("day1.json", 10, 8, 1, 1, True),
        ("day2.json", 1, 1, 0, 0, True),
        ("flat.json", 1, 1, 0, 0, True),
    ]
    assert query("select reason from ingest_rejects where position is not null") == [
        ("missing contract id (id)",)
    ]


def test_unreadable_files_are_quarantined_with_reason(fixture_files, query):
    rows = dict(
        query(
            "select split_part(relative_path, '/', -1), status || ': ' || status_reason "
            "from ingest_files where status <> 'parsed'"
        )
    )
    assert rows["empty.json"] == "quarantined: fichier vide (ou seulement des blancs)"
    assert rows["error_page.json"].startswith("quarantined: page HTML")
    assert rows["broken.json"].startswith("quarantined: JSON illisible")


def test_national_shares_exact(fixture_files, query):
    rows = query(
        "select year, contracts, social_yes, social_declared, environmental_yes, "
        "environmental_declared from pnad_shares where scope = 'all' and level = 'national'"
    )
    assert rows == [(2024, 9, 3, 6, 1, 7)]


def test_national_equals_sum_of_regions_and_unplaced(fixture_files, query):
    regions = query(
        "select territory_code, contracts, social_yes from pnad_shares "
        "where scope = 'all' and level = 'region' order by territory_code nulls last"
    )
    assert regions == [("02", 1, 1), ("11", 1, 0), ("84", 6, 2), (None, 1, 0)]
    assert sum(r[1] for r in regions) == 9


def test_rebuild_is_idempotent_and_a_no_op_run_skips_the_work(fixture_files, pnad_paths, query):
    before = query("select * from contracts order by uid")
    assert build_warehouse(pnad_paths)["rebuilt"] == 0  # nothing new: nothing rebuilt
    assert build_warehouse(pnad_paths, force=True)["rebuilt"] == 1
    assert query("select * from contracts order by uid") == before
    assert query("select count(*) from stg_decp_records") == [(11,)]  # parsed once


def test_scopes_and_amount_weighted_share(pnad_paths, query):
    write_decp_2022(
        pnad_paths.raw / "scopes" / "day.json",
        [
            marche("M1", amount=50_000, social=["Clause sociale"]),
            marche("M2", amount=200_000, idAccordCadre="AC-1"),
            marche(
                "M3",
                amount=300_000,
                nature="Marché de défense ou de sécurité",
                social=["Critère social"],
            ),
            marche("M4", amount=1, social=["Clause sociale"]),  # placeholder amount
        ],
        concessions=[
            {
                "id": "C1",
                "autoriteConcedante": {"id": "21740056300011"},
                "nature": "Concession de service",
                "dateSignature": "2024-02-01",
                "datePublicationDonnees": "2024-02-10",
                "valeurGlobale": 1_000_000,
                "considerationsSociales": {
                    "considerationSociale": ["Pas de considération sociale"]
                },
                "considerationsEnvironnementales": {
                    "considerationEnvironnementale": ["Pas de considération environnementale"]
                },
            }
        ],
    )
    build_warehouse(pnad_paths)
    rows = {
        scope: (contracts, social_yes, round(by_amount, 4), round(coverage, 2))
        for scope, contracts, social_yes, by_amount, coverage in query(
            "select scope, contracts, social_yes, social_share_by_amount, amount_coverage "
            "from pnad_shares where level = 'national'"
        )
    }
    assert rows == {
        # usable amounts: 50 000 (yes) + 200 000 + 300 000 (yes) + 1 000 000; M4 (1 EUR) left out
        "all": (5, 3, round(350_000 / 1_550_000, 4), 0.8),
        "marches": (4, 3, round(350_000 / 550_000, 4), 0.75),
        "marches_hors_subsequents": (3, 3, round(350_000 / 350_000, 4), 0.67),
        "oecp_basis": (2, 1, round(300_000 / 500_000, 4), 1.0),
        "hors_defense": (4, 2, round(50_000 / 1_250_000, 4), 0.75),
    }


def test_sirene_cache_places_buyers_the_siren_prefix_cannot(pnad_paths, query):
    from datetime import datetime

    from pipelines.common import warehouse
    from pipelines.reference import sirene

    write_decp_2022(
        pnad_paths.raw / "s" / "day.json",
        [
            marche(
                "E1", buyer="20004107700011", place=("99134", "Code pays")
            ),  # EPCI created > 2000
            marche("H1", buyer="26740003600017", place=("74000", "Code postal")),  # 26: prefix rule
        ],
    )
    with warehouse.connect(pnad_paths) as con:
        sirene.ensure_cache_table(con)
        con.execute(
            "insert into sirene_cache values ('20004107700011', true, '200041077', 'CA Test', "
            "'7346', '2A004', '20000', '2A', 'api', 200, $now)",
            {"now": datetime(2026, 1, 1)},
        )
    build_warehouse(pnad_paths)
    with warehouse.connect(pnad_paths) as con:
        # both placed; the one SIRENE has not named yet is still asked, for its name
        assert buyers_to_locate(con) == ["26740003600017"]
    assert query(
        "select uid, buyer_departement_code, buyer_region_code, buyer_territory_method, "
        "buyer_category, buyer_legal_category, buyer_name, buyer_name_source "
        "from contracts order by uid"
    ) == [
        ("20004107700011E1", "2A", "94", "sirene", "intercommunalite", "7346", "CA Test", "sirene"),
        (
            "26740003600017H1",
            "74",
            "84",
            "siren_prefix",
            "etablissement_public_local",
            None,
            None,
            None,
        ),
    ]


def test_estimate_from_object_only_where_nothing_is_declared(pnad_paths, query):
    record_2019 = {
        k: v
        for k, v in marche("O1").items()
        if k not in ("considerationsSociales", "considerationsEnvironnementales")
    }
    record_2019["objet"] = "Marché réservé aux ESAT : entretien des espaces verts, produits bio"
    declared = marche("O2", objet="Chantier d'insertion", social=["Pas de considération sociale"])
    write_decp_2022(pnad_paths.raw / "o" / "day.json", [record_2019, declared])
    build_warehouse(pnad_paths)
    assert query(
        "select contract_id, social_status, social_estimate_from_object, "
        "environmental_estimate_from_object from contracts order by contract_id"
    ) == [("O1", "unknown", "probable", "probable"), ("O2", "no", None, None)]
    # the estimate never reaches the declared figures
    assert query(
        "select social_yes from pnad_shares where scope = 'all' and level = 'national'"
    ) == [(0,)]


def test_within_one_file_a_republication_is_a_version_and_lots_of_one_day_are_contracts(
    pnad_paths, query
):
    # a consolidated file holds every publication of a contract: the same id, object, holder
    # and notification date published on two dates with two amounts is one contract (latest
    # publication wins); two amounts of one object published the same day are two lots
    write_decp_2022(
        pnad_paths.raw / "x" / "consolidated.json",
        [
            marche("R1", amount=7000, published="2024-07-09"),
            marche("R1", amount=7777, published="2024-07-10"),
            marche("L1", amount=1000, published="2024-07-09"),
            marche("L1", amount=2000, published="2024-07-09"),
        ],
    )
    build_warehouse(pnad_paths)
    assert query(
        "select uid, shared_id_group, current_amount, versions_seen, kept_rule from contracts "
        "order by uid"
    ) == [
        ("21740056300011L1#1", True, 1000.0, 1, "single version"),
        ("21740056300011L1#2", True, 2000.0, 1, "single version"),
        ("21740056300011R1", False, 7777.0, 2, "latest publication date"),
    ]
