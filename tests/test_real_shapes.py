"""Shapes of real DECP files the project had not met, on small hand-made files shaped like
them: flattened records with dotted keys, decp.parquet extracts without modification_id, XML
records repeating an element."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.common import warehouse
from tests.conftest import build_warehouse

STATE_BUYER = "13000548100010"
HOLDER = "82747808200023"


def consolidated_2019_record(contract_id: str, **extra: object) -> dict:
    """A record of the ministry's consolidated 2019 files: the buyer and the place flattened
    into dotted keys, the holders a plain list."""
    return {
        "id": contract_id,
        "source": "data.gouv.fr_aife",
        "acheteur.id": STATE_BUYER,
        "acheteur.nom": "Ministère des Armées",
        "_type": "Marché",
        "nature": "Marché",
        "objet": f"Maintenance {contract_id}",
        "codeCPV": "50000000",
        "procedure": "Procédure adaptée",
        "lieuExecution.code": "974",
        "lieuExecution.typeCode": "Code département",
        "lieuExecution.nom": "La Réunion",
        "dureeMois": 12,
        "dateNotification": "2019-02-06",
        "datePublicationDonnees": "2019-02-20",
        "montant": 60000,
        "titulaires": [{"typeIdentifiant": "SIRET", "id": HOLDER, "denominationSociale": "X"}],
        "modifications": [],
        **extra,
    }


def test_dotted_keys_read_like_their_nested_form(pnad_paths, query):
    raw = pnad_paths.raw / "consolidated"
    raw.mkdir(parents=True)
    records = [
        consolidated_2019_record("2019-A"),
        # the nested form beside it in the same file, as decp-processing meets both
        {
            **{k: v for k, v in consolidated_2019_record("2019-B").items() if "." not in k},
            "acheteur": {"id": STATE_BUYER, "nom": "Ministère des Armées"},
            "lieuExecution": {"code": "974", "typeCode": "Code département"},
        },
        # a 2022 record flattened at every level: lists, their items, modifications, acts
        {
            "id": "2024-F",
            "acheteur.id": STATE_BUYER,
            "nature": "Marché",
            "objet": "Restauration",
            "codeCPV": "55500000",
            "lieuExecution.code": "97400",
            "lieuExecution.typeCode": "Code postal",
            "dateNotification": "2024-03-01",
            "datePublicationDonnees": "2024-03-05",
            "montant": 100000,
            "dureeMois": 12,
            "considerationsSociales.considerationSociale": ["Clause sociale"],
            "considerationsEnvironnementales.considerationEnvironnementale": [
                "Pas de considération environnementale"
            ],
            "techniques.technique": ["Accord-cadre"],
            "titulaires": [{"titulaire.typeIdentifiant": "SIRET", "titulaire.id": HOLDER}],
            "modifications": [
                {
                    "modification.id": 1,
                    "modification.montant": 120000,
                    "modification.dateNotificationModification": "2024-06-01",
                }
            ],
            "actesSousTraitance": [
                {
                    "acteSousTraitance.id": 1,
                    "acteSousTraitance.montant": 5000,
                    "acteSousTraitance.sousTraitant.id": "44306184100047",
                }
            ],
        },
    ]
    (raw / "decp.json").write_text(json.dumps({"marches": records}), encoding="utf-8")
    build_warehouse(pnad_paths)
    # every record loaded: none "missing buyer id (acheteur.id / autoriteConcedante.id)"
    assert query("select records_read, loaded, rejected from ingest_accounting") == [(3, 3, 0)]
    assert query(
        "select contract_id, buyer_siret, buyer_name, execution_departement_code, "
        "social_status, techniques, current_amount, format_version from contracts order by 1"
    ) == [
        # the flattened 2019 record and its nested twin read alike
        *[
            (contract_id, STATE_BUYER, "Ministère des Armées", "974", "unknown", None, 60000.0)
            + ("decp-2019",)
            for contract_id in ("2019-A", "2019-B")
        ],
        ("2024-F", STATE_BUYER, None, "974", "yes", ["Accord-cadre"], 120000.0, "decp-2022-flat"),
    ]
    assert query(
        "select c.contract_id, h.holder_id, h.holder_id_type from contract_holders as h "
        "join contracts as c using (uid) order by 1"
    ) == [("2019-A", HOLDER, "SIRET"), ("2019-B", HOLDER, "SIRET"), ("2024-F", HOLDER, "SIRET")]
    assert query("select act_id, subcontractor_id, amount from contract_subcontracting") == [
        ("1", "44306184100047", 5000.0)
    ]
    # a dotted key is a known field in another spelling, not schema drift
    assert query("select value from schema_drift where kind = 'unknown_key'") == []


def test_dotted_holder_columns_of_a_tabular_file(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    (raw / "extract.csv").write_text(
        "id;acheteur.id;titulaire.id;titulaire.typeIdentifiant;montant;dateNotification\n"
        f"T1;{STATE_BUYER};{HOLDER};SIRET;1000;2024-05-02\n",
        encoding="utf-8",
    )
    build_warehouse(pnad_paths)
    assert query("select holder_id, holder_id_type from contract_holders") == [(HOLDER, "SIRET")]


OLD_XML_RECORD = """<?xml version="1.0" encoding="UTF-8"?>
<marches>
  <marche>
    <id>2017-0042</id>
    <acheteur><id>21350238800019</id><nom>Ville de Rennes</nom></acheteur>
    <nature>Marché</nature><objet>Entretien des jardins municipaux</objet>
    <codeCPV>77313000</codeCPV><procedure>Procédure adaptée</procedure>
    <lieuExecution><code>35238</code><typeCode>Code commune</typeCode></lieuExecution>
    <dureeMois>24</dureeMois><dateNotification>2017-08-13</dateNotification>
    <datePublicationDonnees>2017-08-19</datePublicationDonnees>
    <datePublicationDonnees>2018-02-01+01:00</datePublicationDonnees>
    <datePublicationDonnees>2017-12-24</datePublicationDonnees>
    <montant>127000</montant>
    <titulaires><titulaire><typeIdentifiant>SIRET</typeIdentifiant><id>81223113200026</id>
    </titulaire></titulaires>
  </marche>
  <marche>
    <id>2017-0043</id>
    <acheteur><id>21350238800019</id></acheteur>
    <dateNotification>2017-09-01</dateNotification>
    <datePublicationDonnees>2017-09-05</datePublicationDonnees>
  </marche>
