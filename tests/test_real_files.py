"""Every real DECP sample in ../shared/data/decp ingests with exact, independently checked counts.

Skipped when PNAD_SAMPLE_DATA is not set (.ci/run sets it)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.common.paths import PnadPaths
from pipelines.decp import landing
from tests.conftest import build_warehouse, sample_data_dir


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    decp = sample_data_dir() / "decp"
    paths = PnadPaths.resolve(tmp_path_factory.mktemp("real") / "home").ensure()
    landed = landing.land_local_files(
        paths, [decp / "decp2024", decp / "decp2019", decp / "official_examples", decp / "tabular"]
    )
    build_warehouse(paths)
    con = duckdb.connect(str(paths.work_db), read_only=True)
    names = {target.name: source.relative_to(decp).as_posix() for source, target in landed}
    yield decp, con, names
    con.close()


def json_records(path: Path) -> list[dict]:
    root = json.loads(path.read_text(encoding="utf-8-sig"))["marches"]
    if isinstance(root, list):
        return root
    return root.get("marche", []) + root.get("contrat-concession", [])


def by_original_name(con, names, query):
    """Rows keyed by the sample file's path under decp/ (the landed copy is named by checksum)."""
    return {names[Path(row[0]).name]: row[1:] for row in con.execute(query).fetchall()}


def test_every_file_parsed_and_every_record_accounted_for(real):
    decp, con, names = real
    accounting = by_original_name(
        con,
        names,
        "select relative_path, records_read, loaded, duplicates, rejected, balanced "
        "from ingest_accounting",
    )
    assert len(accounting) == len(names) == 30
    assert all(row[4] for row in accounting.values())
    assert con.execute("select count(*) from ingest_files where status <> 'parsed'").fetchone() == (
        0,
    )
    for json_file in decp.rglob("*.json"):
        if json_file.name.startswith("sources_") or "schemas" in json_file.parts:
            continue
        relative = json_file.relative_to(decp).as_posix()
        assert accounting[relative][0] == len(json_records(json_file)), relative


