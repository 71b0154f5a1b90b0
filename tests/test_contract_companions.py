"""The contract model's companion tables on real DECP samples: contract_holders (titulaires and
concessionnaires, initial and after modifications) and contract_subcontracting (actes de
sous-traitance); the same tables from an incremental build; a working database made before
subcontracting acts were staged, migrated in place.

The real samples are skipped when PNAD_SAMPLE_DATA is not set (.ci/run sets it)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.decp import contracts as decp_contracts
from pipelines.decp import landing
from tests.conftest import (
    build_and_publish,
    build_warehouse,
    marche,
    sample_data_dir,
    write_decp_2022,
)

SAMPLES = (
    "decp2024/dematis_2024-07/dematis16.json",  # 2022 wrapped titulaires, actesSousTraitance
    "decp2024/dematis_2024-07/dematis19.json",  # a 2022 modification naming a new titulaire
    "decp2024/maximilien_13001845000028_2024-02-29_flat-shape.json",  # 2.0.0 flat draft
    "decp2019/marches-securises_croix_21590163800019_2019-2021.json",  # 2019, names, [] in mods
    "official_examples/v1.5.0/mar-avec-modifications.json",  # 2019: Hellman replaced by Amandier
    "official_examples/v1.5.0/mar-avec-modifications.xml",  # XML 2019, titulaires in modifications
    "official_examples/v1.5.0/cc-avec-modifications.xml",  # XML concession: concessionnaires
    "official_examples/v2.0.3/Marche.xml",  # XML 2022 with an acte de sous-traitance
    "tabular/data.economie_decp_augmente_valides_2022_sample.csv",  # holder id and type
)
HOLDER_COLUMNS = (
    "role, holder_order, holder_id, holder_id_type, holder_name, modification_order, is_current"
)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    decp = sample_data_dir() / "decp"
    paths = PnadPaths.resolve(tmp_path_factory.mktemp("companions") / "home").ensure()
    landing.land_local_files(paths, [decp / name for name in SAMPLES])
    build_warehouse(paths)
    with duckdb.connect(str(paths.work_db), read_only=True) as con:
        yield decp, con


def holders(con, uid: str) -> list[tuple]:
    return con.execute(
        f"select {HOLDER_COLUMNS} from contract_holders where uid = $uid "  # noqa: S608 - constant
        "order by coalesce(modification_order, 0), holder_order",
        {"uid": uid},
    ).fetchall()


def acts(con, uid: str) -> list[tuple]:
    """The contract's acts in their published order (dates as text, to keep rows on one line)."""
    return con.execute(
        "select act_id, subcontractor_id, subcontractor_id_type, subcontractor_name, amount, "
        "duration_months, notification_date::varchar, publication_date::varchar, price_variation "
        "from contract_subcontracting where uid = $uid order by act_order",
        {"uid": uid},
    ).fetchall()


def test_2022_wrapped_titulaire(real):
    _, con = real
    assert holders(con, "2144011430001824-990652-2") == [
        ("titulaire", 1, "32308615700027", "SIRET", None, None, True)
    ]


def test_2022_modification_naming_a_new_titulaire_makes_it_current(real):
    _, con = real
    # dematis19: modification 2 of 4 gives titulaire 70204753100083; the initial one is kept
    assert holders(con, "279200224000122016-8432") == [
        ("titulaire", 1, "37829898800064", "SIRET", None, None, False),
        ("titulaire", 1, "70204753100083", "SIRET", None, 2, True),
    ]
    assert con.execute(
        "select count(*) from contract_modifications where uid = '279200224000122016-8432'"
    ).fetchone() == (4,)


def test_2019_holders_with_names_replaced_by_a_modification(real):
    _, con = real
    assert holders(con, "213502388000192010345211201") == [
        ("titulaire", 1, "81223113200026", "SIRET", "Garami SARL", None, False),
        ("titulaire", 2, "DE814864138", "TVA", "Hellman Gmbh", None, False),
        ("titulaire", 1, "81223113200026", "SIRET", "Garami SARL", 1, True),
        ("titulaire", 2, "87127639200012", "SIRET", "Amandier SA", 1, True),
    ]


