"""Every DECP shape is detected from content and gives the same contract model; unsafe or broken
inputs get a clear reason and lose nothing else."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import build_warehouse, marche, write_decp_2022

XML_2022 = """<?xml version="1.0" encoding="UTF-8"?>
<marches>
  <marche>
    <id>X1</id>
    <acheteur><id>21740056300011</id></acheteur>
    <nature>Marché</nature><objet>Nettoyage des locaux &amp; vitrerie</objet>
    <codeCPV>90910000</codeCPV><procedure>Appel d'offres ouvert</procedure>
    <lieuExecution><code>74000</code><typeCode>Code postal</typeCode></lieuExecution>
    <dureeMois>24</dureeMois><dateNotification>2024-05-02</dateNotification>
    <datePublicationDonnees>2024-05-10</datePublicationDonnees><montant>250000,50</montant>
    <considerationsSociales>
      <considerationSociale>Clause sociale</considerationSociale>
      <considerationSociale>Critère social</considerationSociale>
    </considerationsSociales>
    <considerationsEnvironnementales>
      <considerationEnvironnementale>Pas de considération environnementale</considerationEnvironnementale>
    </considerationsEnvironnementales>
    <titulaires><titulaire><typeIdentifiant>SIRET</typeIdentifiant><id>82747808200023</id></titulaire></titulaires>
    <modifications>
      <modification><id>1</id><montant>260000</montant><dureeMois>30</dureeMois>
        <dateNotificationModification>2024-09-01</dateNotificationModification></modification>
    </modifications>
  </marche>
  <contrat-concession>
    <id>C1</id><autoriteConcedante><id>21740056300011</id></autoriteConcedante>
    <nature>Concession de service</nature><objet>Fourrière</objet>
    <dateSignature>2024-06-18</dateSignature><datePublicationDonnees>2024-07-16</datePublicationDonnees>
    <valeurGlobale>70000</valeurGlobale>
    <considerationsSociales><considerationSociale>Concession réservée</considerationSociale></considerationsSociales>
    <considerationsEnvironnementales><considerationEnvironnementale>Clause environnementale</considerationEnvironnementale></considerationsEnvironnementales>
  </contrat-concession>