# Per sample file: (format, records read, loaded, merged as duplicates, rejected). Read counts of
# the JSON files are checked against the files themselves above; the aife feed's 4 522 usable
# records hold 4 264 distinct (buyer, id) pairs, and 22 of those ids hold several contracts
# (lots, other holders or dates): 36 more, 4 300 contracts. 13 records published with another
# object, the same notification date, holder SIREN and amount are republications, not lots:
# 'LOT 2 : TELE?PHONIE MOBILE' / 'LOT 2 TELEPHONIE MOBILE', a laboratory's works reworded, and
# 11 of a platform's test records ('Le marche noir' / 'Le marche du siecle', 123 456,78 EUR);
# in the PES feed, 'qualité de l?air' / "qualité de l'air" (contract_identities.sql).
EXPECTED_ACCOUNTING = {
    "decp2019/aife_data.gouv.fr_2019-04-04.json": ("decp-json", 4530, 4300, 222, 8),
    "decp2019/marches-securises_croix_21590163800019_2019-2021.json": (
        "decp-json",
        159,
        125,
        1,
        33,
    ),
    "decp2019/pes_dgfip_data.gouv.fr_2019-04-05.json": ("decp-json", 1148, 1140, 8, 0),
    "decp2024/dematis_2024-07/dematis13.json": ("decp-json", 137, 136, 1, 0),
    "decp2024/dematis_2024-07/dematis16.json": ("decp-json", 143, 143, 0, 0),
    "decp2024/dematis_2024-07/dematis17.json": ("decp-json", 159, 159, 0, 0),
    "decp2024/dematis_2024-07/dematis18.json": ("decp-json", 74, 74, 0, 0),
    "decp2024/dematis_2024-07/dematis19.json": ("decp-json", 87, 87, 0, 0),
    "decp2024/gunout_monitor-decp-re_decp-2025_excerpt.json": ("decp-json", 1, 1, 0, 0),
    "decp2024/maximilien_13001845000028_2024-02-29_flat-shape.json": ("decp-json", 1, 1, 0, 0),
    "decp2024/maximilien_13001845000028_2024-10-06.json": ("decp-json", 17, 17, 0, 0),
    "decp2024/megalis_decp-59920013600241-2024-07-09-01.json": ("decp-json", 5, 5, 0, 0),
    "official_examples/decp-table-schema_exemple-valide.csv": ("decp-tabular-csv", 4, 2, 2, 0),
    "official_examples/v1.5.0/cc-avec-modifications.json": ("decp-json", 1, 0, 1, 0),
    "official_examples/v1.5.0/cc-avec-modifications.xml": ("decp-xml", 1, 1, 0, 0),
    "official_examples/v1.5.0/mar-avec-modifications.json": ("decp-json", 1, 1, 0, 0),
    "official_examples/v1.5.0/mar-avec-modifications.xml": ("decp-xml", 1, 1, 0, 0),
    "official_examples/v1.5.0/paquet.json": ("decp-json", 2, 1, 1, 0),
    "official_examples/v1.5.0/paquet.xml": ("decp-xml", 4, 4, 0, 0),
    "official_examples/v2.0.0/mar-avec-modifications.json": ("decp-json", 1, 1, 0, 0),
    "official_examples/v2.0.0/paquet.json": ("decp-json", 2, 2, 0, 0),
    "official_examples/v2.0.3/Contrat-concession-modification.xml": ("decp-xml", 2, 0, 2, 0),
    "official_examples/v2.0.3/Contrat-concession.xml": ("decp-xml", 2, 0, 2, 0),
    "official_examples/v2.0.3/Marche.xml": ("decp-xml", 2, 1, 1, 0),
    "official_examples/v2.0.3/concessions.json": ("decp-json", 2, 0, 2, 0),
    "official_examples/v2.0.3/concessions_avec_modifications.json": ("decp-json", 2, 2, 0, 0),
    "official_examples/v2.0.3/marches_avec_modifications.json": ("decp-json", 2, 0, 2, 0),
    "official_examples/v2.0.3/marches_concessions.json": ("decp-json", 4, 4, 0, 0),
    "tabular/data.economie_decp_augmente_valides_2019_sample.csv": ("decp-tabular-csv", 9, 9, 0, 0),
    "tabular/data.economie_decp_augmente_valides_2022_sample.csv": ("decp-tabular-csv", 9, 9, 0, 0),
}


def test_exact_counts_per_file(real):
    _, con, names = real
    accounting = by_original_name(
        con,
        names,
        "select a.relative_path, f.format, a.records_read, a.loaded, a.duplicates, a.rejected "
        "from ingest_accounting as a join ingest_files as f using (file_id)",
    )
    assert accounting == EXPECTED_ACCOUNTING
    # one contract per record loaded: the official examples repeat each other's contracts
    assert con.execute("select count(*) from contracts").fetchone() == (
        sum(row[2] for row in EXPECTED_ACCOUNTING.values()),
    )
    assert con.execute("select count(*) from contracts").fetchone() == (6226,)


def test_exact_rejects_with_reasons(real):
    _, con, names = real
    rows = con.execute(
        "select f.relative_path, r.reason, count(*) from ingest_rejects r join ingest_files f "
        "using (file_id) group by all order by all"
    ).fetchall()
    assert sorted((names[Path(p).name], reason, n) for p, reason, n in rows) == [
        (
            "decp2019/aife_data.gouv.fr_2019-04-04.json",
            "missing buyer id (acheteur.id / autoriteConcedante.id)",
            1,
        ),
        ("decp2019/aife_data.gouv.fr_2019-04-04.json", "missing contract id (id)", 7),
        (
            "decp2019/marches-securises_croix_21590163800019_2019-2021.json",
            "missing contract id (id)",
            33,
        ),
    ]


def contracts_of(con, base_uid):
    return con.execute(
        "select uid, initial_amount, versions_seen, kept_rule, shared_id_group from contracts "
        "where base_uid = $base_uid order by uid",
        {"base_uid": base_uid},
    ).fetchall()