def test_an_empty_holder_list_in_a_modification_changes_nothing(real):
    _, con = real
    uid = "21590163800019201920193200002"
    assert con.execute(
        "select new_holders::varchar from contract_modifications where uid = $uid", {"uid": uid}
    ).fetchall() == [("[]",)]
    assert holders(con, uid) == [
        (
            "titulaire",
            1,
            "31611247300038",
            "Siret",  # as written
            "SOCIETE REGIONALE D'ESPACES VERTS ET D'ENVIRONNEMENT EN ABREGE \"S.O.R.E.V.E.\"",
            None,
            True,
        )
    ]


def test_xml_holders_and_their_modifications_in_contract_modifications_order(real):
    _, con = real
    # The XML example's modifications have no id: they apply in notification date order, the
    # one notified 2008-05-22 (Jullié) first, as contract_modifications orders them for amounts.
    assert holders(con, "213502388000192010345211203") == [
        ("titulaire", 1, "81223113200026", "SIRET", "Garami SARL", None, False),
        ("titulaire", 2, "DE814864138", "TVA", "Hellman Gmbh", None, False),
        ("titulaire", 1, "81223113200026", "SIRET", "Garami SARL", 1, False),
        ("titulaire", 2, "87845484200015", "SIRET", "Jullié SA", 1, False),
        ("titulaire", 1, "81223113200026", "SIRET", "Garami SARL", 2, True),
        ("titulaire", 2, "87127639200012", "SIRET", "Amandier SA", 2, True),
    ]
    assert con.execute(
        "select modification_order, modification_date from contract_modifications "
        "where uid = '213502388000192010345211203' and new_holders is not null order by 1"
    ).fetchall() == [(1, date(2008, 5, 22)), (2, date(2008, 7, 20))]
    assert holders(con, "2135023880001920010345211202") == [
        ("concessionnaire", 1, "81223113200026", "SIRET", "Atlas SAS", None, True)
    ]


def test_flat_draft_and_tabular_holders(real):
    _, con = real
    assert holders(con, "130018450000282024_D2F_2023S12323_33 962_01") == [
        ("titulaire", 1, "44090956200041", "SIRET", None, None, True)
    ]
    # data.economie.gouv.fr 2022 export: id and type (no name column); a TVA number
    assert holders(con, "20003357900018202410977") == [
        ("titulaire", 1, "83381722400029", "SIRET", None, None, True)
    ]
    assert holders(con, "200056844000182024FCS05_1") == [
        ("titulaire", 1, "FR32918951849", "TVA", None, None, True)
    ]


def test_every_contract_with_holders_has_one_current_set(real):
    _, con = real
    assert con.execute(
        "select count(*) from (select uid from contract_holders group by uid having "
        "count(distinct coalesce(modification_order, 0)) filter (where is_current) <> 1)"
    ).fetchone() == (0,)
    assert con.execute(
        "select count(*) from contract_holders anti join contracts using (uid)"
    ).fetchone() == (0,)


def test_subcontracting_acts_of_a_2022_contract(real):
    _, con = real
    assert acts(con, "2144011430001824-990652-2") == [
        ("1", "31357870000046", "SIRET", None, 31000.0, 21, "2024-05-13", "2024-05-13", "Ferme"),
        ("2", "45367720500032", "SIRET", None, 38048.0, 4, "2024-06-21", "2024-06-21", "Ferme"),
        ("3", "79186466300020", "SIRET", None, 9000.0, 6, "2024-06-24", "2024-06-27", "Ferme"),
        ("4", "753830346", "SIRET", None, 10148.0, 5, "2024-07-05", "2024-07-15", "Ferme"),
    ]


def test_every_holder_and_act_of_the_daily_files_is_read(real):
    decp, con = real
    for name, holders_written, acts_written in ((SAMPLES[0], 234, 16), (SAMPLES[1], 92, 105)):
        root = json.loads((decp / name).read_text(encoding="utf-8"))["marches"]
        records = root["marche"] + root["contrat-concession"]
        assert sum(
            len(r.get("titulaires") or r.get("concessionnaires") or []) for r in records
        ) == (holders_written)
        assert sum(len(r.get("actesSousTraitance") or []) for r in records) == acts_written
        read = con.execute(
            "with kept as (select uid from contract_versions where is_kept and file_id = $id) "
            "select (select count(*) from contract_holders semi join kept using (uid) "
            "        where modification_order is null), "
            "       (select count(*) from contract_subcontracting semi join kept using (uid))",
            {"id": landing.sha256_of(decp / name)},
        ).fetchone()
        assert read == (holders_written, acts_written), name


