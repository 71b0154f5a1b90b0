"""Shapes of real DECP files the project had not met, on small hand-made files shaped like
them: flattened records with dotted keys, decp.parquet extracts without modification_id, XML
records repeating an element."""

from __future__ import annotations

import json

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
