"""Facilitators' exports: reading real layouts, every line accounted for, replacement, hours by
year, the link with the DECP and its two gaps, and no participant identity anywhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.facilitators import build, loading, mapping, reading
from pipelines.publishing.database import publish_database
from tests.conftest import build_warehouse, marche, texts_found_in_database, write_decp_2022

BUYER = "21740056300011"  # a commune of Haute-Savoie (74, Auvergne-Rhône-Alpes 84)
OTHER_BUYER = "21380185000015"  # a commune of Isère (38)

ABC_HEADER = (
    "Facilitateur;N° opération;Opération;Maître d'ouvrage;SIRET MO;Type MO;Département;"
    "N° marché;Identifiant DECP;Objet du marché;Type de marché;Secteur;Type de clause;"
    "Date de notification;Montant HT;Nb heures prévues;Entreprise;SIRET entreprise;"
    "Réf. participant;Modalité;Type de contrat;Date début contrat;Date fin contrat;"
    "Nb heures réalisées;Public;Situation à la sortie"
)


def abc_line(
    marche_id: str,
    participant: str,
    modality: str,
    contract: str,
    start: str,
    end: str,
    hours: str,
    *,
    decp_id: str = "",
    objet: str = "Travaux",
    notified: str = "15/03/2024",
    amount: str = "100 000",
    planned: str = "100",
    public: str = "",
) -> str:
    return ";".join(
        [
            "MDE Test",
            "OP-1",
            "Écoles",
            "Commune d'Annecy-Test",
            BUYER,
            "Commune",
            "74",
            marche_id,
            decp_id,
            objet,
            "Travaux",
            "BTP",
            "Art. L2112-2 : condition d'exécution",
            notified,
            amount,
            planned,
            "Bâtisseurs SA",
            "",
            participant,
            modality,
            contract,
            start,
            end,
            hours,
            public,
            "Emploi durable",
        ]
    )


ABC_LINES = [
    # M-A1: the DECP id is given -> linked to 2024-001 with confidence 1
    abc_line(
        "M-A1",
        "ABC-1",
        "Mise à disposition ETTI",
        "Intérim d'insertion",
        "01/04/2024",
        "30/06/2024",
        "300,5",
        decp_id="2024-001",
        objet="Groupe scolaire des Vergers",
        amount="500 000",
        planned="1 000",
        public="DELD, RSA",
    ),
    # 61 days in 2024, 59 in 2025: 122 h and 118 h
    abc_line(
        "M-A1",
        "ABC-2",
        "Embauche directe (CDD, CDI)",
        "CDI",
        "01/11/2024",
        "28/02/2025",
        "240",
        decp_id="2024-001",
        objet="Groupe scolaire des Vergers",
        amount="500 000",
        planned="1 000",
        public="Jeune -26 ans",
    ),
    # the same person again, on a second contract
    abc_line(
        "M-A1",
        "ABC-1",
        "Mise à disposition GEIQ",
        "Contrat de professionnalisation",
        "01/01/2025",
        "31/03/2025",
        "100",
        decp_id="2024-001",
        objet="Groupe scolaire des Vergers",
        amount="500 000",
        planned="1 000",
    ),
    # M-A2: no DECP id; 5 days from 2024-002, same amount, nearly the same object -> scored
    abc_line(
        "M-A2",
        "ABC-3",
        "Mise à disposition AI",
        "CDDI",
        "01/06/2024",
        "31/08/2024",
        "200",
        objet="Réfection voirie communale rue des Lilas",
        notified="15/05/2024",
        amount="250 000",
        planned="500",
    ),
    # M-A3: a small marché below the DECP threshold: no contract to link
    abc_line(
        "M-A3",
        "ABC-4",
        "ACI",
        "CDDI",
        "01/07/2024",
        "31/07/2024",
        "70",
        objet="Entretien des espaces verts",
        notified="01/06/2024",
        amount="30 000",
        planned="70",
    ),
    # M-A4: near miss of 2024-003 (same buyer, 4 days apart) but another object and amount
    abc_line(
        "M-A4",
        "ABC-5",
        "Embauche directe (CDD, CDI)",
        "CDD",
        "01/10/2024",
        "31/10/2024",
        "35",
        objet="Fourniture de mobilier scolaire",
        notified="05/09/2024",
        amount="400 000",
        planned="200",
    ),
    # M-A5: the object and amount of 2024-003, but notified 167 days later: not the same
    abc_line(
        "M-A5",
        "ABC-6",
        "Embauche directe (CDD, CDI)",
        "CDD",
        "01/03/2025",
        "31/03/2025",
        "30",
        objet="Nettoyage des locaux de la mairie",
        notified="15/02/2025",
        amount="80 000",
        planned="100",
    ),
    # faulty lines, each with its reason
    abc_line(
        "M-A4", "ABC-7", "Embauche directe (CDD, CDI)", "CDD", "01/10/2024", "31/10/2024", "-5"
    ),
    abc_line(
        "M-A4", "ABC-8", "Embauche directe (CDD, CDI)", "CDD", "01/10/2024", "30/09/2024", "12"
    ),
    abc_line("M-A4", "ABC-9", "Pôle", "CDD", "01/10/2024", "31/10/2024", "12"),
    abc_line(
        "M-A4",
        "ABC-10",
        "Embauche directe (CDD, CDI)",
        "CDD",
        "01/10/2024",
        "31/10/2024",
        "beaucoup",
    ),
]
ABC_TOTAL = "Total" + ";" * 23 + "975,5;;"


def write_abc_export(folder: Path, lines: list[str] = ABC_LINES, name: str = "abc.csv") -> Path:
    """The ABC Clauses layout as facilitators extract it: Windows-1252, ';', a title block."""
    text = "\r\n".join(
        [
            "Export ABC Clauses - suivi des participants;;",
            "Édité le 05/01/2026;;",
            "",
            ABC_HEADER,
            *lines,
            ABC_TOTAL,
        ]
    )
    path = folder / name
    path.write_bytes(text.encode("cp1252"))
    return path


def write_decp(paths: PnadPaths, target: Path | None = None) -> None:
    write_decp_2022(
        target or paths.raw / "local" / "decp.json",
        [
            marche(
                "2024-001",
                BUYER,
                social=["Clause sociale"],
                amount=500_000,
                objet="Construction du groupe scolaire des Vergers",
            ),
            marche(
                "2024-002",
                BUYER,
                notified="2024-05-10",
                amount=250_000,
                objet="Réfection de la voirie communale rue des Lilas",
            ),
            marche(
                "2024-003",
                BUYER,
                social=["Clause sociale"],
                notified="2024-09-01",
                amount=80_000,
                objet="Nettoyage des locaux de la mairie",
                cpv="90910000",
            ),
            # another buyer's contract with the same object, date and amount as M-A2
            marche(
                "2024-004",
                OTHER_BUYER,
                social=["Clause sociale"],
                notified="2024-05-10",
                amount=250_000,
                objet="Réfection de la voirie communale rue des Lilas",
            ),
        ],
    )


def build_facilitator(paths: PnadPaths) -> None:
    with warehouse.connect(paths) as con:
        build.build_facilitator_links(con)
        build.build_facilitator_hours(con)


@pytest.fixture
def loaded(pnad_paths: PnadPaths, tmp_path: Path) -> dict:
    """The DECP fixture and the ABC export loaded and linked."""
    write_decp(pnad_paths)
    build_warehouse(pnad_paths)
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(con, pnad_paths, write_abc_export(tmp_path))
    build_facilitator(pnad_paths)
    return report


def test_every_line_is_loaded_or_rejected_with_its_line_and_reason(loaded, query):
    assert (loaded["records_read"], loaded["loaded"], loaded["rejected"]) == (12, 7, 5)
    assert loaded["facilitator"] == "MDE Test"
    assert loaded["format"] == "facilitator:abc_clauses_suivi_participants"
    # the header is on line 4 of the file: data starts on line 5
    assert query("select line_number, reason from facilitator_rejects order by 1") == [
        (12, "heures réalisées négatives : -5"),
        (13, "fin du contrat avant son début (01/10/2024 > 30/09/2024)"),
        (14, "modalité inconnue : «Pôle»"),
        (15, "heures réalisées illisibles : «beaucoup»"),
        (16, "ligne de total (non chargée)"),
    ]


def test_hours_are_attributed_to_the_year_worked(loaded, query):
    rows = query(
        "select year, hours_worked, etp, hours_planned, completion_rate, participants, "
        "work_contracts, marches, buyers, companies from facilitator_hours "
        "where level = 'national' order by year"
    )
    assert rows[0][:2] == (2024, pytest.approx(727.5))
    assert rows[0][2] == pytest.approx(727.5 / 1600)
    # marchés active in 2024: M-A1..M-A4, each planned once (1 000 + 500 + 70 + 200)
    assert rows[0][3] == pytest.approx(1770)
    assert rows[0][4] == pytest.approx(727.5 / 1770)
    assert rows[0][5:] == (5, 5, 4, 1, 1)
    # 2025: M-A1 (hours) and M-A5 (notified); completion counts M-A1's hours since the start
    assert rows[1][:2] == (2025, pytest.approx(248))
    assert rows[1][3] == pytest.approx(1100)
    assert rows[1][4] == pytest.approx((422.5 + 218 + 30) / 1100)
    assert rows[1][5:8] == (3, 3, 2)  # ABC-1 counted once though on two contracts


def test_territory_levels_add_up_and_year_on_year_change(loaded, query):
    rows = query(
        "select level, territory_code, territory_name, hours_worked, hours_worked_change "
        "from facilitator_hours where year = 2025 order by level"
    )
    assert rows == [
        ("departement", "74", "Haute-Savoie", pytest.approx(248), pytest.approx(248 / 727.5 - 1)),
        ("national", "FR", "France", pytest.approx(248), pytest.approx(248 / 727.5 - 1)),
        (
            "region",
            "84",
            "Auvergne-Rhône-Alpes",
            pytest.approx(248),
            pytest.approx(248 / 727.5 - 1),
        ),
    ]


def test_breakdowns_by_modality_contract_and_non_exclusive_publics(loaded, query):
    rows = dict(
        ((dimension, category), hours)
        for dimension, category, hours in query(
            "select dimension, category, hours_worked from facilitator_hours_breakdowns "
            "where year = 2024 and level = 'national'"
        )
    )
    assert rows[("modality", "etti")] == pytest.approx(300.5)
    assert rows[("modality", "embauche_directe")] == pytest.approx(122 + 35)
    assert rows[("contract_type", "interim_insertion")] == pytest.approx(300.5)
    assert rows[("clause_category", "execution")] == pytest.approx(727.5)
    assert rows[("public", "deld")] == pytest.approx(300.5)
    assert rows[("public", "jeune")] == pytest.approx(122)
    modalities = sum(v for (d, _), v in rows.items() if d == "modality")
    assert modalities == pytest.approx(727.5)  # exclusive categories add up to the total


def test_link_by_decp_id_and_by_score_and_near_misses_left_alone(loaded, query):
    links = dict(
        (marche_id, (uid, method))
        for marche_id, uid, method in query(
            "select m.marche_id, l.uid, l.method from facilitator_decp_links l "
            "join facilitator_followed_marches m using (marche_key)"
        )
    )
    assert links == {
        "M-A1": (f"{BUYER}2024-001", "decp_id"),
        "M-A2": (f"{BUYER}2024-002", "scored"),
    }
    confidence = query("select confidence from facilitator_decp_links where method = 'scored'")[0][
        0
    ]
    assert 0.7 <= confidence < 1


def test_both_gaps_and_the_facilitator_provenance(loaded, query):
    assert query("select uid, social_status, hours_worked from facilitator_gap_underdeclared") == [
        (f"{BUYER}2024-002", "no", pytest.approx(200))
    ]
    # 2024-003 declares a clause, its buyer is followed, no facilitator follows it; 2024-004's
    # buyer is followed by nobody: not listed
    assert query("select uid from facilitator_gap_unfollowed") == [(f"{BUYER}2024-003",)]
    assert dict(
        query("select uid, consideration_provenance from contracts where followed_by_facilitator")
    ) == {f"{BUYER}2024-001": "decp+facilitator", f"{BUYER}2024-002": "facilitator"}


def test_reloading_an_export_adds_nothing(loaded, pnad_paths, tmp_path, query):
    with warehouse.connect(pnad_paths) as con:
        again = loading.load_export(con, pnad_paths, write_abc_export(tmp_path))
    build_facilitator(pnad_paths)
    assert again["already_loaded"]
    assert query("select count(*) from facilitator_files") == [(1,)]
    assert query(
        "select hours_worked from facilitator_hours where level = 'national' order by year"
    ) == [(pytest.approx(727.5),), (pytest.approx(248),)]


def test_a_corrected_export_replaces_the_earlier_one(loaded, pnad_paths, tmp_path, query):
    corrected = [line.replace(";300,5;", ";310,5;") for line in ABC_LINES]
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(
            con, pnad_paths, write_abc_export(tmp_path, corrected, "abc_corrige.csv")
        )
    build_facilitator(pnad_paths)
    assert report["replaced_files"] == [loaded["file_id"]]
    assert query("select file_name, status from facilitator_files order by loaded_at") == [
        ("abc.csv", "replaced"),
        ("abc_corrige.csv", "active"),
    ]
    assert query(
        "select hours_worked from facilitator_hours where level = 'national' order by year"
    ) == [(pytest.approx(737.5),), (pytest.approx(248),)]
    # the lines of the replaced export are gone, its record stays
    assert query("select count(distinct file_id) from facilitator_hours_worked") == [(1,)]


def test_an_export_repeating_work_contracts_without_covering_the_period_is_refused(
    loaded, pnad_paths, tmp_path, query
):
    # ABC-2's contract again (already in abc.csv), in a file that does not cover abc.csv's period
    repeated = [ABC_LINES[1]]
    with (
        warehouse.connect(pnad_paths) as con,
        pytest.raises(
            mapping.FacilitatorExportError, match="reprend des contrats de travail de abc.csv"
        ),
    ):
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path, repeated, "suite.csv"))
    assert query("select count(*) from facilitator_files") == [(1,)]
    assert query("select sum(hours_worked) from facilitator_hours_worked") == [
        (pytest.approx(975.5),)
    ]


def test_new_work_contracts_in_an_overlapping_period_add_up(loaded, pnad_paths, tmp_path, query):
    # an incremental export: a new contract within abc.csv's period, nothing repeated
    later = [abc_line("M-A1", "ABC-1", "ACI", "CDDI", "01/02/2025", "28/02/2025", "50")]
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(
            con, pnad_paths, write_abc_export(tmp_path, later, "fevrier.csv")
        )
    assert report["replaced_files"] == []
    assert query("select count(*) from facilitator_files where status = 'active'") == [(2,)]
    assert query("select sum(hours_worked) from facilitator_hours_worked") == [
        (pytest.approx(1025.5),)
    ]


def test_a_later_period_from_the_same_facilitator_adds_up(loaded, pnad_paths, tmp_path, query):
    later = [
        abc_line(
            "M-A1",
            "ABC-1",
            "ACI",
            "CDDI",
            "01/06/2025",
            "31/12/2025",
            "50",
            decp_id="2024-001",
            amount="500 000",
            planned="1 000",
        )
    ]
    with warehouse.connect(pnad_paths) as con:
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path, later, "suite.csv"))
    build_facilitator(pnad_paths)
    assert query(
        "select hours_worked from facilitator_hours where level = 'national' and year = 2025"
    ) == [(pytest.approx(298),)]
    # M-A1 appears in both exports: its planned hours are counted once
    assert query(
        "select hours_planned, marches from facilitator_hours where level = 'national' "
        "and year = 2025"
    ) == [(pytest.approx(1100), 2)]


# --- other layouts and encodings ------------------------------------------------------------


# Another layout: headers in other words, names instead of an identifier, hours by month.
TAB_EXPORT_ROWS = [
    [
        "N° Marché",
        "Objet",
        "SIRET acheteur",
        "HEURES PRÉVUES",
        "Nom",
        "Prénom",
        "Date de naissance",
        "Modalité d'insertion",
        "Type de contrat",
        "Mois",
        "Nombre d'heures réalisées",
        "Publics",
    ],
    [
        "B-1",
        "Voirie",
        BUYER,
        "400",
        "DUPONTEL",
        "Jeanne",
        "1990-05-04",
        "ETTI",
        "CTTI",
        "2024-01",
        "100,5",
        "DELD; RSA",
    ],
    [
        "B-1",
        "Voirie",
        BUYER,
        "400",
        "Dupontel",
        "JEANNE",
        "04/05/1990",
        "ETTI",
        "CTTI",
        "02/2024",
        "80",
        "DELD; RSA",
    ],
    [
        "B-1",
        "Voirie",
        BUYER,
        "400",
        "Martinez",
        "Paulo",
        "1985-01-01",
        "Embauche directe",
        "CDI",
        "2024-02",
        "150",
        "Jeune -26 ans",
    ],
]


def write_tab_export(folder: Path) -> Path:
    """TAB_EXPORT_ROWS tab-separated in UTF-8 with BOM, ISO dates."""
    path = folder / "plie.txt.csv"
    path.write_bytes(("\ufeff" + "\n".join("\t".join(r) for r in TAB_EXPORT_ROWS)).encode("utf-8"))
    return path


def test_tab_separated_utf8_with_names_is_recognised_without_a_mapping(pnad_paths, tmp_path, query):
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(
            con, pnad_paths, write_tab_export(tmp_path), facilitator="PLIE Test"
        )
    assert report["format"] == "facilitator:reconnaissance des en-têtes"
    assert (report["records_read"], report["loaded"], report["rejected"]) == (3, 3, 0)
    assert (report["period_start"], report["period_end"]) == ("2024-01-01", "2024-02-29")
    # the same person written twice differently (case, date format) is one pseudonym
    assert query("select count(distinct participant_key) from facilitator_hours_worked") == [(2,)]
    assert query("select sum(hours_worked) from facilitator_hours_worked") == [
        (pytest.approx(330.5),)
    ]
    assert query(
        "select public_deld, public_rsa, public_jeune from facilitator_work_contracts "
        "order by contract_type"
    ) == [(False, False, True), (True, True, False)]


def test_excel_workbook_with_a_marches_sheet_and_an_hours_sheet(pnad_paths, tmp_path, query):
    path = tmp_path / "suivi.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(
            {
                "Réf. marché": ["S-1", "S-2"],
                "Donneur d'ordre": ["Ville", "Ville"],
                "SIRET donneur d'ordre": [BUYER, BUYER],
                "Dépt": ["74", 74],
                "Intitulé": ["Voirie", "Cantine"],
                "Nature": ["TRAVAUX", "SERVICES"],
                "Corps d'état": ["VRD", "Restauration"],
                "Clause": ["Clause d'exécution"] * 2,
                "Notifié le": [pd.Timestamp("2024-02-01")] * 2,
                "Montant € HT": [120000.0, 60000],
                "Objectif heures": [350, 140],
            }
        ).to_excel(writer, sheet_name="Marchés", index=False)
        # a title row above the header, as people make them
        hours = pd.DataFrame(
            [
                [
                    "Réf. marché",
                    "Nom",
                    "Prénom",
                    "Né(e) le",
                    "Employeur",
                    "Structure",
                    "Contrat",
                    "Entrée",
                    "Sortie",
                    "Année",
                    "Heures effectuées",
                    "DELD",
                    "BRSA",
                    "RQTH",
                    "-26 ans",
                    "+50 ans",
                    "QPV",
                ],
                [
                    "S-1",
                    "LEGRAND",
                    "Ali",
                    pd.Timestamp("1970-03-02"),
                    "TP Alpes",
                    "GEIQ",
                    "Alternance",
                    pd.Timestamp("2024-03-01"),
                    pd.Timestamp("2024-12-31"),
                    2024,
                    210.5,
                    "oui",
                    "non",
                    "non",
                    "non",
                    "oui",
                    "x",
                ],
                [
                    "S-2",
                    "PETIT",
                    "Zoé",
                    pd.Timestamp("2001-07-14"),
                    "Resto+",
                    "EI",
                    "CDDI",
                    pd.Timestamp("2024-03-01"),
                    pd.Timestamp("2024-06-30"),
                    2024,
                    90,
                    "",
                    "",
                    "",
                    "oui",
                    "",
                    "",
                ],
            ],
        )
        pd.DataFrame([["Suivi des heures 2024"]]).to_excel(
            writer, sheet_name="Heures", index=False, header=False
        )
        hours.to_excel(writer, sheet_name="Heures", index=False, header=False, startrow=2)
        pd.DataFrame({"Notes": ["libre"]}).to_excel(writer, sheet_name="Notes", index=False)
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(con, pnad_paths, path, facilitator="PLIE Excel")
    assert (report["records_read"], report["loaded"], report["rejected"]) == (4, 4, 0)
    assert query(
        "select marche_id, market_type, hours_planned, notification_date from facilitator_marches "
        "order by 1"
    ) == [("S-1", "travaux", 350.0, date(2024, 2, 1)), ("S-2", "services", 140.0, date(2024, 2, 1))]
    assert query(
        "select modality, contract_type, public_deld, public_senior, public_qpv, public_jeune "
        "from facilitator_work_contracts order by modality"
    ) == [
        ("ei", "cddi", False, False, False, True),
        ("geiq", "alternance", True, True, True, False),
    ]
    assert query("select sum(hours_worked) from facilitator_hours_worked") == [
        (pytest.approx(300.5),)
    ]


@pytest.mark.parametrize(
    "header",
    [
        "Heures réalisées",
        "Nombre d'heures réalisées",
        "Heures effectuées",
        "HEURES REALISEES (h)",
        "nb  heures   réalisées",
        "Heures travaillées",
    ],
)
def test_header_variants_of_hours_worked(header):
    assert mapping.recognised([header]) == {0: "hours_worked"}


def test_an_unmappable_export_names_its_columns_and_writes_a_template(pnad_paths, tmp_path, query):
    path = tmp_path / "bizarre.csv"
    path.write_text("Chantier;Qui;Volume;Quand\nÉcole;Dupont;35;2024-03\n", encoding="utf-8")
    with (
        warehouse.connect(pnad_paths) as con,
        pytest.raises(mapping.UnmappedExportError) as raised,
    ):
        loading.load_export(con, pnad_paths, path)
    message = str(raised.value)
    assert "'Chantier'" in message and "'Volume'" in message and "'Qui'" in message
    template = raised.value.template
    assert template.parent == pnad_paths.mappings and template.exists()
    assert query("select count(*) from facilitator_files") == [(0,)]
    # the user fills in the template and loads again: no code change
    filled = template.read_text(encoding="utf-8")
    for field, column in (
        ("marche_object", "Chantier"),
        ("participant_last_name", "Qui"),
        ("hours_worked", "Volume"),
        ("period", "Quand"),
    ):
        filled = filled.replace(f'{field} = ""', f'{field} = "{column}"')
    template.with_name("bizarre.toml").write_text(filled, encoding="utf-8")
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(con, pnad_paths, path, facilitator="X")
    assert (report["loaded"], report["format"]) == (1, "facilitator:bizarre")


def test_no_participant_identity_anywhere_in_the_databases_or_outputs(pnad_paths, tmp_path):
    write_decp(pnad_paths)
    build_warehouse(pnad_paths)
    with warehouse.connect(pnad_paths) as con:
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path))
        loading.load_export(con, pnad_paths, write_tab_export(tmp_path), facilitator="PLIE")
        build.build_facilitator_links(con)
        build.build_facilitator_hours(con)
        publish_database(con, pnad_paths, allow_shrink=True)
    secrets_ = [
        "ABC-1",
        "ABC-10",
        "DUPONTEL",
        "Dupontel",
        "Jeanne",
        "JEANNE",
        "Martinez",
        "Paulo",
        "1990-05-04",
        "04/05/1990",
        "1985-01-01",
    ]
    for database in (pnad_paths.work_db, pnad_paths.published_db):
        assert texts_found_in_database(database, secrets_) == [], database.name
    # the check itself finds what is there
    assert texts_found_in_database(pnad_paths.published_db, ["Vergers"]) != []
    for output in pnad_paths.reports.rglob("*"):
        if output.is_file():
            text = output.read_bytes()
            assert not any(s.encode() in text for s in secrets_ if len(s) > 5), output


# --- wiring ---------------------------------------------------------------------------------


def test_drop_folder_sensor_asks_for_a_run_only_when_exports_change(pnad_paths, tmp_path):
    from assets.facilitators import facilitator_exports_sensor

    context = dg.build_sensor_context(cursor=None)
    assert isinstance(facilitator_exports_sensor(context), dg.SkipReason)  # nothing dropped
    cursor = context.cursor
    pnad_paths.facilitator_drop.mkdir(parents=True)
    write_abc_export(pnad_paths.facilitator_drop)
    context = dg.build_sensor_context(cursor=cursor)
    assert isinstance(facilitator_exports_sensor(context), dg.RunRequest)
    again = facilitator_exports_sensor(dg.build_sensor_context(cursor=context.cursor))
    assert isinstance(again, dg.SkipReason)


def test_assets_load_the_drop_folder_and_checks_pass(pnad_paths, tmp_path):
    from pipelines.definitions import defs

    write_decp(pnad_paths)
    folder = pnad_paths.facilitator_drop / "MDE Test"
    folder.mkdir(parents=True)
    write_abc_export(folder)
    (pnad_paths.facilitator_drop / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    definitions = defs()
    result = definitions.resolve_job_def("pnad_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    checks = {
        evaluation.check_name: evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if "facilitator" in evaluation.check_name
    }
    assert checks == {
        "check_accounting_facilitator_rows": True,
        # notes.csv cannot be mapped: reported (WARN), the other export is loaded all the same
        "check_completeness_facilitator_exports_loaded": False,
        "check_consistency_facilitator_hours_add_up": True,
    }
    assert (pnad_paths.mappings / "notes.a_completer.toml").exists()
    with duckdb.connect(str(pnad_paths.published_db), read_only=True) as con:
        assert con.execute(
            "select hours_worked, participants from facilitator_hours "
            "where level = 'national' order by year"
        ).fetchall() == [(pytest.approx(727.5), 5), (pytest.approx(248), None)]


def test_cli_ingest_and_hours(tmp_path):
    from tests.test_cli import pnad

    home = tmp_path / "home"
    decp = tmp_path / "in" / "decp.json"
    write_decp(PnadPaths(home), decp)
    export = write_abc_export(tmp_path / "in")
    # one command for both kinds of file: each is told apart by its content
    result = pnad("ingest", str(decp), str(export), "--json", home=home)
    assert result.returncode == 0, result.stderr
    report = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    assert report["decp.json"]["format"] == "decp-json"
    assert report["abc.csv"]["status"] == "loaded"
    assert (report["abc.csv"]["records_read"], report["abc.csv"]["rejected"]) == (12, 5)
    hours = json.loads(pnad("hours", "--json", "--year", "2024", home=home).stdout)
    national = next(r for r in hours if r["level"] == "national")
    assert {
        k: national[k]
        for k in (
            "year",
            "territory_code",
            "hours_worked",
            "etp",
            "participants",
            "work_contracts",
            "marches",
        )
    } == {
        "year": 2024,
        "territory_code": "FR",
        "hours_worked": 727.5,
        "etp": 727.5 / 1600,
        "participants": 5,
        "work_contracts": 5,
        "marches": 4,
    }
    table = pnad("hours", home=home)
    assert table.returncode == 0 and "728" in table.stdout and "secret" in table.stdout
    assert "ETP = heures / 1 600" in table.stdout  # the columns are explained
    listed = json.loads(pnad("exports", "--json", home=home).stdout)
    assert [(e["file_name"], e["status"], e["rows_read"]) for e in listed] == [
        ("abc.csv", "active", 12)
    ]
    assert listed[0]["period_start"][:4] == "2024" and listed[0]["period_end"][:2] == "20"
    text = pnad("exports", home=home)
    assert text.returncode == 0 and "abc.csv" in text.stdout, text.stderr
    assert "actif" in text.stdout and "01/04/2024 → 31/03/2025 · 12 lignes lues, 5 rejetées" in (
        text.stdout
    )
    missing = pnad("hours", "--year", "2021", home=home)
    assert missing.returncode == 1 and "années avec des heures : 2024, 2025" in missing.stderr
    # an export the drop folder cannot load: named with its reason, and a non-zero exit
    (home / "facilitateurs").mkdir()
    (home / "facilitateurs" / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    refresh = pnad("refresh", "--quiet", home=home)
    assert refresh.returncode == 1
    assert "export non chargé" in refresh.stderr and "notes.csv" in refresh.stderr


def test_an_export_that_does_not_name_its_facilitator_is_refused(pnad_paths, tmp_path, query):
    with (
        warehouse.connect(pnad_paths) as con,
        pytest.raises(mapping.FacilitatorExportError, match="--facilitator NOM"),
    ):
        loading.load_export(con, pnad_paths, write_tab_export(tmp_path))
    assert query("select count(*) from facilitator_files") == [(0,)]


def test_reload_reads_an_export_again_with_a_new_mapping(loaded, pnad_paths, tmp_path, query):
    # the user teaches the tool their label for a modality, then reloads the same file
    (pnad_paths.mappings).mkdir(parents=True, exist_ok=True)
    preset = (mapping.PRESETS_DIR / "abc_clauses_suivi_participants.toml").read_text("utf-8")
    (pnad_paths.mappings / "abc_local.toml").write_text(
        preset.replace('name = "abc_clauses_suivi_participants"', 'name = "abc_local"').replace(
            "[values.modality]\n", '[values.modality]\n"Pôle" = "autre"\n'
        ),
        encoding="utf-8",
    )
    with warehouse.connect(pnad_paths) as con:
        again = loading.load_export(con, pnad_paths, write_abc_export(tmp_path))
        assert again["already_loaded"]
        reloaded = loading.load_export(con, pnad_paths, write_abc_export(tmp_path), reload=True)
    assert (reloaded["loaded"], reloaded["rejected"], reloaded["format"]) == (
        8,
        4,
        "facilitator:abc_local",
    )
    assert query("select count(*) from facilitator_files") == [(1,)]
    assert query("select count(*) from facilitator_rejects") == [(4,)]
    assert query("select sum(hours_worked) from facilitator_hours_worked") == [
        (pytest.approx(975.5 + 12),)
    ]


def test_unrecognised_values_are_kept_aside_and_counted(pnad_paths, tmp_path, query):
    line = abc_line(
        "M-X",
        "ABC-1",
        "ETTI",
        "CDDI",
        "01/03/2024",
        "31/03/2024",
        "10",
        public="DELD, Ancien détenu",
    )
    odd = line.replace(";Travaux;BTP;", ";Prestations intellectuelles;BTP;")
    with warehouse.connect(pnad_paths) as con:
        report = loading.load_export(con, pnad_paths, write_abc_export(tmp_path, [odd]))
    assert (report["loaded"], report["lines_with_unrecognised_values"]) == (1, 2)
    assert sorted(query("select field, value, lines from facilitator_unrecognised_values")) == [
        ("market_type", "Prestations intellectuelles", 1),
        ("public", "Ancien détenu", 1),
    ]
    assert query("select public_deld from facilitator_work_contracts") == [(True,)]


def test_a_marche_number_equal_to_a_decp_id_links_without_a_date(pnad_paths, tmp_path, query):
    write_decp(pnad_paths)
    build_warehouse(pnad_paths)
    line = abc_line(
        "2024-003",
        "ABC-1",
        "ETTI",
        "CDDI",
        "01/10/2024",
        "31/10/2024",
        "10",
        notified="",
        amount="",
    )
    with warehouse.connect(pnad_paths) as con:
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path, [line]))
    build_facilitator(pnad_paths)
    assert query("select uid, method, confidence from facilitator_decp_links") == [
        (f"{BUYER}2024-003", "marche_id", pytest.approx(0.95))
    ]


@pytest.mark.parametrize(
    ("first_line", "export"),
    [
        ("N° marché;SIRET acheteur;Nom;Heures réalisées", True),  # names hours: an export
        ("Chantier;Qui;Volume", True),  # not a DECP table: mapped (or refused) as an export
        ("id;acheteur_id;dateNotification;montant", False),  # decp-processing
        ("titulaire_id_1;acheteur.id;objet", False),  # data.economie.gouv.fr
    ],
)
def test_exports_are_told_from_decp_tables_by_content(tmp_path, first_line, export):
    path = tmp_path / "fichier.csv"
    path.write_text(
        first_line + "\n" + ";".join("x" * len(first_line.split(";"))) + "\n", encoding="utf-8"
    )
    assert reading.looks_like_export(path) is export


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31/12/2024", "2024-12-31"),
        ("01/09/25", "2025-09-01"),
        ("1/9/75", "1975-09-01"),
        ("2024-03-01 00:00:00", "2024-03-01"),
        ("31.12.2024", "2024-12-31"),
        ("31/02/25", None),
        ("demain", None),
    ],
)
def test_dates_as_spreadsheets_write_them(text, expected):
    con = duckdb.connect()
    for macro in ("spelling_key", "french_date"):
        from pipelines.common.sql import run_sql

        run_sql(con, f"macros/{macro}")
    value = con.execute("select french_date($t)::varchar", {"t": text}).fetchone()[0]
    assert value == expected


def test_a_decp_contract_followed_by_two_facilitators_is_one_marche(
    loaded, pnad_paths, tmp_path, query
):
    other = [
        abc_line(
            "P-7",
            "X-1",
            "ETTI",
            "CDDI",
            "01/05/2024",
            "31/05/2024",
            "20",
            decp_id="2024-001",
            objet="Groupe scolaire des Vergers",
            amount="500 000",
            planned="1 000",
        ).replace("MDE Test", "PLIE Test", 1)
    ]
    with warehouse.connect(pnad_paths) as con:
        loading.load_export(con, pnad_paths, write_abc_export(tmp_path, other, "plie.csv"))
    build_facilitator(pnad_paths)
    # 20 more hours, but M-A1 and P-7 are the same contract 2024-001: planned once, one marché
    assert query(
        "select hours_worked, hours_planned, marches from facilitator_hours "
        "where level = 'national' and year = 2024"
    ) == [(pytest.approx(747.5), pytest.approx(1770), 4)]


def test_a_withdrawn_export_no_longer_counts_and_can_come_back(loaded, pnad_paths, tmp_path, query):
    with warehouse.connect(pnad_paths) as con:
        with pytest.raises(
            mapping.FacilitatorExportError, match="au moins les 6 premiers caractères"
        ):
            loading.withdraw_export(con, "abc")
        with pytest.raises(mapping.FacilitatorExportError, match="au moins les 6 premiers"):
            loading.withdraw_export(con, "%%%%%%")  # not a pattern matching every export
        report = loading.withdraw_export(con, loaded["file_id"][:8])
        # a second time: refused, in French (the status read as a person reads it)
        with pytest.raises(mapping.FacilitatorExportError) as refused:
            loading.withdraw_export(con, loaded["file_id"][:8])
    assert str(refused.value).endswith("n'est pas actif (retiré) : rien à retirer")
    build_facilitator(pnad_paths)
    assert report["status"] == "withdrawn"
    assert query("select count(*) from facilitator_hours_worked") == [(0,)]
    assert query("select count(*) from facilitator_hours") == [(0,)]
    # lines read stay accounted for; loading the file again brings it back
    assert query("select rows_read, rows_loaded, rows_rejected from facilitator_files") == [
        (12, 7, 5)
    ]
    with warehouse.connect(pnad_paths) as con:
        again = loading.load_export(con, pnad_paths, write_abc_export(tmp_path))
    assert (again["status"], again["loaded"]) == ("active", 7)