def test_subcontracting_act_from_xml(real):
    _, con = real
    assert acts(con, "21750001630040TEST2022") == [
        ("1", "214356", "SIRET", None, 123456.89, 12, "2024-10-11", "2024-10-12", "Révisable")
    ]


def test_tabular_acts_columns_left_empty_give_no_acts(real):
    # the 2022 export's acts columns are all CDL (empty) in the sample
    _, con = real
    assert con.execute(
        "select count(*), count(subcontracting) from stg_decp_records "
        "where format_version = 'decp-tabular'"
    ).fetchone() == (9, 0)
    assert con.execute(
        "select count(*) from contract_subcontracting join contracts using (uid) "
        "where contracts.format_version = 'decp-tabular'"
    ).fetchone() == (0,)


def test_companion_tables_are_published(real, tmp_path):
    decp, _ = real
    paths = PnadPaths.resolve(tmp_path / "home").ensure()
    landing.land_local_files(paths, [decp / "official_examples/v2.0.3/Marche.xml"])
    with duckdb.connect(str(build_and_publish(paths, "companions")), read_only=True) as con:
        assert con.execute(
            "select uid, holder_id, holder_id_type, is_current from contract_holders"
        ).fetchall() == [("21750001630040TEST2022", "55204599900869", "SIRET", True)]
        assert con.execute(
            "select uid, amount, subcontractor_id from contract_subcontracting"
        ).fetchall() == [("21750001630040TEST2022", 123456.89, "214356")]
        assert "new_holders" not in [
            row[0] for row in con.execute("describe contract_modifications").fetchall()
        ]


XML_ONE_HOLDER = """<?xml version="1.0" encoding="UTF-8"?>
<marches><marche>
  <id>X1</id><acheteur><id>21740056300011</id></acheteur><nature>Marché</nature>
  <objet>Travaux</objet><codeCPV>45000000</codeCPV><procedure>Appel d'offres ouvert</procedure>
  <dureeMois>12</dureeMois><dateNotification>2024-03-15</dateNotification>
  <datePublicationDonnees>2024-03-20</datePublicationDonnees><montant>1000</montant>
  <titulaires><titulaire><typeIdentifiant>SIRET</typeIdentifiant>
    <id>82747808200023</id></titulaire></titulaires>
  <modifications><modification><id>1</id><montant>2000</montant>
    <titulaires><titulaire><typeIdentifiant>SIRET</typeIdentifiant><id>44090956200041</id>
    </titulaire></titulaires></modification></modifications>
</marche></marches>
"""


def test_one_holder_in_an_xml_modification_a_padded_id_and_a_null_item(pnad_paths, query):
    # A single <titulaire> in a modification stays {"titulaire": {...}} once converted
    (pnad_paths.raw / "x").mkdir(parents=True)
    (pnad_paths.raw / "x" / "one.xml").write_text(XML_ONE_HOLDER, encoding="utf-8")
    padded = [None, {"titulaire": {"typeIdentifiant": "SIRET", "id": " 44090956200041 "}}]
    write_decp_2022(pnad_paths.raw / "x" / "padded.json", [marche("P1", titulaires=padded)])
    build_warehouse(pnad_paths)
    assert query(f"select uid, {HOLDER_COLUMNS} from contract_holders order by all") == [  # noqa: S608
        ("21740056300011P1", "titulaire", 2, "44090956200041", "SIRET", None, None, True),
        ("21740056300011X1", "titulaire", 1, "44090956200041", "SIRET", None, 1, True),
        ("21740056300011X1", "titulaire", 1, "82747808200023", "SIRET", None, None, False),
    ]


COMPANION_TABLES = {
    "contract_holders": "select * from contract_holders",
    "contract_subcontracting": "select * from contract_subcontracting",
    "contract_modifications": "select * replace (new_holders::varchar as new_holders) "
    "from contract_modifications",
}


def companion_tables(paths: PnadPaths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.work_db), read_only=True) as con:
        return {
            name: sorted(map(repr, con.execute(sql).fetchall()))
            for name, sql in COMPANION_TABLES.items()
        }