def test_republished_contract_is_one_contract_with_its_latest_publication(real):
    # published on 2024-07-12 (dematis13) and again on 2024-07-15 (dematis16)
    assert contracts_of(real[1], "4522007510002523-239") == [
        ("4522007510002523-239", 15181863.0, 2, "latest publication date", False)
    ]


def test_same_amount_and_holder_but_another_lot_is_another_contract(real):
    # dematis16 lists Lot 2 and Lot 3 under one id, with the same holder, date and amount
    lots = contracts_of(real[1], "403891997000132024-2024300293")
    assert [(uid[-2:], amount, versions, flag) for uid, amount, versions, _, flag in lots] == [
        ("#1", 209280.0, 1, True),
        ("#2", 209280.0, 1, True),
    ]
    assert real[1].execute(
        "select distinct identity_rule from contract_versions "
        "where base_uid = '403891997000132024-2024300293'"
    ).fetchall() == [("another lot number in the object",)]


def test_a_republication_with_a_reworded_object_is_one_contract(real):
    # the aife feed publishes lot 2 twice, 'LOT 2 : TELE?PHONIE MOBILE' and 'LOT 2 TELEPHONIE
    # MOBILE': same notification date, holder and amount
    base_uid = "216802975000132018k0IibbJzzB00"
    assert contracts_of(real[1], base_uid) == [
        (base_uid, 80000.0, 2, "latest publication date", False)
    ]
    assert real[1].execute(
        "select distinct identity_rule from contract_versions where base_uid = $b", {"b": base_uid}
    ).fetchall() == [("reworded object: same notification date, holder SIREN and amount",)]


def test_lots_sharing_one_id_are_told_apart_and_flagged(real):
    _, con, _ = real
    # two lots with different holders and notification dates (dematis16)
    lots = contracts_of(con, "281300038000292024-FCS01-00")
    assert [(uid[-2:], amount, flag) for uid, amount, _, _, flag in lots] == [
        ("#1", 9000.0, True),
        ("#2", 171000.0, True),
    ]
    # same holder and date, two amounts in one file (dematis18): two lots, not a republication
    lots = contracts_of(con, "130027931000182024-OCC022-00")
    assert sorted(amount for _, amount, _, _, _ in lots) == [19375.0, 132610.0]


def test_platform_test_record_is_recognised_not_counted(real):
    _, con, _ = real
    assert con.execute(
        "select is_test_record, in_pnad_scope from contracts where buyer_siret = '44090956200033'"
    ).fetchall() == [(True, False)]


def test_flat_draft_record(real):
    _, con, _ = real
    assert con.execute(
        "select social_status, environmental_status, format_version, nature from contracts "
        "where contract_id = '2024_D2F_2023S12323_33 962_01'"
    ).fetchall() == [("no", "no", "decp-2022-flat", "Marché de défense ou de sécurité")]


def test_dates_with_time_zone_suffix_are_read(real):
    decp, con, _ = real
    records = json_records(decp / "decp2019" / "pes_dgfip_data.gouv.fr_2019-04-05.json")
    with_suffix = [r for r in records if "+" in str(r.get("dateNotification", ""))]
    assert len(with_suffix) > 1000
    expected = {str(date.fromisoformat(r["dateNotification"][:10])) for r in with_suffix}
    found = {
        row[0]
        for row in con.execute(
            "select c.notification_date::varchar from contract_versions v "
            "join stg_decp_records r using (file_id, position) join contracts c using (uid) "
            "where v.is_kept and r.notification_date_text like '%+%'"
        ).fetchall()
    }
    assert found <= expected and len(found) > 100


def test_siren_rule_agrees_with_the_place_of_execution_on_real_buyers(real):
    _, con, _ = real
    agree, total = con.execute(
        "select count(*) filter (where buyer_departement_code = execution_departement_code), "
        "count(*) from contracts where buyer_territory_method = 'siren_prefix' "
        "and execution_departement_code is not null"
    ).fetchone()
    assert total > 500
    assert agree / total > 0.85