</marches>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<marches><marche><id>&lol3;</id></marche></marches>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE marches [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<marches><marche><id>&secret;</id><acheteur><id>21740056300011</id></acheteur></marche></marches>
"""


def statuses(query):
    return dict(
        query(
            "select split_part(relative_path, '/', -1), status || coalesce(': ' || status_reason, '') "
            "from ingest_files"
        )
    )


def test_xml_gives_the_same_model_as_json(pnad_paths, query):
    (pnad_paths.raw / "x").mkdir(parents=True)
    (pnad_paths.raw / "x" / "feed.xml").write_text(XML_2022, encoding="utf-8")
    build_warehouse(pnad_paths)
    rows = query(
        "select uid, kind, objet, social_status, social_kinds, environmental_status, initial_amount, "
        "current_amount, duration_months, format_version from contracts order by uid"
    )
    assert rows == [
        (
            "21740056300011C1",
            "concession",
            "Fourrière",
            "yes",
            ["reserve"],
            "yes",
            70000.0,
            70000.0,
            None,
            "decp-2022",
        ),
        (
            "21740056300011X1",
            "marche",
            "Nettoyage des locaux & vitrerie",
            "yes",
            ["clause", "critere"],
            "no",
            250000.5,
            260000.0,
            30,
            "decp-2022",
        ),
    ]
    assert statuses(query)["feed.xml"] == "parsed"
    assert query("select format, records_read from ingest_files") == [("decp-xml", 2)]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("laughs.xml", BILLION_LAUGHS),
        ("external.xml", EXTERNAL_ENTITY),
    ],
)
def test_unsafe_xml_is_refused_and_quarantined(pnad_paths, query, name, content):
    (pnad_paths.raw / "x").mkdir(parents=True)
    (pnad_paths.raw / "x" / name).write_text(content, encoding="utf-8")
    write_decp_2022(pnad_paths.raw / "x" / "good.json", [marche("G1")])
    build_warehouse(pnad_paths)
    assert statuses(query)[name].startswith("quarantined: XML illisible : XML refusé par sécurité")
    assert query("select count(*) from contracts") == [(1,)]  # the good file is not lost


def test_malformed_xml_is_quarantined(pnad_paths, query):
    (pnad_paths.raw / "x").mkdir(parents=True)
    (pnad_paths.raw / "x" / "cut.xml").write_text("<marches><marche><id>1</id>", encoding="utf-8")
    build_warehouse(pnad_paths)
    assert statuses(query)["cut.xml"].startswith("quarantined: XML illisible : XML mal formé")


def test_bom_and_tabular_list_encodings_normalise_identically(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    # UTF-8 BOM in a JSON file
    body = json.dumps({"marches": {"marche": [marche("J1", social=["Critère social"])]}})
    (raw / "bom.json").write_bytes(b"\xef\xbb\xbf" + body.encode())
    # data.economie.gouv.fr CSV: ';', BOM, Python-list text, CDL/MQ placeholders
    (raw / "economie.csv").write_bytes(
        "\ufeffid;acheteur.id;dateNotification;montant;considerationsSociales;"
        "considerationsEnvironnementales;lieuExecution.code;lieuExecution.typeCode\n"
        "E1;21740056300011;2024-02-01;50000.0;['Critère social'];['Pas de considération "
        "environnementale'];74000;Code postal\n"
        "E2;21740056300011;2024-02-02;50000.0;MQ;CDL;74000;Code postal\n".encode()
    )
    # decp-processing parquet, partial extract: joined values, "Sans objet", no place columns
    pq.write_table(
        pa.table(
            {
                "uid": ["21740056300011P1", "21740056300011P2"],
                "id": ["P1", "P2"],
                "acheteur_id": ["21740056300011", "21740056300011"],
                "dateNotification": ["2024-03-01", "2024-03-02"],
                "considerationsSociales": ["Critère social, Clause sociale", "Sans objet"],
                "considerationsEnvironnementales": ["Sans objet", None],
            }
        ),
        raw / "extract.parquet",
    )
    build_warehouse(pnad_paths)
    rows = dict(
        query(
            "select contract_id, social_status || '/' || array_to_string(social_kinds, '+') || '/' "
            "|| environmental_status from contracts"
        )
    )
    assert rows == {
        "J1": "yes/critere/no",
        "E1": "yes/critere/no",
        "E2": "unknown//unknown",
        "P1": "yes/clause+critere/no",
        "P2": "no//unknown",
    }
    formats = dict(query("select split_part(relative_path, '/', -1), format from ingest_files"))
    assert formats == {
        "bom.json": "decp-json",
        "economie.csv": "decp-tabular-csv",
        "extract.parquet": "decp-tabular-parquet",
    }


def test_tabular_rows_fold_into_one_contract_with_its_modifications(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    # decp-processing layout: contract x holder x modification, modification 0 = initial data
    pq.write_table(
        pa.table(
            {
                "uid": ["21740056300011M1"] * 4,
                "id": ["M1"] * 4,
                "acheteur_id": [21740056300011] * 4,  # integer column: leading zeros would be lost
                "titulaire_id": ["11111111111111", "22222222222222"] * 2,
                "modification_id": [0, 0, 1, 1],
                "montant": [100000.0, 100000.0, 125000.0, 125000.0],
                "dureeMois": [12, 12, 18, 18],
                "dateNotification": ["2024-04-01", "2024-04-01", "2024-10-01", "2024-10-01"],
                "datePublicationDonnees": ["2024-04-05", "2024-04-05", "2024-10-03", "2024-10-03"],
                "donneesActuelles": [False, False, True, True],
                "considerationsSociales": ["Clause sociale"] * 4,
            }
        ),
        raw / "decp.parquet",
    )
    build_warehouse(pnad_paths)
    assert query(
        "select notification_date::varchar, initial_amount, current_amount, duration_months, "
        "modifications from contracts"
    ) == [("2024-04-01", 100000.0, 125000.0, 18, 1)]
    assert query("select records_read, loaded, duplicates, rejected from ingest_accounting") == [
        (4, 1, 3, 0)
    ]


def test_economie_parquet_export_with_typed_and_list_columns(pnad_paths, query):
    # data.economie.gouv.fr (Opendatasoft) Parquet export: lower-case field names, typed dates and
    # amounts, list columns; techniques in another case than the schema's
    raw = pnad_paths.raw / "ods"
    raw.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "id": ["O1", "O2"],
                "acheteur.id": ["21740056300011", "21740056300011"],
                "datenotification": pa.array([date(2024, 5, 2), date(2024, 5, 3)]),
                "montant": [61000.5, 45000.0],
                "considerationssociales": [["Clause sociale", "Critère social"], None],
                "considerationsenvironnementales": [["Pas de considération environnementale"], []],
                "techniques": [["ACCORD-CADRE", "Système d’acquisition dynamique"], ["Truc"]],
                "modalitesexecution": [["Bons de commande"], ["Sans objet"]],
                "source": ["data.gouv.fr_aife", None],
            }
        ),
        raw / "export.parquet",
    )
    build_warehouse(pnad_paths)
    assert query("select format from ingest_files") == [("decp-tabular-parquet",)]
    assert query(
        "select contract_id, notification_date::varchar, initial_amount, social_status, "
        "social_kinds, environmental_status, techniques, execution_modalities "
        "from contracts order by 1"
    ) == [
        (
            "O1",
            "2024-05-02",
            61000.5,
            "yes",
            ["clause", "critere"],
            "no",
            # in the schema's spelling, the typographic apostrophe straightened
            ["Accord-cadre", "Système d'acquisition dynamique"],
            ["Bons de commande"],
        ),
        ("O2", "2024-05-03", 45000.0, "unknown", [], "unknown", ["Truc"], ["Sans objet"]),
    ]
    assert query(
        "select kind, value, occurrences from schema_drift where field = 'technique' "
        "order by kind desc, value"
    ) == [
        ("variant_spelling", "ACCORD-CADRE", 1),
        ("variant_spelling", "Système d’acquisition dynamique", 1),
        ("unknown_value", "Truc", 1),
    ]
    assert query("select publisher from stg_decp_records order by contract_id") == [
        ("data.gouv.fr_aife",),
        (None,),
    ]


@pytest.mark.parametrize(
    "cell",
    [
        # Python's list text puts a value holding an apostrophe in double quotes
        """["Système d'acquisition dynamique", 'Concours']""",
        # DuckDB's text of a list column quotes and escapes only what needs it
        "['Système d\\'acquisition dynamique', Concours]",
        "Système d'acquisition dynamique, Concours",  # decp-processing's joined text
    ],
)
def test_list_cells_with_an_apostrophe_keep_every_value(pnad_paths, query, cell):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    pq.write_table(
        pa.table({"id": ["A1"], "acheteur_id": ["21740056300011"], "techniques": [cell]}),
        raw / "extract.parquet",
    )
    build_warehouse(pnad_paths)
    assert query("select techniques from contracts") == [
        (["Système d'acquisition dynamique", "Concours"],)
    ]


def test_gzipped_json_and_xml_are_read(pnad_paths, query, tmp_path):
    import gzip

    from pipelines.decp import landing

    json_gz = tmp_path / "daily.json.gz"
    json_gz.write_bytes(
        gzip.compress(
            json.dumps({"marches": {"marche": [marche("GZ1", social=["Clause sociale"])]}}).encode()
        )
    )
    xml_gz = tmp_path / "feed"  # no extension at all: the content decides
    xml_gz.write_bytes(gzip.compress(XML_2022.encode()))
    landing.land_local_files(pnad_paths, [json_gz, xml_gz])
    build_warehouse(pnad_paths)
    assert sorted(query("select format, status, records_read from ingest_files")) == [
        ("decp-json", "parsed", 1),
        ("decp-xml", "parsed", 2),
    ]
    assert query("select count(*) from contracts") == [(3,)]


def test_amounts_and_dates_as_french_spreadsheets_write_them(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    header = "id;acheteur_id;objet;montant;dateNotification\n"
    rows = [
        'F1;21590163800019;"Objet ; avec point-virgule";"12 345,67";15/03/2024',
        "F2;21590163800019;deux;1\u00a0234\u00a0567,00;2024-03-16",  # non-breaking spaces
        "F3;21590163800019;trois;1.234,50;16.03.2024",
        "F4;21590163800019;quatre;NC;2024-03-16",
        "F5;21590163800019;cinq;999999999;2024-03-16",
        "F6;21590163800019;six;45000.5;2024-03-16T00:00:00+01:00",
        "F7;21590163800019;sept;45000;31/12/24",  # not the year 31
    ]
    (raw / "fr.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    build_warehouse(pnad_paths)
    got = query(
        "select contract_id, initial_amount, amount_quality, notification_date::varchar "
        "from contracts order by 1"
    )
    assert got == [
        ("F1", 12345.67, "ok", "2024-03-15"),
        ("F2", 1234567.0, "ok", "2024-03-16"),
        ("F3", 1234.5, "ok", "2024-03-16"),
        ("F4", None, "unreadable", "2024-03-16"),
        ("F5", 999999999.0, "sentinel", "2024-03-16"),
        ("F6", 45000.5, "ok", "2024-03-16"),
        ("F7", 45000.0, "ok", "2024-12-31"),
    ]


def test_a_malformed_csv_row_is_rejected_with_its_reason_and_the_others_are_read(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    (raw / "export.csv").write_text(
        "id;acheteur_id;objet;montant;dateNotification\n"
        "G1;21590163800019;un;500;2024-03-16\n"
        "G2;21590163800019;Objet ; non quoté;600;2024-03-16\n"  # one field too many
        "G3;21590163800019;trois;700;2024-03-16\n",
        encoding="utf-8",
    )
    build_warehouse(pnad_paths)
    assert query("select contract_id from contracts order by 1") == [("G1",), ("G3",)]
    assert query("select records_read, records_rejected, status from ingest_files") == [
        (3, 1, "parsed")
    ]
    assert query("select position, reason, raw_excerpt from ingest_rejects") == [
        (
            3,
            "malformed CSV row (line 3 of the file): Expected Number of Columns: 5 Found: 6",
            "G2;21590163800019;Objet ; non quoté;600;2024-03-16",
        )
    ]
    # the per-file accounting still reconciles
    assert query("select records_read, loaded, duplicates, rejected from ingest_accounting") == [
        (3, 2, 0, 1)
    ]


def test_a_partial_extract_with_only_the_uid_is_decp_data(pnad_paths, query):
    from pipelines.decp import formats
    from pipelines.facilitators import reading

    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    extract = raw / "uid_only.csv"
    extract.write_text(
        'uid,montant,considerationsSociales,"note; libre"\n'  # a ; inside quotes
        "21590163800019UID1,1500.5,Clause sociale,\n"
        "21590163800019UID2,2500,Sans objet,\n",
        encoding="utf-8",
    )
    # not taken for a facilitator's export (pnad ingest would have asked for a column mapping)
    assert not reading.looks_like_export(extract)
    assert formats.sniff_format(extract) == ("decp-tabular-csv", None)
    build_warehouse(pnad_paths)
    # uid = buyer SIRET + id (decp-processing); the missing columns are unknowns
    assert query(
        "select uid, contract_id, buyer_siret, initial_amount, social_status, notification_date "
        "from contracts order by 1"
    ) == [
        ("21590163800019UID1", "UID1", "21590163800019", 1500.5, "yes", None),
        ("21590163800019UID2", "UID2", "21590163800019", 2500.0, "no", None),
    ]


def test_files_saved_in_windows_1252_are_read(pnad_paths, query):
    raw = pnad_paths.raw / "t"
    raw.mkdir(parents=True)
    objet = "Travaux d’été à Noël – œuvre"  # ’ – œ exist in Windows-1252, not in Latin-1
    body = json.dumps({"marches": {"marche": [marche("W1", objet=objet)]}}, ensure_ascii=False)
    (raw / "cp1252.json").write_bytes(body.encode("cp1252"))
    (raw / "cp1252.csv").write_bytes(
        f"id;acheteur.id;objet;dateNotification\nW2;21740056300011;{objet};2024-02-01\n".encode(
            "cp1252"
        )
    )
    build_warehouse(pnad_paths)
    assert query("select contract_id, objet from contracts order by 1") == [
        ("W1", objet),
        ("W2", objet),
    ]
    assert query(
        "select split_part(relative_path, '/', -1), status, status_reason, records_read "
        "from ingest_files order by 1"
    ) == [
        ("cp1252.csv", "parsed", None, 1),
        ("cp1252.json", "parsed", "pas en UTF-8 : lu comme Windows-1252", 1),
    ]