def test_a_new_daily_file_gives_the_tables_of_a_full_rebuild(pnad_paths, monkeypatch):
    decp = sample_data_dir() / "decp" / "decp2024" / "dematis_2024-07"
    monkeypatch.setattr(decp_contracts, "INCREMENT_MAX_SHARE", 1.0)
    landing.land_local_files(pnad_paths, [decp / "dematis13.json"])
    build_warehouse(pnad_paths)
    landing.land_local_files(pnad_paths, [decp / "dematis16.json", decp / "dematis19.json"])
    assert build_warehouse(pnad_paths)["incremental"] == 1
    incremental = companion_tables(pnad_paths)
    assert build_warehouse(pnad_paths, force=True)["incremental"] == 0
    assert companion_tables(pnad_paths) == incremental
    with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
        # published with 10 acts on 2024-07-12 (dematis13), with 11 on 2024-07-15 (dematis16)
        assert con.execute(
            "select count(*), max(act_id::int) from contract_subcontracting "
            "where uid = '4522007510002523-239'"
        ).fetchone() == (11, 11)


MIGRATED = (
    "decp2024/dematis_2024-07/dematis16.json",
    "official_examples/v2.0.3/Marche.xml",
    "tabular/data.economie_decp_augmente_valides_2022_sample.csv",
    "decp2024/megalis_decp-59920013600241-2024-07-09-01.json",  # no longer under raw/ when migrated
)


def test_working_database_made_before_subcontracting_is_migrated(pnad_paths, sample_data):
    samples = [sample_data / "decp" / name for name in MIGRATED]
    landing.land_local_files(pnad_paths, samples)
    build_warehouse(pnad_paths)
    expected = companion_tables(pnad_paths)
    daily, xml, tabular, moved = (landing.sha256_of(path) for path in samples)
    with duckdb.connect(str(pnad_paths.work_db)) as con:
        # what that release left: none of the staged columns added since, no companion tables
        for column in warehouse.STAGED_COLUMNS_ADDED:
            con.execute(f"alter table stg_decp_records drop column {column}")
        con.execute("alter table contract_modifications drop column new_holders")
        con.execute("drop table contract_holders")
        con.execute("drop table contract_subcontracting")
        con.execute(
            "update warehouse_meta set value = $old where key = 'staging_layout'",
            {"old": warehouse.MIGRATED_LAYOUTS[0]},  # before the actes de sous-traitance
        )
        parsed_at = dict(con.execute("select file_id, parsed_at from ingest_files").fetchall())
        (moved_path,) = con.execute(
            "select relative_path from ingest_files where file_id = $id", {"id": moved}
        ).fetchone()
    (pnad_paths.home / moved_path).unlink()

    with warehouse.connect(pnad_paths) as con:  # the migration runs when the database is opened
        assert con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'stg_decp_records' and column_name in "
            "('subcontracting', 'techniques_raw', 'execution_modalities_raw', 'publisher') "
            "order by column_index"
        ).fetchall() == [
            ("subcontracting", "JSON"),
            ("techniques_raw", "VARCHAR[]"),
            ("execution_modalities_raw", "VARCHAR[]"),
            ("publisher", "VARCHAR"),
        ]
        # JSON, XML and tabular files parsed again at the next run; the file no longer there
        # kept as it was
        assert dict(con.execute("select file_id, status from ingest_files").fetchall()) == {
            daily: "registered",
            xml: "registered",
            tabular: "registered",
            moved: "parsed",
        }
        assert dict(
            con.execute("select file_id, count(*) from stg_decp_records group by 1").fetchall()
        ) == {moved: 5}
        assert con.execute(
            "select count(*) from ingest_rejects where file_id in ($daily, $xml)",
            {"daily": daily, "xml": xml},
        ).fetchone() == (0,)
        assert dict(
            con.execute(
                "select file_id, parsed_at from ingest_files where status = 'parsed'"
            ).fetchall()
        ) == {moved: parsed_at[moved]}
        assert con.execute(
            "select count(*) from build_state where step in ('contracts', 'contracts_increment')"
        ).fetchone() == (0,)

    assert build_warehouse(pnad_paths)["incremental"] == 0
    migrated = companion_tables(pnad_paths)
    assert migrated["contract_holders"] == expected["contract_holders"]
    assert migrated["contract_modifications"] == expected["contract_modifications"]
    megalis = "('59920013600241"
    moved_acts = [row for row in expected["contract_subcontracting"] if row.startswith(megalis)]
    assert len(moved_acts) == 5 and len(migrated["contract_subcontracting"]) == 16 + 1
    assert migrated["contract_subcontracting"] == [
        row for row in expected["contract_subcontracting"] if not row.startswith(megalis)
    ]
    with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
        assert con.execute("select distinct status from ingest_files").fetchall() == [("parsed",)]
        assert con.execute("select bool_and(balanced) from ingest_accounting").fetchone() == (True,)


