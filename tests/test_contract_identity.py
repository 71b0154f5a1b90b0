"""Which records are one contract: a republication with a reworded object is merged, lots
published under one id stay apart, each on evidence named in contract_sources; and the uids of
contracts sharing an id never collide with a published id."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.decp import contracts as decp_contracts
from tests.conftest import build_and_publish, build_warehouse, marche, write_decp_2022

BUYER = "21740056300011"
HOLDER = "82747808200023"
HOLDER_OTHER_ESTABLISHMENT = "82747808200031"  # same SIREN 827478082, another establishment
OTHER_HOLDER = "44306184100047"


def published(objet: str, amount: float, holder: str = HOLDER, **extra: object) -> dict:
    """A record of contract 'X' of one buyer, notified 2024-03-15, with this object, amount and
    first holder."""
    return marche(
        "X",
        BUYER,
        amount=amount,
        objet=objet,
        titulaires=[{"titulaire": {"typeIdentifiant": "SIRET", "id": holder}}],
        **extra,
    )


def contracts_and_evidence(pnad_paths, query) -> list[tuple]:
    """(uid suffix, amount kept, versions, identity rule of each record) per contract."""
    build_warehouse(pnad_paths)
    return query(
        "select replace(c.uid, $base, ''), c.initial_amount, c.versions_seen, "
        "list(distinct v.identity_rule order by v.identity_rule) "
        "from contracts as c join contract_versions as v using (uid) group by all order by 1",
        {"base": BUYER + "X"},
    )


MERGED = "reworded object: same notification date, holder SIREN and amount"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # the same contract, reworded, the holder's establishment another one of its SIREN
        (
            published("Tx de scénographie du musée", 48_000, published="2024-03-20"),
            published(
                "Travaux de scénographie du musée",
                48_000,
                HOLDER_OTHER_ESTABLISHMENT,
                published="2024-04-02",
            ),
        ),
        # a subsequent contract named by its framework on one platform, by its lot on another
        (
            published("Marché subséquent 18C0004-MS003 fournitures de bureau", 12_500),
            published("M18428S : LOT3 fournitures de bureau", 12_500),
        ),
    ],
)
def test_a_reworded_republication_in_one_file_is_one_contract(pnad_paths, query, first, second):
    write_decp_2022(pnad_paths.raw / "c" / "consolidated.json", [first, second])
    assert contracts_and_evidence(pnad_paths, query) == [("", first["montant"], 2, [MERGED])]
    assert query("select loaded, duplicates from ingest_accounting") == [(1, 1)]


@pytest.mark.parametrize(
    ("first", "second", "evidence"),
    [
        # two lots, one holder, one amount: the lot numbers differ
        (
            published("Lot 1 : Gros oeuvre", 90_000),
            published("Lot 5 : Plomberie", 90_000),
            "another lot number in the object",
        ),
        # reworded objects but two holders
        (
            published("Tx de voirie", 90_000),
            published("Travaux de voirie", 90_000, OTHER_HOLDER),
            "another notification date or holder",
        ),
        # two objects sharing no amount
        (
            published("Tx de voirie", 90_000),
            published("Travaux de voirie", 75_000),
            "another amount",
        ),
        # one object published twice on one day with two amounts (lots published together)
        (
            published("Travaux de voirie", 90_000),
            published("Travaux de voirie", 75_000),
            "another amount",
        ),
    ],
)
def test_lots_under_one_id_stay_apart(pnad_paths, query, first, second, evidence):
    write_decp_2022(pnad_paths.raw / "c" / "consolidated.json", [first, second])
    assert contracts_and_evidence(pnad_paths, query) == [
        ("#1", first["montant"], 1, [evidence]),
        ("#2", second["montant"], 1, [evidence]),
    ]
    assert query("select shared_id_group, count(*) from contracts group by 1") == [(True, 2)]


def test_an_object_matching_two_lots_is_kept_apart_from_both(pnad_paths, query):
    # "Marché de travaux" shares its amount with lot 1 and with lot 2: it may be either
    write_decp_2022(
        pnad_paths.raw / "c" / "consolidated.json",
        [
            published("Lot 1 : Gros oeuvre", 90_000),
            published("Marché de travaux", 90_000),
            published("Lot 2 : Charpente", 90_000),
        ],
    )
    assert contracts_and_evidence(pnad_paths, query) == [
        ("#1", 90_000.0, 1, ["another lot number in the object"]),
        ("#2", 90_000.0, 1, ["object matching several lots, kept apart"]),
        ("#3", 90_000.0, 1, ["another lot number in the object"]),
    ]


def test_a_reworded_lot_is_merged_with_its_lot_not_with_the_others(pnad_paths, query):
    write_decp_2022(
        pnad_paths.raw / "c" / "consolidated.json",
        [
            published("Lot 1 : Gros oeuvre", 90_000),
            published("Lot 2 : Charpente", 40_000),
            published("LOT1 gros-œuvre", 90_000, published="2024-05-01"),
        ],
    )
    assert contracts_and_evidence(pnad_paths, query) == [
        ("#1", 90_000.0, 2, ["another lot number in the object; reworded object, same amount"]),
        ("#2", 40_000.0, 1, ["another lot number in the object"]),
    ]


def test_identity_evidence_is_published_in_contract_sources(pnad_paths, query):
    write_decp_2022(
        pnad_paths.raw / "c" / "consolidated.json",
        [published("Tx de voirie", 90_000), published("Travaux de voirie", 90_000)],
    )
    write_decp_2022(pnad_paths.raw / "c" / "other.json", [marche("Y", BUYER)])
    with duckdb.connect(str(build_and_publish(pnad_paths, "identity")), read_only=True) as con:
        assert con.execute(
            "select contract_id, identity_rule, count(*) from contract_sources "
            "join contracts using (uid) group by all order by 1"
        ).fetchall() == [("X", MERGED, 2), ("Y", "one record", 1)]


# --- uids of contracts sharing an id ----------------------------------------------------------


def lots_beside_a_real_id() -> tuple[list[dict], list[dict]]:
    """Two lots published under the id FZ35, and a contract whose published id is FZ35#1."""
    lots = [
        marche("FZ35", BUYER, amount=1000, objet="Lot 1 : Voirie"),
        marche("FZ35", BUYER, amount=2000, objet="Lot 2 : Réseaux"),
    ]
    return lots, [marche("FZ35#1", BUYER, amount=5000, objet="Éclairage public")]