</marches>
"""


def test_a_repeated_publication_date_in_xml_keeps_the_latest_and_says_so(pnad_paths, query):
    raw = pnad_paths.raw / "x"
    raw.mkdir(parents=True)
    (raw / "old.xml").write_text(OLD_XML_RECORD, encoding="utf-8")
    build_warehouse(pnad_paths)
    assert query("select contract_id, publication_date::varchar from contracts order by 1") == [
        ("2017-0042", "2018-02-01"),
        ("2017-0043", "2017-09-05"),
    ]
    assert query("select status, status_reason, records_read from ingest_files") == [
        ("parsed", "1 record(s) with datePublicationDonnees repeated: the latest kept", 2)
    ]


def test_an_extract_without_modification_id_dates_a_contract_by_its_earliest_row(pnad_paths, query):
    # decp.parquet's rows are contract x holder x modification, a modification's row carrying
    # its own date in dateNotification; this extract left modification_id out, and its first
    # row of M1 happens to be a modification's
    raw = pnad_paths.raw / "extract"
    raw.mkdir(parents=True)
    rows = [
        # (id, holder, dateNotification, montant, dureeMois)
        ("M1", "11111111111111", "2025-01-10", 120000.0, 18),
        ("M1", "11111111111111", "2024-12-20", 100000.0, 12),
        ("M1", "22222222222222", "2024-12-20", 100000.0, 12),
        ("M2", "33333333333333", "2024-06-01", 50000.0, 6),
        ("M1", "11111111111111", "2025-03-01", 130000.0, None),
        ("M2", "44444444444444", "2024-06-01", 50000.0, 6),
    ]
    columns = ("id", "titulaire_id", "dateNotification", "montant", "dureeMois")
    table = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    table["uid"] = [STATE_BUYER + row[0] for row in rows]
    table["acheteur_id"] = [STATE_BUYER] * len(rows)
    table["datePublicationDonnees"] = ["2025-03-05"] * len(rows)
    pq.write_table(pa.table(table), raw / "decp_extract.parquet")
    build_warehouse(pnad_paths)
    assert query(
        "select contract_id, notification_date::varchar, notification_year, initial_amount, "
        "current_amount, duration_months, modifications from contracts order by 1"
    ) == [
        ("M1", "2024-12-20", 2024, 100000.0, 130000.0, 18, 2),
        ("M2", "2024-06-01", 2024, 50000.0, 50000.0, 6, 0),
    ]
    assert query(
        "select modification_date::varchar, new_amount from contract_modifications "
        "order by modification_order"
    ) == [("2025-01-10", 120000.0), ("2025-03-01", 130000.0)]
    # the initial holders are those of the earliest rows
    assert query(
        "select c.contract_id, h.holder_id from contract_holders as h join contracts as c "
        "using (uid) where h.modification_order is null order by 1, h.holder_order"
    ) == [
        ("M1", "11111111111111"),
        ("M1", "22222222222222"),
        ("M2", "33333333333333"),
        ("M2", "44444444444444"),
    ]
    assert query("select records_read, loaded, duplicates, rejected from ingest_accounting") == [
        (6, 2, 4, 0)
    ]


def test_a_working_database_staged_before_reads_its_files_again(pnad_paths, query):
    raw = pnad_paths.raw / "consolidated"
    raw.mkdir(parents=True)
    (raw / "decp.json").write_text(
        json.dumps({"marches": [consolidated_2019_record("2019-A")]}), encoding="utf-8"
    )
    (raw / "older.json").write_text(
        json.dumps({"marches": [consolidated_2019_record("2019-OLD")]}), encoding="utf-8"
    )
    build_warehouse(pnad_paths)
    with duckdb.connect(str(pnad_paths.work_db)) as con:
        # what the release before left for decp.json: its flattened record rejected
        (file_id,) = con.execute(
            "select file_id from ingest_files where relative_path like '%decp.json'"
        ).fetchone()
        con.execute("delete from stg_decp_records where file_id = $id", {"id": file_id})
        con.execute(
            "insert into ingest_rejects values ($id, 1, "
            "'missing buyer id (acheteur.id / autoriteConcedante.id)', null)",
            {"id": file_id},
        )
        con.execute(
            "update ingest_files set records_rejected = 1 where file_id = $id", {"id": file_id}
        )
        con.execute(
            "update warehouse_meta set value = $old where key = 'staging_layout'",
            {"old": warehouse.MIGRATED_LAYOUTS[-1]},
        )
    (raw / "older.json").unlink()  # a file no longer under raw/ keeps its records
    build_warehouse(pnad_paths)  # migrated when opened: decp.json is parsed again
    assert query("select count(*), sum(loaded), sum(rejected) from ingest_accounting") == [
        (2, 2, 0)
    ]
    assert query("select contract_id from contracts order by 1") == [("2019-A",), ("2019-OLD",)]