def test_working_database_made_before_techniques_reads_every_file_again(pnad_paths, sample_data):
    samples = [sample_data / "decp" / name for name in MIGRATED[:3]]
    landing.land_local_files(pnad_paths, samples)
    build_warehouse(pnad_paths)
    expected = companion_tables(pnad_paths)
    with duckdb.connect(str(pnad_paths.work_db)) as con:
        expected_contracts = con.execute(
            "select uid, techniques, execution_modalities from contracts order by uid"
        ).fetchall()
        # what the release before techniques, modalities and publisher staged
        for column in ("techniques_raw", "execution_modalities_raw", "publisher"):
            con.execute(f"alter table stg_decp_records drop column {column}")
        con.execute(
            "update warehouse_meta set value = $old where key = 'staging_layout'",
            {"old": warehouse.MIGRATED_LAYOUTS[2]},  # before techniques, modalities, publisher
        )
    with warehouse.connect(pnad_paths) as con:
        assert con.execute("select distinct status from ingest_files").fetchall() == [
            ("registered",)
        ]
    assert build_warehouse(pnad_paths)["incremental"] == 0
    assert companion_tables(pnad_paths) == expected
    with duckdb.connect(str(pnad_paths.work_db), read_only=True) as con:
        assert (
            con.execute(
                "select uid, techniques, execution_modalities from contracts order by uid"
            ).fetchall()
            == expected_contracts
        )
        assert (
            con.execute(
                "select count(*) from contracts where list_contains(techniques, 'Accord-cadre')"
            ).fetchone()[0]
            > 0
        )


def test_working_database_of_any_other_layout_is_parsed_again(pnad_paths, query):
    write_decp_2022(pnad_paths.raw / "d" / "d.json", [marche("A")])
    build_warehouse(pnad_paths)
    with duckdb.connect(str(pnad_paths.work_db)) as con:
        con.execute("update warehouse_meta set value = 'older' where key = 'staging_layout'")
        (first_parse,) = con.execute("select parsed_at from ingest_files").fetchone()
    build_warehouse(pnad_paths)
    assert query(
        "select status, parsed_at > $first, (select count(*) from contract_holders) "
        "from ingest_files",
        {"first": first_parse},
    ) == [("parsed", True, 1)]


def test_acts_given_as_an_object_or_a_wrapped_list_and_a_french_amount(pnad_paths, query):
    act = {"id": "7", "sousTraitant": {"id": "44444444444444", "typeIdentifiant": "SIRET"}}
    write_decp_2022(
        pnad_paths.raw / "x" / "acts.json",
        [
            # one object wrapping one act instead of a list
            marche("ACTOBJ", actesSousTraitance={"acteSousTraitance": {**act, "montant": 5000}}),
            # one object wrapping a list of acts (as XML gives it)
            marche(
                "ACTLIST",
                actesSousTraitance={
                    "acteSousTraitance": [
                        {"id": "1", "sousTraitant": {"id": "55555555555551"}, "montant": 100},
                        {"id": "2", "sousTraitant": {"id": "55555555555552"}, "montant": 200},
                    ]
                },
            ),
            # an amount as a French spreadsheet writes it, a date with a two-digit year
            marche(
                "ACTFR",
                actesSousTraitance=[
                    {
                        "acteSousTraitance": {
                            "id": "1",
                            "montant": "12 345,67",
                            "dateNotification": "15/03/24",
                        }
                    }
                ],
            ),
        ],
    )
    build_warehouse(pnad_paths)
    assert query(
        "select contract_id, act_order, act_id, subcontractor_id, amount, "
        "s.notification_date::varchar from contract_subcontracting as s join contracts using (uid) "
        "order by 1, 2"
    ) == [
        ("ACTFR", 1, "1", None, 12345.67, "2024-03-15"),
        ("ACTLIST", 1, "1", "55555555555551", 100.0, None),
        ("ACTLIST", 2, "2", "55555555555552", 200.0, None),
        ("ACTOBJ", 1, "7", "44444444444444", 5000.0, None),
    ]


