"""The defects of real DECP files the demo gives some records: dates with a time zone, typos or
in the future, placeholder amounts, malformed SIRETs, enumerations spelt otherwise, numbers as
text, considerations missing or unrecognised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.demo.draws import luhn_complete

if TYPE_CHECKING:
    from pipelines.demo.records import RecordBuilder

FAULTS_COMMON = (
    "date_tz",
    "date_typo",
    "date_0001",
    "date_future",
    "amount_placeholder",
    "siret",
    "enum",
    "number_string",
    "consideration",
)
# The 2019 format has no consideration fields; decp-processing's parquet has typed dates and
# amounts.
FAULTS_2019 = tuple(f for f in FAULTS_COMMON if f != "consideration")
FAULTS_PARQUET = tuple(f for f in FAULTS_COMMON if f not in ("date_tz", "number_string"))


def faults_for(shape: str) -> tuple[str, ...]:
    """The defects a file of this shape can show."""
    if shape == "decp2019_json":
        return FAULTS_2019
    if shape == "decp_processing_parquet":
        return FAULTS_PARQUET
    return FAULTS_COMMON


def apply_fault(builder: RecordBuilder, i: int, variant: int, rec: dict, ctx: dict) -> bool:
    """Maybe give this record one of the defects of real files; True when it got one.

    Whether, which and how are cheap hashes of (seed, contract, variant): no random state."""
    if builder.fault_rate <= 0 or builder.unit(i, 40 + variant) >= builder.fault_rate:
        return False
    kinds = faults_for(builder.shape)
    kind = kinds[int(builder.unit(i, 50 + variant) * len(kinds))]
    v = builder.unit(i, 60 + variant)
    if kind.startswith("date_"):
        _date_fault(kind, rec, v)
    elif kind == "amount_placeholder":
        key = _amount_key(rec)
        rec[key] = (0, 1, 99999999999.99, -abs(rec[key]) or -1)[int(v * 4)]
    elif kind == "siret":
        _siret_fault(rec, v)
    elif kind == "enum":
        _enum_fault(rec, v)
    elif kind == "number_string":
        text = f"{float(rec[_amount_key(rec)]):.2f}"
        # In XML every value is text already: the real-world variant is the decimal comma.
        rec[_amount_key(rec)] = text.replace(".", ",") if builder.shape == "decp2022_xml" else text
    elif kind == "consideration":
        _consideration_fault(rec, v, int(builder.unit(i, 70 + variant) * 3))
    return True


def _amount_key(rec: dict) -> str:
    return "montant" if "acheteur" in rec else "valeurGlobale"


def _date_fault(kind: str, rec: dict, v: float) -> None:
    date_key = "dateNotification" if "acheteur" in rec else "dateSignature"
    d = rec[date_key]
    if kind == "date_tz":
        tz = "+02:00" if "04" <= d[5:7] <= "10" else "+01:00"
        rec[date_key] = d + tz
        rec["datePublicationDonnees"] += tz
    elif kind == "date_typo":
        rec[date_key] = ("0" if v < 0.5 else "5") + d[1:]
    elif kind == "date_0001":
        rec[date_key] = "0001-01-01"
    else:  # date_future
        y = int(d[:4]) + 3 + int(v * 4)
        rec[date_key] = f"{y}{d[4:8]}{min(int(d[8:10]), 28):02d}"


def _siret_fault(rec: dict, v: float) -> None:
    is_marche = "acheteur" in rec
    holder = rec["acheteur" if is_marche else "autoriteConcedante"]
    s = holder["id"]
    sub = int(v * 4)
    if sub == 0:
        holder["id"] = s[:13]
    elif sub == 1:
        holder["id"] = s + str(int(v * 100) % 10)
    elif sub == 2:
        holder["id"] = f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}"
    else:
        # A SIRET starting with 0 that went through a spreadsheet as a number.
        key = "titulaires" if is_marche else "concessionnaires"
        inner = "titulaire" if is_marche else "concessionnaire"
        lost = luhn_complete(luhn_complete("0" + s[2:9]) + "0001")
        rec[key][0][inner] = {"typeIdentifiant": "SIRET", "id": lost.lstrip("0")}


def _enum_fault(rec: dict, v: float) -> None:
    sub = int(v * 3)
    lieu = rec.get("lieuExecution")
    if sub == 0 and lieu and lieu["typeCode"] == "Code postal":
        lieu["typeCode"] = "CODE POSTAL" if v < 0.15 else "Code Postal"
    elif sub <= 1:
        rec["nature"] = rec["nature"].lower() if "acheteur" in rec else rec["nature"].upper()
    else:
        p = rec["procedure"]
        rec["procedure"] = (
            "Procedure adaptee"
            if p == "Procédure adaptée"
            else p.replace("'", "’")
            if "'" in p
            else p.upper()
        )


def _consideration_fault(rec: dict, v: float, sub: int) -> None:
    key, inner = (
        ("considerationsSociales", "considerationSociale")
        if v < 0.5
        else ("considerationsEnvironnementales", "considerationEnvironnementale")
    )
    if sub == 0:
        vals = rec[key][inner]
        rec[key] = {inner: [vals[0].lower() + " "] + vals[1:]}
    elif sub == 1:
        rec[key] = {inner: ["NC"]}
    else:
        del rec[key]


def fix_titulaire_ids(rec: dict, ctx: dict) -> None:
    """Keep side facts in step with a fault that replaced the first titulaire's id."""
    key = "titulaires" if "acheteur" in rec else "concessionnaires"
    inner = "titulaire" if key == "titulaires" else "concessionnaire"
    ids = [t[inner]["id"] for t in rec[key]]
    ctx["titulaires"] = [
        (t, tid, name) for (t, _, name), tid in zip(ctx["titulaires"], ids, strict=False)
    ]
