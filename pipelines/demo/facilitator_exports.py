"""Demo facilitator exports consistent with the demo DECP: two facilitators, two layouts.

- « Maison de l'emploi Démo Nord »: an ABC Clauses-like CSV (';', Windows-1252, title block
  above the header, French decimals, dd/mm/yyyy dates, a totals line, two faulty lines), one
  line per work contract, the DECP id given for most marchés;
- « PLIE Démo Sud »: an Excel workbook with a « Marchés » sheet and an « Heures » sheet (one
  line per person, marché and year, names and birth dates that must never reach the database),
  no DECP id: the link to the DECP is the scored match.

Followed marchés are drawn from the working database's contracts: most of those declaring a
social clause, a few labour-intensive ones declaring none (under-declaration), plus small
marchés that are not in the DECP. Deterministic for a given seed and set of contracts.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

NORTH = "Maison de l'emploi Démo Nord"
SOUTH = "PLIE Démo Sud"
DEMO_FACILITATORS = (NORTH, SOUTH)
NORTH_REGIONS = {"11", "24", "27", "28", "32", "44", "52", "53"}
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Diallo",
    "Petit",
    "Nguyen",
    "Moreau",
    "Lefèvre",
    "Benali",
    "Garcia",
    "Rousseau",
    "Fontaine",
    "Traoré",
    "Mercier",
    "Haddad",
    "Lambert",
)
FIRST_NAMES = (
    "Nadia",
    "Karim",
    "Julie",
    "Mamadou",
    "Sophie",
    "Lucas",
    "Inès",
    "Thomas",
    "Fatou",
    "Hugo",
    "Léa",
    "Yanis",
    "Camille",
    "Omar",
    "Chloé",
)
NORTH_MODALITIES = (
    "Embauche directe (CDD, CDI)",
    "Mise à disposition ETTI",
    "Mise à disposition GEIQ",
    "Mise à disposition AI",
    "EI",
)
NORTH_CONTRACTS = {
    "Embauche directe (CDD, CDI)": ("CDD", "CDI"),
    "Mise à disposition ETTI": ("Intérim d'insertion",),
    "Mise à disposition GEIQ": ("Contrat de professionnalisation",),
    "Mise à disposition AI": ("CDDI",),
    "EI": ("CDDI",),
}
SOUTH_MODALITIES = {
    "Embauche directe": ("CDI", "CDD"),
    "ETTI": ("CTTI",),
    "GEIQ": ("Alternance",),
    "ACI": ("CDDI",),
    "ETT": ("Intérim",),
}
CLAUSES = ("Art. L2112-2 : condition d'exécution", "Art. L2112-2 + L2152-7 : exécution et critère")
PUBLICS = ("DELD", "RSA", "TH", "Jeune -26 ans", "Senior +50 ans", "QPV")
# A full-time year (35 h a week, legal annual duration): nobody works more in the days of a work
# contract, so a contract cut short by today (or a year only partly covered) has fewer hours.
FULL_TIME_HOURS_PER_YEAR = 1607


@dataclass
class Marche:
    facilitator: str
    ref: str
    decp_id: str | None
    buyer_siret: str
    buyer_name: str
    departement: str | None
    objet: str
    market_type: str
    notification: date
    amount: float
    hours_planned: int
    participants: list[dict] = field(default_factory=list)


def _prefix(facilitator: str) -> str:
    return "N" if facilitator == NORTH else "S"


def _fr(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def _followed_marches(
    con: duckdb.DuckDBPyConnection, rng: random.Random, today: date
) -> list[Marche]:
    rows = con.execute(
        "select contract_id, buyer_siret, coalesce(buyer_name, 'Acheteur ' || buyer_siret), "
        "objet, market_type, notification_date, current_amount, social_status, social_kinds, "
        "buyer_departement_code, buyer_region_code from contracts "
        "where in_pnad_scope and kind = 'marche' and market_type in ('travaux', 'services') "
        "and amount_quality = 'ok' and current_amount between 40000 and 5e7 "
        "and not shared_id_group order by uid"
    ).fetchall()
    marches, numbers = [], {NORTH: 0, SOUTH: 0}
    for cid, siret, name, objet, mtype, notified, amount, status, kinds, dep, region in rows:
        declared = "clause" in kinds or "reserve" in kinds
        if not (declared and rng.random() < 0.6) and not (
            status != "yes" and mtype == "travaux" and rng.random() < 0.08
        ):
            continue
        facilitator = NORTH if region in NORTH_REGIONS else SOUTH
        numbers[facilitator] += 1
        marches.append(
            Marche(
                facilitator,
                f"{_prefix(facilitator)}-{notified.year}-{numbers[facilitator]:04d}",
                cid if facilitator == NORTH and rng.random() < 0.7 else None,
                siret,
                name,
                dep,
                objet or "Marché",
                mtype,
                notified,
                float(amount),
                max(35, round(float(amount) * 0.004 / 7) * 7),
            )
        )
    # small marchés a facilitator follows that are below the DECP threshold (not in the DECP)
    for marche in list(marches)[:: max(1, len(marches) // max(1, len(marches) // 5))]:
        numbers[marche.facilitator] += 1
        amount = float(rng.randrange(15_000, 39_000, 500))
        marches.append(
            Marche(
                marche.facilitator,
                f"{_prefix(marche.facilitator)}-PETIT-{numbers[marche.facilitator]:04d}",
                None,
                marche.buyer_siret,
                marche.buyer_name,
                marche.departement,
                "Entretien des espaces verts (petit marché)",
                "services",
                marche.notification + timedelta(days=rng.randrange(10, 200)),
                amount,
                max(35, round(amount * 0.006 / 7) * 7),
            )
        )
    for marche in marches:
        _add_participants(marche, rng, today)
    return [m for m in marches if m.notification <= today]


def _add_participants(marche: Marche, rng: random.Random, today: date) -> None:
    count = min(40, 1 + marche.hours_planned // 350)
    remaining = marche.hours_planned * rng.uniform(0.5, 1.15)
    for index in range(count):
        start = marche.notification + timedelta(days=rng.randrange(15, 150))
        end = start + timedelta(days=rng.randrange(30, 330))
        if start >= today:
            continue
        end = min(end, today - timedelta(days=1))
        hours = round(remaining / (count - index) * rng.uniform(0.7, 1.3) * 2) / 2
        full_time = round(FULL_TIME_HOURS_PER_YEAR * ((end - start).days + 1) / 365 * 2) / 2
        hours = min(1400.0, full_time, max(7.0, hours))  # at most full time over its days
        remaining = max(0.0, remaining - hours)
        person = rng.randrange(1, 4000)  # the same person may work on several marchés
        marche.participants.append(
            {
                "person": person,
                "start": start,
                "end": end,
                "hours": hours,
                "publics": [p for p in PUBLICS if rng.random() < 0.3],
                "employer": f"Entreprise {rng.choice(('Bâti', 'Verdure', 'Propreté', 'Routes'))} "
                f"{rng.randrange(1, 40)}",
            }
        )


def _write_north_csv(marches: list[Marche], target: Path, rng: random.Random, today: date) -> None:
    header = [
        "Facilitateur",
        "N° opération",
        "Opération",
        "Maître d'ouvrage",
        "SIRET MO",
        "Type MO",
        "Département",
        "N° marché",
        "Identifiant DECP",
        "Objet du marché",
        "Type de marché",
        "Secteur",
        "Type de clause",
        "Date de notification",
        "Montant HT",
        "Nb heures prévues",
        "Entreprise",
        "SIRET entreprise",
        "Réf. participant",
        "Modalité",
        "Type de contrat",
        "Date début contrat",
        "Date fin contrat",
        "Nb heures réalisées",
        "Public",
        "Situation à la sortie",
    ]
    lines, total = [], 0.0
    for marche in marches:
        for p in marche.participants:
            modality = rng.choice(NORTH_MODALITIES)
            lines.append(
                [
                    NORTH,
                    f"OP-{marche.buyer_siret[:9]}",
                    f"Programme {marche.buyer_name}"[:60],
                    marche.buyer_name,
                    marche.buyer_siret,
                    "",
                    marche.departement or "",
                    marche.ref,
                    marche.decp_id or "",
                    marche.objet,
                    marche.market_type.capitalize(),
                    "BTP" if marche.market_type == "travaux" else "Propreté et espaces verts",
                    rng.choice(CLAUSES),
                    marche.notification.strftime("%d/%m/%Y"),
                    _fr(marche.amount),
                    str(marche.hours_planned),
                    p["employer"],
                    "",
                    f"ABC-{p['person']:05d}",
                    modality,
                    rng.choice(NORTH_CONTRACTS[modality]),
                    p["start"].strftime("%d/%m/%Y"),
                    p["end"].strftime("%d/%m/%Y"),
                    _fr(p["hours"]),
                    ", ".join(p["publics"]),
                    rng.choice(("Emploi durable", "Emploi de transition", "En parcours", "")),
                ]
            )
            total += p["hours"]
    if len(lines) > 4:  # two real faults of hand-kept files
        lines[1][23] = "-" + lines[1][23]
        total -= 2 * float(lines[1][23].lstrip("-").replace(",", "."))
        lines[3][19] = "Pôle emploi"
    title = [
        ["Export ABC Clauses - suivi des participants"],
        [f"Facilitateur : {NORTH}"],
        [f"Édité le {today.strftime('%d/%m/%Y')}"],
        [],
    ]
    totals = [["Total"] + [""] * 22 + [_fr(total)]]
    with target.open("w", encoding="cp1252", errors="replace", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(title + [header] + lines + totals)


def _write_south_workbook(marches: list[Marche], target: Path, rng: random.Random) -> None:
    marche_rows, hour_rows = [], []
    for marche in marches:
        marche_rows.append(
            {
                "Réf. marché": marche.ref,
                "Donneur d'ordre": marche.buyer_name,
                "SIRET donneur d'ordre": marche.buyer_siret,
                "Dépt": marche.departement,
                # as a facilitator types them: a shortened object, a rounded amount, the date the
                # facilitator heard of the notification (a few days off)
                "Intitulé": marche.objet[:45],
                "Nature": marche.market_type.upper(),
                "Corps d'état": "Gros oeuvre" if marche.market_type == "travaux" else "Nettoyage",
                "Clause": "Clause d'exécution",
                "Notifié le": pd.Timestamp(
                    marche.notification + timedelta(days=rng.randint(-6, 6))
                ),
                "Montant € HT": round(marche.amount, -3),
                "Objectif heures": marche.hours_planned,
            }
        )
        for p in marche.participants:
            modality = rng.choice(list(SOUTH_MODALITIES))
            person = random.Random(p["person"])
            last, first = person.choice(LAST_NAMES), person.choice(FIRST_NAMES)
            birth = date(1960, 1, 1) + timedelta(days=person.randrange(0, 16000))
            days = (p["end"] - p["start"]).days + 1
            for year in range(p["start"].year, p["end"].year + 1):
                first_day = max(p["start"], date(year, 1, 1))
                last_day = min(p["end"], date(year, 12, 31))
                hour_rows.append(
                    {
                        "Réf. marché": marche.ref,
                        "Nom": last.upper(),
                        "Prénom": first,
                        "Né(e) le": pd.Timestamp(birth),
                        "Employeur": p["employer"],
                        "Structure": modality,
                        "Contrat": rng.choice(SOUTH_MODALITIES[modality]),
                        "Entrée": pd.Timestamp(p["start"]),
                        "Sortie": pd.Timestamp(p["end"]),
                        "Année": year,
                        "Heures effectuées": round(
                            p["hours"] * ((last_day - first_day).days + 1) / days, 1
                        ),
                        **{
                            column: ("oui" if public in p["publics"] else "non")
                            for column, public in (
                                ("DELD", "DELD"),
                                ("BRSA", "RSA"),
                                ("RQTH", "TH"),
                                ("-26 ans", "Jeune -26 ans"),
                                ("+50 ans", "Senior +50 ans"),
                                ("QPV", "QPV"),
                            )
                        },
                    }
                )
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        pd.DataFrame(marche_rows).to_excel(writer, sheet_name="Marchés", index=False)
        pd.DataFrame(hour_rows).to_excel(writer, sheet_name="Heures", index=False)
        pd.DataFrame(
            {"Notes": ["Classeur de démonstration", "Heures par salarié et par année"]}
        ).to_excel(writer, sheet_name="Notes", index=False)


def demo_export_paths(drop_folder: Path) -> tuple[Path, Path]:
    """Where the two demo exports are written (the North CSV, the South workbook)."""
    return (
        drop_folder / "demo_abc_clauses_nord.csv",
        drop_folder / SOUTH / "demo_suivi_plie_sud.xlsx",
    )


def write_demo_exports(
    con: duckdb.DuckDBPyConnection, drop_folder: Path, seed: int = 42, today: date | None = None
) -> list[Path]:
    """Write the two demo exports under drop_folder (the South one in a sub-folder that names
    its facilitator, as the workbook does not). Returns the files written."""
    today = today or date.today()
    rng = random.Random(seed)
    marches = _followed_marches(con, rng, today)
    north, south = demo_export_paths(drop_folder)
    south.parent.mkdir(parents=True, exist_ok=True)
    _write_north_csv([m for m in marches if m.facilitator == NORTH], north, rng, today)
    _write_south_workbook([m for m in marches if m.facilitator == SOUTH], south, rng)
    return [north, south]
