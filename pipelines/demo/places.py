"""Where the demo buyers are: the built-in départements and régions, a few communes per
département (``communes.csv``), and the population that weights buyers and contracts."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


DEMO_COMMUNES = Path(__file__).resolve().with_name("communes.csv")


# Population in thousands (INSEE, about 2021): weights buyers and contracts by département.
DEPT_POP = {
    "01": 657,
    "02": 529,
    "03": 335,
    "04": 166,
    "05": 141,
    "06": 1098,
    "07": 329,
    "08": 270,
    "09": 155,
    "10": 310,
    "11": 375,
    "12": 280,
    "13": 2056,
    "14": 697,
    "15": 144,
    "16": 352,
    "17": 658,
    "18": 302,
    "19": 240,
    "2A": 160,
    "2B": 182,
    "21": 534,
    "22": 602,
    "23": 116,
    "24": 414,
    "25": 544,
    "26": 520,
    "27": 600,
    "28": 432,
    "29": 918,
    "30": 752,
    "31": 1435,
    "32": 192,
    "33": 1654,
    "34": 1202,
    "35": 1095,
    "36": 218,
    "37": 612,
    "38": 1280,
    "39": 259,
    "40": 419,
    "41": 329,
    "42": 767,
    "43": 228,
    "44": 1460,
    "45": 683,
    "46": 175,
    "47": 331,
    "48": 77,
    "49": 823,
    "50": 492,
    "51": 563,
    "52": 170,
    "53": 307,
    "54": 731,
    "55": 182,
    "56": 775,
    "57": 1047,
    "58": 199,
    "59": 2610,
    "60": 829,
    "61": 276,
    "62": 1458,
    "63": 663,
    "64": 693,
    "65": 229,
    "66": 482,
    "67": 1152,
    "68": 767,
    "69": 1883,
    "70": 233,
    "71": 549,
    "72": 564,
    "73": 439,
    "74": 834,
    "75": 2133,
    "76": 1256,
    "77": 1421,
    "78": 1449,
    "79": 376,
    "80": 568,
    "81": 390,
    "82": 262,
    "83": 1090,
    "84": 563,
    "85": 694,
    "86": 439,
    "87": 372,
    "88": 362,
    "89": 335,
    "90": 141,
    "91": 1306,
    "92": 1625,
    "93": 1655,
    "94": 1408,
    "95": 1249,
    "971": 384,
    "972": 361,
    "973": 286,
    "974": 868,
    "976": 310,
}


# Minimum share of contracts per département: with the low-discrepancy buyer sequence every
# département then gets contracts from size 2 000 on (largest gap of the sequence ~1.5/size).
DEPT_MIN_SHARE = 0.0015


@lru_cache(maxsize=1)
def reference_tables() -> tuple[tuple, dict, dict]:
    depts = []
    with open(REFERENCE_DIR / "departements.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] == "departement":
                depts.append((row["departement_code"], row["departement_name"], row["region_code"]))
    with open(REFERENCE_DIR / "regions.csv", encoding="utf-8", newline="") as handle:
        regions = {row["region_code"]: row["region_name"] for row in csv.DictReader(handle)}
    communes: dict[str, list[tuple[str, str, str]]] = {}
    with open(DEMO_COMMUNES, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            communes.setdefault(row["departement_code"], []).append(
                (row["commune_code"], row["commune_name"], row["postal_code"])
            )
    return tuple(depts), regions, communes


def commune_insee_for_siren(code: str) -> str:
    # Arrondissements have no SIREN of their own; Corsica shows as 20xxx in SIRENs.
    if code.startswith("751"):
        return "75056"
    if code.startswith("6938"):
        return "69123"
    if code.startswith("132"):
        return "13055"
    if code[:2] in ("2A", "2B"):
        return "20" + code[2:]
    return code


def dept_digits(code: str) -> str:
    return "20" if code in ("2A", "2B") else code