def test_a_tabular_modification_naming_another_holder_makes_it_current(pnad_paths, query):
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    # decp-processing layout: contract x holder x modification; modification 1 replaces the
    # two initial holders by a third one
    # two initial holders, the mandataire (2222...) first, by a third one; names and types as
    # decp-processing writes them (titulaire_nom, titulaire_typeIdentifiant)
    pq.write_table(
        pa.table(
            {
                "uid": ["21590163800019DPM1"] * 3,
                "id": ["DPM1"] * 3,
                "acheteur_id": ["21590163800019"] * 3,
                "titulaire_id": ["22222222222222", "11111111111111", "33333333333333"],
                "titulaire_typeIdentifiant": ["SIRET", "SIRET", "TVA"],
                "titulaire_nom": ["Mandataire SA", "Cotraitant SARL", None],
                "modification_id": [0, 0, 1],
                "montant": [1000.0, 1000.0, 2000.0],
                "dateNotification": ["2024-03-01", "2024-03-01", "2024-06-01"],
                "datePublicationDonnees": ["2024-03-05", "2024-03-05", "2024-06-05"],
            }
        ),
        raw / "decp.parquet",
    )
    build_warehouse(pnad_paths)
    assert query(
        "select holder_order, holder_id, holder_id_type, holder_name, modification_order, "
        "is_current from contract_holders order by modification_order nulls first, holder_order"
    ) == [
        (1, "22222222222222", "SIRET", "Mandataire SA", None, False),  # published order
        (2, "11111111111111", "SIRET", "Cotraitant SARL", None, False),
        (1, "33333333333333", "TVA", None, 1, True),
    ]
    assert query("select current_amount from contracts") == [(2000.0,)]


# A data.economie.gouv.fr 2022 export (";", the export's own column names): one row per acte de
# sous-traitance, the contract's values repeated; the modification beside the initial values
# names a new holder (idTitulaireModification).
ECONOMIE_2022_HEADER = (
    "titulaire_id_1;titulaire_typeIdentifiant_1;titulaire_id_2;titulaire_typeIdentifiant_2;"
    "id;acheteur.id;montant;dateNotification;datePublicationDonnees;"
    "idActeSousTraitance;dureeMoisActeSousTraitance;dateNotificationActeSousTraitance;"
    "datePublicationDonneesActeSousTraitance;montantActeSousTraitance;"
    "variationPrixActeSousTraitance;idSousTraitant;typeIdentifiantSousTraitant;"
    "idModification;montantModification;idTitulaireModification;"
    "typeIdentifiantTitulaireModification;dateNotificationModificationModification"
)
ECONOMIE_2022_ROWS = (
    "35043845300028;SIRET;CDL;CDL;EX1;20006810400013;50000;2024-02-01;2024-02-05;"
    "1;6;2024-03-01;2024-03-04;12 000,50;Ferme;44444444444444;SIRET;"
    "CDL;60000;55555555555555;SIRET;2024-09-01",
    "35043845300028;SIRET;CDL;CDL;EX1;20006810400013;50000;2024-02-01;2024-02-05;"
    "2;CDL;2024-04-01;CDL;8000;Révisable;66666666666666;TVA;"
    "CDL;60000;55555555555555;SIRET;2024-09-01",
)


def test_economie_export_acts_and_modification_holder(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    (raw / "export.csv").write_text(
        "\n".join((ECONOMIE_2022_HEADER, *ECONOMIE_2022_ROWS)) + "\n", encoding="utf-8"
    )
    build_warehouse(pnad_paths)
    assert query("select records_read, loaded, duplicates, rejected from ingest_accounting") == [
        (2, 1, 1, 0)
    ]
    assert query(
        "select act_order, act_id, subcontractor_id, subcontractor_id_type, amount, "
        "duration_months, notification_date::varchar, publication_date::varchar, price_variation "
        "from contract_subcontracting order by act_order"
    ) == [
        (1, "1", "44444444444444", "SIRET", 12000.5, 6, "2024-03-01", "2024-03-04", "Ferme"),
        (2, "2", "66666666666666", "TVA", 8000.0, None, "2024-04-01", None, "Révisable"),
    ]
    assert query(
        "select holder_order, holder_id, holder_id_type, modification_order, is_current "
        "from contract_holders order by modification_order nulls first, holder_order"
    ) == [
        (1, "35043845300028", "SIRET", None, False),
        (1, "55555555555555", "SIRET", 1, True),
    ]
    assert query("select initial_amount, current_amount from contracts") == [(50000.0, 60000.0)]