def uid_check_passes(pnad_paths) -> bool:
    """The blocking asset check on contracts' uids, as Dagster runs it."""
    from assets.decp.contracts import check_uniqueness_uid
    from assets.resources import PnadDuckDBResource

    return check_uniqueness_uid(duckdb=PnadDuckDBResource(home=str(pnad_paths.home))).passed


EXPECTED_UIDS = [
    # the published id keeps its uid; the lots take the suffixes it leaves free
    (BUYER + "FZ35#1", "FZ35#1", 5000.0, False),
    (BUYER + "FZ35#2", "FZ35", 1000.0, True),
    (BUYER + "FZ35#3", "FZ35", 2000.0, True),
]


def test_a_generated_uid_never_takes_a_published_id(pnad_paths, query):
    lots, real = lots_beside_a_real_id()
    write_decp_2022(pnad_paths.raw / "c" / "file.json", lots + real)
    build_warehouse(pnad_paths)
    assert (
        query(
            "select uid, contract_id, initial_amount, shared_id_group from contracts order by uid"
        )
        == EXPECTED_UIDS
    )
    assert uid_check_passes(pnad_paths)


def test_a_published_id_arriving_later_moves_the_generated_uids(pnad_paths, query, monkeypatch):
    # the real FZ35#1 comes in a later daily file: the incremental build reads the family
    # (FZ35, FZ35#1) again and gives what a full build gives
    monkeypatch.setattr(decp_contracts, "INCREMENT_MAX_SHARE", 1.0)
    lots, real = lots_beside_a_real_id()
    write_decp_2022(pnad_paths.raw / "c" / "day1.json", lots)
    build_warehouse(pnad_paths)
    assert query("select uid from contracts order by uid") == [
        (BUYER + "FZ35#1",),
        (BUYER + "FZ35#2",),
    ]
    write_decp_2022(pnad_paths.raw / "c" / "day2.json", real)
    assert build_warehouse(pnad_paths)["incremental"] == 1
    columns = "select uid, contract_id, initial_amount, shared_id_group from contracts order by uid"
    assert query(columns) == EXPECTED_UIDS
    assert uid_check_passes(pnad_paths)
    assert build_warehouse(pnad_paths, force=True)["incremental"] == 0
    assert query(columns) == EXPECTED_UIDS