def test_economie_export_modification_beside_the_initial_values_gives_the_current_amount(real):
    # data.economie.gouv.fr 2019 export: booleanModification 1, montantModification on the
    # contract's own row, idModification empty
    rows = (
        real[1]
        .execute(
            "select c.contract_id, c.initial_amount, c.current_amount, c.modifications, "
            "m.modification_id from contracts as c join contract_modifications as m using (uid) "
            "where c.contract_id in ('2020007901', '2020CP007F00302') order by 1"
        )
        .fetchall()
    )
    assert rows == [
        ("2020007901", 39839.99, 45579.37, 1, "1"),
        ("2020CP007F00302", 2080000.0, 2344000.0, 1, "1"),
    ]
    # a row without a modification (booleanModification 0) gives none
    assert real[1].execute(
        "select initial_amount, current_amount, modifications from contracts "
        "where contract_id = '2020lupqfvkTxx00'"
    ).fetchall() == [(13568.0, 13568.0, 0)]


def test_economie_export_row_with_three_holders_gives_three_holders(real):
    # titulaire_id_1..3 on one row of the 2019 data.economie.gouv.fr sample, with their names
    # and types, in their published order (not the ids' order)
    assert real[1].execute(
        "select holder_order, holder_id, holder_id_type, holder_name from contract_holders "
        "where uid = '224000018000162020CP007F00302' order by 1"
    ).fetchall() == [
        (1, "81494694300010", "SIRET", "TRANSPORTS BIZIA MAITE"),
        (2, "80332764200010", "SIRET", "CHALOSSE TRANSPORT"),
        (3, "47823248100026", "SIRET", "WETTERWALD TRANSPORT TOURISME"),
    ]


def test_techniques_and_execution_modalities_as_published(real):
    _, con, _ = real

    def lists(uid):
        return con.execute(
            "select techniques, execution_modalities from contracts where uid = $uid", {"uid": uid}
        ).fetchall()

    # 2022 JSON and XML (official example, <technique> repeated), in published order
    assert lists("21750001630040TEST2022") == [(["Concours", "Accord-cadre"], ["Tranches"])]
    # 2.0.0 flat draft: singular keys, plain arrays, the draft's spelling made current
    # ("Marché subséquent"); an empty array is "none", not unknown
    assert lists("21350238800019mp-889") == [(["Concours"], ["Marchés subséquents"])]
    assert lists("130018450000282024_D2F_2023S12323_33 962_01") == [([], [])]
    # data.economie.gouv.fr 2022 export: Python-list text
    assert lists("200056844000182024FCS05_1") == [(["Accord-cadre"], ["Bons de commande"])]
    # 2019 format: no such fields
    assert lists("219200441000182020SA200200") == [(None, None)]
    # the draft allowed "Marché subséquent": not drift
    assert con.execute(
        "select count(*) from schema_drift where field in ('technique', 'execution_modality')"
    ).fetchone() == (0,)


def test_each_publication_names_its_publisher(real):
    _, con, _ = real
    assert dict(
        con.execute(
            "select r.publisher, count(*) from contract_versions as v "
            "join stg_decp_records as r using (file_id, position) group by all"
        ).fetchall()
    ) == {
        # the 2019-format consolidations' "source" (usable records); the "source" column of the
        # 18 rows of the data.economie.gouv.fr exports (2 aife, 12 pes, 2 decp_aws, 1
        # marches-publics.info, 1 e-marchespublics); the official tabular example's 4 aife rows,
        # 2 contracts
        "data.gouv.fr_aife": 4522 + 2 + 2,
        "data.gouv.fr_pes": 1148 + 12,
        "decp_aws": 2,
        "marches-publics.info": 1,
        "e-marchespublics": 1,
        None: 779,  # the buyers' own files and the 2022 platforms name no feed
    }
    # "source" is a known key of those consolidations, not schema drift
    assert con.execute(
        "select count(*) from schema_drift where kind = 'unknown_key' and value = 'source'"
    ).fetchone() == (0,)
