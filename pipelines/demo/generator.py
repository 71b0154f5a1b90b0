"""Deterministic, streaming generator of synthetic DECP files, for demos, tests and load tests:
realistic marchés and concessions with the known defects of real files, in flat memory.

File naming per shape (all under ``out_dir``; days or months without records have no file):

* ``decp2022_json``: one file per publication day, ``decp-2022_YYYY-MM-DD.json``
* ``decp2022_flat_json``: one file per month, ``decp-2022-flat_YYYY-MM.json``
* ``decp2019_json``: one file per month, ``decp-2019_YYYY-MM.json``
* ``decp2022_xml``: one file per month, ``decp-2022_YYYY-MM.xml``
* ``decp_processing_parquet``: one file ``decp.parquet`` (marchés only, latest version of each
  contract, one row per contract x titulaire x modification as decp-processing does)

plus ``_demo_manifest.json`` (arguments and counts; not listed in ``DemoResult.files``).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import gc
import heapq
import json
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

SHAPES = (
    "decp2022_json",
    "decp2022_flat_json",
    "decp2019_json",
    "decp2022_xml",
    "decp_processing_parquet",
)
MIN_SIZE = 100
MAX_SIZE = 3_000_000
TEST_BUYER_SIRET = "44090956200033"
REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"
DEMO_COMMUNES = Path(__file__).resolve().with_name("communes.csv")
MANIFEST_NAME = "_demo_manifest.json"

SOCIAL_POSITIVE = ("Clause sociale", "Critère social", "Marché réservé", "Concession réservée")
ENVIRONMENTAL_POSITIVE = ("Clause environnementale", "Critère environnemental")
NO_SOCIAL = "Pas de considération sociale"
NO_ENVIRONMENTAL = "Pas de considération environnementale"

# Target shares by notification date: flat in 2024, then a linear rise to mid-2026.
SOCIAL_2024, SOCIAL_MID_2026 = 0.14, 0.22
ENVIRONMENTAL_2024, ENVIRONMENTAL_MID_2026 = 0.18, 0.28
_RAMP_START = date(2025, 1, 1).toordinal()
_RAMP_END = date(2026, 6, 30).toordinal()

CONCESSION_RATE = 0.02
MODIFICATION_RATE = 0.10
REPUBLICATION_RATE = 0.08
PARQUET_BATCH_ROWS = 50_000
WRITE_BUFFER = 256 * 1024

_M64 = (1 << 64) - 1
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_VARIANT_TEST = 9


@dataclass(frozen=True)
class DemoResult:
    """What ``generate_demo`` wrote.

    ``contracts`` counts distinct contracts (distinct acheteur.id + id), platform test records
    excluded; for the parquet shape it counts marchés only (concessions are not in decp.parquet).
    ``records`` counts records written: contracts + republications + test records (for parquet,
    one per contract version kept, i.e. contracts + test records; rows are more numerous).
    ``republications`` counts records of a contract already published earlier (0 for parquet).
    ``faulty_records`` counts written records that received one deliberate fault.
    """

    out_dir: Path
    files: list[Path]
    contracts: int
    records: int
    republications: int
    test_records: int
    faulty_records: int


@dataclass(frozen=True, slots=True)
class DemoBuyer:
    """One buyer of the deterministic demo pool (see ``demo_buyers``)."""

    siret: str
    name: str
    kind: str
    departement_code: str
    region_code: str
    commune_code: str
    commune_name: str
    postal_code: str
    social_factor: float
    environmental_factor: float
    weight: float
    id_style: int


# --------------------------------------------------------------------------------------------
# Small helpers


def _mix64(x: int) -> int:
    """splitmix64 finaliser: cheap, well-spread hash for per-contract planning draws."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


# ASCII digit -> its value, and -> the digit sum of its double: bytes.translate + sum() keep the
# Luhn computation in C (it runs for every supplier of every record).
_DIGIT = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))


def luhn_ok(value: str) -> bool:
    """True when ``value`` is all ASCII digits and passes the Luhn check (SIREN/SIRET)."""
    if not (value.isascii() and value.isdigit()):
        return False
    rev = value[::-1].encode()
    return (sum(rev[0::2].translate(_DIGIT)) + sum(rev[1::2].translate(_DOUBLED))) % 10 == 0


# Luhn contribution of a 4-digit block whose units digit sits at a doubled position: SIRETs of
# suppliers are then checked with integer arithmetic only (see ``_supplier_siret``).
_LUHN_BLOCK = [
    sum(
        (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)[d] if k % 2 == 0 else d
        for k, d in enumerate((x % 10, x // 10 % 10, x // 100 % 10, x // 1000))
    )
    for x in range(10_000)
]


def _supplier_siret(siren8: int, nic: int) -> str:
    """Luhn-valid SIRET from an 8-digit SIREN body and a 4-digit NIC body."""
    t = _LUHN_BLOCK
    siren = siren8 * 10 + (-(t[siren8 % 10_000] + t[siren8 // 10_000]) % 10)
    total = t[nic] + t[siren % 10_000] + t[siren // 10_000 % 10_000] + t[siren // 100_000_000]
    return f"{siren:09d}{nic:04d}{-total % 10}"


def _luhn_complete(prefix: str) -> str:
    """``prefix`` plus the digit that makes it pass the Luhn check."""
    rev = prefix[::-1].encode()
    total = sum(rev[0::2].translate(_DOUBLED)) + sum(rev[1::2].translate(_DIGIT))
    return prefix + str(-total % 10)


def _pick(cum: list[float], u: float) -> int:
    return bisect.bisect_right(cum, u * cum[-1])


def _cumulative(weights) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _round_amount(m: float, u: float) -> int | float:
    # Real amounts mix round figures, whole euros and cents.
    if u < 0.35:
        return int(round(m, -3)) or 1000
    if u < 0.6:
        return int(round(m))
    return round(m, 2)


# --------------------------------------------------------------------------------------------
# Reference data

# Population in thousands (INSEE, about 2021): weights buyers and contracts by département.
_DEPT_POP = {
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
_DEPT_MIN_SHARE = 0.0015


@lru_cache(maxsize=1)
def _reference() -> tuple[tuple, dict, dict]:
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


# --------------------------------------------------------------------------------------------
# Buyers

# kind, share of the pool, activity multiplier
_KINDS = (
    ("commune", 0.36, 1.0),
    ("departement", 0.015, 6.0),
    ("region", 0.005, 6.0),
    ("epci", 0.10, 2.0),
    ("syndicat", 0.06, 0.8),
    ("etablissement_local", 0.06, 0.8),
    ("hopital", 0.05, 3.0),
    ("etablissement_27_28", 0.04, 1.2),
    ("cree_apres_2000", 0.12, 1.5),
    ("etat", 0.09, 1.0),
    ("eple", 0.05, 0.5),
)
_KIND_CUM = _cumulative(k[1] for k in _KINDS)
# Paris hosts the ministries and national bodies.
_KIND_CUM_PARIS = _cumulative(
    k[1] * (6.0 if k[0] == "etat" else 0.3 if k[0] == "commune" else 1.0) for k in _KINDS
)
_COMMUNE_SERVICES = (
    "Services techniques",
    "Restauration scolaire",
    "Direction des sports",
    "Régie des eaux",
    "Direction de la culture",
)
_STATE_NAMES = (
    "Préfecture de {d}",
    "Direction départementale des territoires de {d}",
    "Direction départementale de l'emploi, du travail et des solidarités de {d}",
    "Université de {c}",
    "Tribunal judiciaire de {c}",
    "Centre des finances publiques de {c}",
)
_PARIS_STATE_NAMES = (
    "Ministère de l'Intérieur",
    "Ministère des Armées",
    "Ministère de la Transition écologique",
    "Ministère de l'Éducation nationale",
    "Direction des achats de l'État",
    "Ministère de la Justice",
)
_PEOPLE = (
    "Jules Ferry",
    "Jean Jaurès",
    "Louis Pasteur",
    "Victor Hugo",
    "Jacques Prévert",
    "Marie Curie",
    "Paul Bert",
    "Simone Veil",
    "Jean de La Fontaine",
    "Jean Moulin",
    "Albert Camus",
    "George Sand",
)


def _commune_insee_for_siren(code: str) -> str:
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


def _dept_digits(code: str) -> str:
    return "20" if code in ("2A", "2B") else code


@lru_cache(maxsize=2)
def _buyer_pool(size: int, seed: int) -> tuple[tuple[DemoBuyer, ...], list[float]]:
    depts, regions, communes = _reference()
    n = min(60_000, max(60, size // 40))
    cover = size >= 2000
    if cover:
        n = max(n, 150)
    pops = [_DEPT_POP.get(code, 200) for code, _, _ in depts]
    total_pop = sum(pops)
    base = 1 if cover else 0
    rest = n - base * len(depts)
    raw = [rest * p / total_pop for p in pops]
    quota = [base + int(r) for r in raw]
    order = sorted(range(len(depts)), key=lambda k: (-(raw[k] - int(raw[k])), k))
    for k in order[: n - sum(quota)]:
        quota[k] += 1

    rng = random.Random(_mix64((seed & 0xFFFFFFFF) * 7919 + 0xB0))
    used: set[str] = set()
    nic_counter: dict[str, int] = {}
    body_siren: dict[str | None, str] = {}
    rows = []  # (dept index, fields..., activity, social level, env level)

    def random_siren(prefix: str) -> str:
        while True:
            body = prefix + "".join(str(rng.randrange(10)) for _ in range(8 - len(prefix)))
            siren = _luhn_complete(body)
            if siren not in nic_counter:  # every SIREN handed out is in nic_counter
                return siren

    for k, (dcode, dname, rcode) in enumerate(depts):
        dlist = communes[dcode]
        dd = _dept_digits(dcode)
        for _ in range(quota[k]):
            kcum = _KIND_CUM_PARIS if dcode == "75" else _KIND_CUM
            kind, _, activity = _KINDS[_pick(kcum, rng.random())]
            ccode, cname, postal = rng.choice(dlist)
            # One SIREN per commune, département or région, buying through a few establishments;
            # the reference lists ~6 communes per département, so big pools get other bodies.
            body_key = (
                _commune_insee_for_siren(ccode)
                if kind == "commune"
                else "d" + dcode
                if kind == "departement"
                else "r" + rcode
                if kind == "region"
                else None
            )
            known = body_siren.get(body_key)
            if known and nic_counter[known] >= 4:
                kind = rng.choice(("etablissement_local", "epci", "cree_apres_2000"))
            if kind == "commune":
                insee = _commune_insee_for_siren(ccode)
                siren = body_siren.get(insee)
                if siren is None:
                    siren = body_siren[insee] = _luhn_complete(
                        "21" + insee + str(rng.randrange(10))
                    )
                town = "Paris" if insee == "75056" else cname
                name = f"Commune de {town}"
                if nic_counter.get(siren):
                    name += " - " + rng.choice(_COMMUNE_SERVICES)
            elif kind == "departement":
                siren = body_siren.get(body_key) or random_siren("22" + dd)
                body_siren[body_key] = siren
                name = f"Département - {dname}"
            elif kind == "region":
                siren = body_siren.get(body_key) or random_siren("23" + rcode[-2:])
                body_siren[body_key] = siren
                name = f"Région {regions.get(rcode, dname)}"
            elif kind == "epci":
                siren = random_siren("24" + dd)
                name = rng.choice(
                    (
                        "Communauté de communes de {c}",
                        "Communauté d'agglomération de {c}",
                        "Communauté urbaine de {c}",
                    )
                ).format(c=cname)
            elif kind == "syndicat":
                siren = random_siren("25" + dd)
                name = rng.choice(
                    (
                        "Syndicat intercommunal des eaux de {c}",
                        "SIVOM de {c}",
                        "Syndicat départemental d'énergie - {d}",
                    )
                ).format(c=cname, d=dname)
            elif kind == "etablissement_local":
                siren = random_siren("26" + dd)
                name = rng.choice(
                    ("CCAS de {c}", "Office public de l'habitat - {d}", "EHPAD de {c}")
                ).format(c=cname, d=dname)
            elif kind == "hopital":
                siren = random_siren("26" + dd)
                name = rng.choice(
                    (
                        "Centre hospitalier de {c}",
                        "Centre hospitalier intercommunal de {c}",
                        "Groupe hospitalier de territoire - {d}",
                    )
                ).format(c=cname, d=dname)
            elif kind == "etablissement_27_28":
                prefix = rng.choice(("27", "28"))
                siren = random_siren(prefix + dd)
                name = (
                    f"Service départemental d'incendie et de secours - {dname}"
                    if prefix == "28"
                    else f"Régie des transports de {cname}"
                )
            elif kind == "cree_apres_2000":
                siren = random_siren("200")
                name = rng.choice(
                    (
                        "Communauté de communes du Pays de {c}",
                        "Syndicat mixte {d} Numérique",
                        "Établissement public territorial de {c}",
                    )
                ).format(c=cname, d=dname)
            elif kind == "eple":
                siren = random_siren("19" + dd)
                name = rng.choice(("Lycée {p} - {c}", "Collège {p} - {c}")).format(
                    p=rng.choice(_PEOPLE), c=cname
                )
            else:  # etat
                siren = random_siren(rng.choice(("110", "130", "120", "180")))
                if dcode == "75" and rng.random() < 0.6:
                    name = rng.choice(_PARIS_STATE_NAMES)
                else:
                    name = rng.choice(_STATE_NAMES).format(d=dname, c=cname)
            seq = nic_counter.get(siren, 0) + 1 + (rng.randrange(3) if rng.random() < 0.2 else 0)
            nic_counter[siren] = seq
            siret = _luhn_complete(siren + f"{seq:04d}")
            if siret in used:  # pragma: no cover - NIC counters make this impossible
                continue
            used.add(siret)
            u = rng.random()
            level = 2.2 if u < 0.2 else 1.0 if u < 0.7 else 0.35
            level *= rng.uniform(0.75, 1.25)
            rows.append(
                (
                    k,
                    siret,
                    name,
                    kind,
                    dcode,
                    rcode,
                    ccode,
                    cname,
                    postal,
                    activity * rng.lognormvariate(0.0, 0.7),
                    level * rng.uniform(0.85, 1.15),
                    level * rng.uniform(0.85, 1.15),
                    rng.randrange(5),
                )
            )

    # Contract share per département = population share (with a floor), split among its buyers.
    act_by_dept: dict[int, float] = {}
    for r in rows:
        act_by_dept[r[0]] = act_by_dept.get(r[0], 0.0) + r[9]
    dshare = {k: max(pops[k] / total_pop, _DEPT_MIN_SHARE) for k in act_by_dept}
    norm = sum(dshare.values())
    weights = [dshare[r[0]] / norm * r[9] / act_by_dept[r[0]] for r in rows]
    # Rescale propensities so that the contract-weighted mean is exactly 1.
    mean_soc = sum(w * r[10] for w, r in zip(weights, rows, strict=True))
    mean_env = sum(w * r[11] for w, r in zip(weights, rows, strict=True))
    buyers = tuple(
        DemoBuyer(
            siret=r[1],
            name=r[2],
            kind=r[3],
            departement_code=r[4],
            region_code=r[5],
            commune_code=r[6],
            commune_name=r[7],
            postal_code=r[8],
            social_factor=r[10] / mean_soc,
            environmental_factor=r[11] / mean_env,
            weight=w,
            id_style=r[12],
        )
        for r, w in zip(rows, weights, strict=True)
    )
    return buyers, _cumulative(weights)


def demo_buyers(size: int, seed: int = 42) -> list[DemoBuyer]:
    """The buyer pool ``generate_demo(size=size, seed=seed)`` draws from (with département)."""
    _check_size(size)
    return list(_buyer_pool(size, seed)[0])


# --------------------------------------------------------------------------------------------
# Contract families: CPV, objects, and how often they carry considerations


@dataclass(frozen=True, slots=True)
class _Family:
    name: str
    market: str  # Travaux / Fournitures / Services
    weight: float
    items: tuple  # (object template, CPV or None when the lot gives it)
    lots: tuple  # (lot label, CPV)
    social: float  # relative propensity before normalisation
    environmental: float
    median: float
    sigma: float
    duration: tuple[int, int]
    ccag: tuple  # (value, weight)
    trade: tuple  # company name suffixes
    origin: bool = False  # origineUE / origineFrance are asked for food, vehicles, health goods


_CCAG_WORKS = (("Travaux", 0.9), ("Pas de CCAG", 0.1))
_CCAG_FCS = (("Fournitures courantes et services", 0.6), ("Pas de CCAG", 0.4))
_CCAG_IT = (
    ("Techniques de l'information et de la communication", 0.5),
    ("Fournitures courantes et services", 0.3),
    ("Pas de CCAG", 0.2),
)
_CCAG_PI = (("Prestations intellectuelles", 0.55), ("Maitrise d'œuvre", 0.25), ("Pas de CCAG", 0.2))

_FAMILIES = (
    _Family(
        "batiment",
        "Travaux",
        0.22,
        (
            ("Travaux de réhabilitation du groupe scolaire {p} - Lot {ln} : {lot}", None),
            ("Construction d'un gymnase à {c} - Lot {ln} : {lot}", None),
            ("Réhabilitation de {n} logements locatifs sociaux à {c} - Lot {ln} : {lot}", None),
            ("Rénovation énergétique de l'hôtel de ville de {c}", "45453000"),
            ("Extension et restructuration de {site}", "45210000"),
            ("Travaux de mise en accessibilité des bâtiments communaux", "45453000"),
            ("Construction d'une maison de santé pluriprofessionnelle à {c}", "45215100"),
            ("Remplacement des menuiseries extérieures de {site}", "45421000"),
            ("Chauffage, ventilation & climatisation de {site}", "45331000"),
            ("Construction d'un groupe scolaire à {c}", "45214200"),
        ),
        (
            ("Gros œuvre - maçonnerie", "45262500"),
            ("Charpente - couverture", "45261000"),
            ("Menuiseries extérieures", "45421000"),
            ("Plâtrerie - isolation", "45324000"),
            ("Électricité courants forts et faibles", "45310000"),
            ("Chauffage - ventilation - plomberie", "45331000"),
            ("Peinture", "45442100"),
            ("Revêtements de sols", "45432100"),
            ("Désamiantage", "45262660"),
            ("Démolition", "45111100"),
            ("VRD - aménagements extérieurs", "45233000"),
        ),
        1.5,
        1.4,
        220_000,
        1.2,
        (2, 24),
        _CCAG_WORKS,
        ("Bâtiment", "Construction", "BTP", "Menuiserie", "Électricité", "Charpente"),
    ),
    _Family(
        "voirie",
        "Travaux",
        0.13,
        (
            ("Travaux de voirie et réseaux divers {street} à {c}", "45233140"),
            ("Programme annuel d'entretien de la voirie communale {y}", "45233252"),
            ("Renouvellement du réseau d'eau potable {street}", "45232150"),
            ("Réhabilitation du réseau d'assainissement - secteur {street}", "45232410"),
            ("Aménagement d'un carrefour giratoire sur la RD {n}", "45233128"),
            ("Travaux d'entretien des routes départementales", "45233141"),
            ("Aménagement paysager du parc urbain de {c}", "45112710"),
            ("Création d'une piste cyclable entre {c} et {c2}", "45233162"),
            ("Enfouissement des réseaux secs {street}", "45231400"),
        ),
        (),
        1.4,
        1.1,
        260_000,
        1.2,
        (1, 24),
        _CCAG_WORKS,
        ("Travaux Publics", "TP", "Routes", "Réseaux", "Canalisations"),
    ),
    _Family(
        "informatique_fournitures",
        "Fournitures",
        0.04,
        (
            ("Acquisition de postes informatiques et périphériques", "30213000"),
            ("Fourniture d'ordinateurs portables pour les écoles de {c}", "30213100"),
            ("Acquisition de licences logicielles et maintenance associée", "48000000"),
            ("Fourniture de copieurs multifonctions et prestations de maintenance", "30121100"),
            ("Acquisition d'écrans numériques interactifs pour les écoles", "32322000"),
            ("Fourniture de serveurs et de matériel réseau", "48820000"),
        ),
        (),
        0.3,
        0.8,
        90_000,
        1.0,
        (1, 48),
        _CCAG_IT,
        ("Informatique", "Systèmes", "Digital", "Bureautique"),
    ),
    _Family(
        "vehicules",
        "Fournitures",
        0.03,
        (
            ("Acquisition de véhicules légers électriques", "34144900"),
            ("Fourniture d'une benne à ordures ménagères", "34144510"),
            ("Acquisition d'une balayeuse de voirie", "34144430"),
            ("Acquisition de véhicules utilitaires pour les services techniques", "34136000"),
            ("Fourniture d'un camion-citerne feux de forêts", "34144210"),
        ),
        (),
        0.4,
        1.4,
        120_000,
        0.9,
        (1, 12),
        _CCAG_FCS,
        ("Automobiles", "Poids Lourds", "Véhicules", "Équipements"),
    ),
    _Family(
        "mobilier_bureau",
        "Fournitures",
        0.03,
        (
            ("Fourniture de mobilier scolaire pour les écoles de {c}", "39160000"),
            ("Fourniture de fournitures de bureau et de papier", "30192000"),
            ("Acquisition de mobilier de bureau", "39130000"),
            ("Fourniture de livres et documents pour la médiathèque", "22110000"),
            ("Fourniture de matériel pédagogique", "39162000"),
        ),
        (),
        0.5,
        0.9,
        70_000,
        0.9,
        (12, 48),
        _CCAG_FCS,
        ("Bureau", "Mobilier", "Librairie", "Distribution"),
    ),
    _Family(
        "alimentaire",
        "Fournitures",
        0.05,
        (
            (
                "Denrées alimentaires pour la restauration scolaire - Lot {ln} : {lot}",
                None,
            ),
            ("Fourniture de produits laitiers bio et locaux", "15500000"),
            ("Fourniture de pain et viennoiseries", "15810000"),
        ),
        (
            ("Viandes fraîches", "15110000"),
            ("Fruits et légumes frais", "15300000"),
            ("Produits laitiers", "15500000"),
            ("Épicerie", "15800000"),
            ("Surgelés", "15896000"),
            ("Volailles", "15112000"),
            ("Produits issus de l'agriculture biologique", "15000000"),
        ),
        0.8,
        1.5,
        110_000,
        1.0,
        (12, 48),
        _CCAG_FCS,
        ("Alimentaire", "Primeurs", "Viandes", "Laiterie", "Boulangerie"),
        True,
    ),
    _Family(
        "energie",
        "Fournitures",
        0.03,
        (
            ("Fourniture et acheminement d'électricité pour les bâtiments communaux", "09310000"),
            ("Fourniture de gaz naturel et services associés", "09123000"),
            ("Fourniture de carburants pour la flotte de véhicules", "09134100"),
            ("Fourniture de granulés de bois pour la chaufferie", "09111400"),
        ),
        (),
        0.3,
        1.3,
        300_000,
        1.3,
        (12, 48),
        _CCAG_FCS,
        ("Énergies", "Énergie", "Carburants"),
    ),
    _Family(
        "sante",
        "Fournitures",
        0.04,
        (
            ("Fourniture de dispositifs médicaux stériles", "33140000"),
            ("Fourniture de produits de santé - Lot {ln} : {lot}", None),
            ("Acquisition d'un échographe", "33112200"),
            ("Fourniture de gants d'examen et d'équipements de protection", "18424300"),
        ),
        (
            ("Médicaments génériques", "33600000"),
            ("Réactifs de laboratoire", "33696500"),
            ("Pansements", "33141110"),
        ),
        0.4,
        0.5,
        150_000,
        1.3,
        (12, 48),
        _CCAG_FCS,
        ("Médical", "Pharma", "Santé"),
        True,
    ),
    _Family(
        "entretien_fournitures",
        "Fournitures",
        0.03,
        (
            ("Fourniture de produits d'entretien et d'hygiène", "39830000"),
            (
                "Fourniture de vêtements de travail et d'équipements de protection individuelle",
                "18100000",
            ),
            ("Fourniture de matériaux de construction pour les services techniques", "44110000"),
            ("Fourniture de sel de déneigement", "34927100"),
            ("Fourniture de végétaux pour les espaces verts", "03450000"),
        ),
        (),
        0.7,
        1.3,
        70_000,
        0.9,
        (12, 48),
        _CCAG_FCS,
        ("Hygiène", "Négoce", "Matériaux"),
    ),
    _Family(
        "nettoyage",
        "Services",
        0.05,
        (
            ("Nettoyage des locaux administratifs", "90919200"),
            ("Prestations de nettoyage des bâtiments communaux de {c}", "90911200"),
            ("Nettoyage des vitres et surfaces vitrées", "90911300"),
            ("Entretien ménager des écoles et équipements sportifs", "90919300"),
            ("Nettoyage des locaux de {site}", "90910000"),
        ),
        (),
        1.9,
        1.3,
        150_000,
        1.0,
        (12, 48),
        _CCAG_FCS,
        ("Propreté", "Nettoyage", "Services"),
    ),
    _Family(
        "espaces_verts",
        "Services",
        0.04,
        (
            ("Entretien des espaces verts de la commune de {c}", "77310000"),
            ("Élagage et abattage d'arbres", "77341000"),
            ("Fauchage et débroussaillage des accotements", "77312000"),
            ("Entretien des terrains de sport engazonnés", "77320000"),
            ("Tonte et entretien des espaces verts des résidences", "77314000"),
        ),
        (),
        1.8,
        1.4,
        110_000,
        0.9,
        (12, 48),
        _CCAG_FCS,
        ("Paysages", "Espaces Verts", "Jardins"),
    ),
    _Family(
        "dechets",
        "Services",
        0.03,
        (
            ("Collecte des ordures ménagères et assimilés", "90511000"),
            ("Exploitation des déchèteries du territoire", "90500000"),
            ("Transport et traitement des déchets verts", "90513000"),
            ("Collecte sélective des emballages et du verre", "90511000"),
            ("Balayage mécanisé des voiries", "90610000"),
        ),
        (),
        1.5,
        1.5,
        600_000,
        1.3,
        (12, 72),
        _CCAG_FCS,
        ("Environnement", "Recyclage", "Propreté"),
    ),
    _Family(
        "restauration",
        "Services",
        0.03,
        (
            (
                "Fourniture et livraison de repas en liaison froide pour la restauration scolaire",
                "55523100",
            ),
            ("Gestion et exploitation du restaurant administratif", "55510000"),
            ("Portage de repas à domicile pour les personnes âgées", "55521100"),
            ("Prestations de traiteur pour les réceptions", "55520000"),
        ),
        (),
        1.2,
        1.5,
        250_000,
        1.1,
        (12, 48),
        _CCAG_FCS,
        ("Restauration", "Traiteur", "Cuisine"),
    ),
    _Family(
        "informatique_services",
        "Services",
        0.04,
        (
            ("Maintenance et hébergement du logiciel de gestion financière", "72267000"),
            ("Tierce maintenance applicative du système d'information", "72267000"),
            ("Infogérance et support informatique des utilisateurs", "72510000"),
            ("Développement et maintenance du portail usagers", "72212000"),
            ("Hébergement et infogérance des serveurs", "72415000"),
            ("Prestations de cybersécurité et tests d'intrusion", "72000000"),
        ),
        (),
        0.4,
        0.5,
        120_000,
        1.1,
        (12, 48),
        _CCAG_IT,
        ("Informatique", "Consulting", "Data"),
    ),
    _Family(
        "prestations_intellectuelles",
        "Services",
        0.07,
        (
            ("Mission de maîtrise d'œuvre pour la réhabilitation de {site}", "71000000"),
            ("Assistance à maîtrise d'ouvrage pour {project}", "71541000"),
            ("Prestations d'assurances - Lot {ln} : {lot}", None),
            ("Mission de contrôle technique et de coordination SPS", "71317210"),
            ("Relevés topographiques et études géotechniques", "71351810"),
            ("Élaboration du plan local d'urbanisme intercommunal", "71410000"),
            ("Assistance juridique et représentation en justice", "79100000"),
            ("Étude et conseil en organisation des services", "79410000"),
        ),
        (
            ("Dommages aux biens", "66515200"),
            ("Responsabilité civile", "66516000"),
            ("Flotte automobile", "66514110"),
            ("Protection juridique", "66513100"),
        ),
        0.6,
        0.6,
        90_000,
        1.0,
        (6, 48),
        _CCAG_PI,
        ("Ingénierie", "Conseil", "Architectes", "Avocats"),
    ),
    _Family(
        "maintenance",
        "Services",
        0.05,
        (
            (
                "Maintenance des installations de chauffage, ventilation et climatisation",
                "50720000",
            ),
            ("Entretien et maintenance des ascenseurs", "50750000"),
            ("Vérification et maintenance des équipements de sécurité incendie", "50413200"),
            ("Entretien et réparation des véhicules du parc", "50110000"),
            ("Maintenance de l'éclairage public", "50232100"),
            ("Contrôles périodiques réglementaires des bâtiments", "71631000"),
        ),
        (),
        0.9,
        1.0,
        90_000,
        1.0,
        (12, 48),
        _CCAG_FCS,
        ("Maintenance", "Thermique", "Ascenseurs"),
    ),
    _Family(
        "transport",
        "Services",
        0.03,
        (
            ("Transport scolaire - circuits desservant {c}", "60130000"),
            ("Transport des élèves vers les équipements sportifs et culturels", "60130000"),
            ("Exploitation du réseau de transport urbain", "60112000"),
            ("Transport à la demande pour les personnes à mobilité réduite", "60100000"),
        ),
        (),
        0.8,
        1.0,
        250_000,
        1.1,
        (12, 72),
        _CCAG_FCS,
        ("Transports", "Voyages", "Autocars"),
    ),
    _Family(
        "securite",
        "Services",
        0.02,
        (
            ("Prestations de gardiennage et de surveillance des bâtiments", "79713000"),
            ("Télésurveillance et intervention sur alarme", "79711000"),
            ("Sécurité des manifestations culturelles et sportives", "79710000"),
        ),
        (),
        1.2,
        0.5,
        120_000,
        1.0,
        (12, 48),
        _CCAG_FCS,
        ("Sécurité", "Surveillance"),
    ),
    _Family(
        "insertion_formation",
        "Services",
        0.02,
        (
            ("Accompagnement socio-professionnel des bénéficiaires du RSA", "85312000"),
            ("Actions de formation professionnelle qualifiante", "80530000"),
            ("Prestations d'insertion sociale et professionnelle", "85320000"),
            ("Formation des agents aux premiers secours", "80500000"),
        ),
        (),
        2.0,
        0.4,
        100_000,
        1.0,
        (12, 48),
        _CCAG_FCS,
        ("Formation", "Insertion", "Solidarité"),
    ),
    _Family(
        "communication",
        "Services",
        0.01,
        (
            ("Impression du magazine municipal", "79810000"),
            ("Conception et impression des supports de communication", "79800000"),
            ("Prestations de communication et de relations presse", "79416000"),
        ),
        (),
        0.8,
        1.1,
        60_000,
        0.8,
        (12, 48),
        _CCAG_FCS,
        ("Imprimerie", "Communication"),
    ),
    _Family(
        "telecom_courrier",
        "Services",
        0.01,
        (
            ("Services de télécommunications fixes et mobiles", "64200000"),
            ("Accès internet et interconnexion des sites", "72400000"),
            ("Affranchissement et gestion du courrier", "64110000"),
        ),
        (),
        0.4,
        0.6,
        150_000,
        1.0,
        (24, 48),
        _CCAG_FCS,
        ("Télécom", "Réseaux"),
    ),
)
_FAMILY_CUM = _cumulative(f.weight for f in _FAMILIES)
# Normalise the relative propensities so that their contract-weighted mean is 1: the overall
# shares stay on target while cleaning or works carry clauses far more often than IT.
_SOC_NORM = sum(f.weight * f.social for f in _FAMILIES) / _FAMILY_CUM[-1]
_ENV_NORM = sum(f.weight * f.environmental for f in _FAMILIES) / _FAMILY_CUM[-1]
_FAMILY_SOC = tuple(f.social / _SOC_NORM for f in _FAMILIES)
_FAMILY_ENV = tuple(f.environmental / _ENV_NORM for f in _FAMILIES)
_FAMILY_CCAG = tuple(
    (tuple(v for v, _ in f.ccag), _cumulative(w for _, w in f.ccag)) for f in _FAMILIES
)

_SITES = (
    "groupe scolaire Jules Ferry",
    "école maternelle Les Tilleuls",
    "collège Jean Moulin",
    "gymnase municipal",
    "salle polyvalente",
    "hôtel de ville",
    "la médiathèque",
    "centre technique municipal",
    "piscine intercommunale",
    "EHPAD Les Glycines",
    "crèche municipale",
    "centre social",
    "stade municipal",
    "salle des fêtes",
)
_STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "chemin des Vignes",
    "boulevard Gambetta",
    "place de l'Église",
    "rue Pasteur",
    "avenue du Général de Gaulle",
    "rue des Écoles",
    "route de la Gare",
)
_PROJECTS = (
    "la construction d'un pôle petite enfance",
    "la rénovation de la piscine",
    "le schéma directeur immobilier",
    "la restructuration du centre-bourg",
    "la création d'une chaufferie biomasse",
)
_COMPANY_FORMS = ("SAS", "SARL", "SA", "EURL", "Ets", "Groupe", "")
_SURNAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
)

_CONCESSIONS = (
    (
        "Délégation de service public pour l'exploitation du centre aquatique de {c}",
        "Délégation de service public",
    ),
    ("Exploitation du service public d'assainissement collectif", "Délégation de service public"),
    ("Gestion et exploitation du camping municipal de {c}", "Délégation de service public"),
    ("Exploitation du réseau de chaleur urbain", "Délégation de service public"),
    ("Concession de service pour la gestion de la fourrière automobile", "Concession de service"),
    ("Gestion des marchés forains de {c}", "Concession de service"),
    ("Exploitation du mobilier urbain publicitaire", "Concession de service"),
    (
        "Concession de travaux pour la construction et l'exploitation d'un parking souterrain",
        "Concession de travaux",
    ),
    ("Concession d'aménagement de la ZAC du centre-bourg de {c}", "Concession de travaux"),
)
_OPERATOR_TRADES = ("Exploitation", "Services Publics", "Aménagement", "Loisirs", "Eau")
_CONCESSION_PROCEDURES = (
    ("Procédure négociée ouverte", 0.8),
    ("Procédure non négociée ouverte", 0.1),
    ("Procédure négociée restreinte", 0.1),
)

_CONCESSION_PROC_CUM = _cumulative(w for _, w in _CONCESSION_PROCEDURES)
_PROCEDURES_ABOVE = (
    ("Appel d'offres ouvert", 0.75),
    ("Appel d'offres restreint", 0.08),
    ("Procédure avec négociation", 0.10),
    ("Dialogue compétitif", 0.02),
    ("Marché passé sans publicité ni mise en concurrence préalable", 0.05),
)
_PROCEDURES_BELOW = (
    ("Procédure adaptée", 0.88),
    ("Appel d'offres ouvert", 0.06),
    ("Marché passé sans publicité ni mise en concurrence préalable", 0.05),
    ("Procédure avec négociation", 0.01),
)
_PROC_ABOVE = (tuple(p for p, _ in _PROCEDURES_ABOVE), _cumulative(w for _, w in _PROCEDURES_ABOVE))
_PROC_BELOW = (tuple(p for p, _ in _PROCEDURES_BELOW), _cumulative(w for _, w in _PROCEDURES_BELOW))
_TYPES_PRIX = ("Définitif révisable", "Définitif ferme", "Définitif actualisable", "Provisoire")
_TYPES_PRIX_CUM = _cumulative((0.5, 0.25, 0.23, 0.02))
_SOCIAL_SETS = (
    ("Clause sociale",),
    ("Critère social",),
    ("Marché réservé",),
    ("Critère social", "Clause sociale"),
    ("Clause sociale", "Marché réservé"),
    ("Critère social", "Marché réservé"),
)
_SOCIAL_SETS_CUM = _cumulative((0.42, 0.22, 0.10, 0.20, 0.03, 0.03))
_ENV_SETS = (
    ("Clause environnementale",),
    ("Critère environnemental",),
    ("Critère environnemental", "Clause environnementale"),
)
_ENV_SETS_CUM = _cumulative((0.3, 0.4, 0.3))
# Wrapped sub-objects that no later step mutates (faults replace them whole) are shared.
_SOC_WRAPPED = tuple({"considerationSociale": list(v)} for v in _SOCIAL_SETS)
_SOC_NONE = {"considerationSociale": [NO_SOCIAL]}
_ENV_WRAPPED = tuple({"considerationEnvironnementale": list(v)} for v in _ENV_SETS)
_ENV_NONE = {"considerationEnvironnementale": [NO_ENVIRONMENTAL]}
_TYPES_PRIX_WRAPPED = tuple({"typePrix": [v]} for v in _TYPES_PRIX)
_COUNTRIES = (
    "99101",
    "99109",
    "99110",
    "99112",
    "99122",
    "99127",
    "99131",
    "99132",
    "99134",
    "99136",
    "99139",
    "99140",
    "99404",
)
_TVA_PREFIXES = ("BE0", "DE", "IT", "ES", "LU", "NL")
_ID_CODES = {"Travaux": "TRA", "Fournitures": "FCS", "Services": "SRV"}

_FAULTS_COMMON = (
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
_FAULTS_2019 = tuple(f for f in _FAULTS_COMMON if f != "consideration")
_FAULTS_PARQUET = tuple(f for f in _FAULTS_COMMON if f not in ("date_tz", "number_string"))


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(
            f"size must be an integer number of contracts between {MIN_SIZE:,} and {MAX_SIZE:,}"
            f" (got {size!r})".replace(",", " ")
        )


# --------------------------------------------------------------------------------------------
# Generator


class _Generator:
    """Plans and builds the records of one run; holds no per-contract state."""

    def __init__(self, size: int, seed: int, shape: str, fault_rate: float, start: date, end: date):
        self.size, self.seed, self.shape, self.fault_rate = size, seed, shape, fault_rate
        self.buyers, self.buyer_cum = _buyer_pool(size, seed)
        self.buyer_total = self.buyer_cum[-1]
        self.key0 = (seed & 0xFFFFFFFF) << 32
        self.offset = (_mix64(self.key0 ^ 0x5EED) >> 11) / float(1 << 53)
        self.start_ord = start.toordinal()
        cum, soc, env = [], [], []
        total = 0.0
        for k in range((end - start).days + 1):
            day = start + timedelta(days=k)
            wd = day.weekday()
            w = 1.0 if wd < 5 else 0.05 if wd == 5 else 0.015
            if day.month == 8:
                w *= 0.55
            elif day.month == 12:
                w *= 1.3 if day.day <= 20 else 0.4
            total += w
            cum.append(total)
            t = max(0.0, (day.toordinal() - _RAMP_START) / (_RAMP_END - _RAMP_START))
            soc.append(min(0.6, SOCIAL_2024 + (SOCIAL_MID_2026 - SOCIAL_2024) * t))
            env.append(
                min(0.8, ENVIRONMENTAL_2024 + (ENVIRONMENTAL_MID_2026 - ENVIRONMENTAL_2024) * t)
            )
        self.cal_cum, self.cal_total, self.soc_base, self.env_base = cum, total, soc, env
        self.iso_cache: dict[int, str] = {}
        # Supplier pools per family, plus one of concession operators (last index).
        self.companies = [max(20, int(size * f.weight / 4)) for f in _FAMILIES] + [
            max(20, size // 400)
        ]
        self.counters: dict[int, list[int]] = {}
        self.rng = random.Random()  # re-seeded per record: cheaper than a new instance
        self.with_names = shape in ("decp2019_json", "decp_processing_parquet")
        self.communes = _reference()[2]
        self.faults = (
            _FAULTS_2019
            if shape == "decp2019_json"
            else _FAULTS_PARQUET
            if shape == "decp_processing_parquet"
            else _FAULTS_COMMON
        )

    # -- planning ------------------------------------------------------------------------------

    def iso(self, ordinal: int) -> str:
        s = self.iso_cache.get(ordinal)
        if s is None:
            s = self.iso_cache[ordinal] = date.fromordinal(ordinal).isoformat()
        return s

    def plan(self, i: int) -> tuple:
        """Publication schedule of contract ``i``, from cheap hashes (no RNG seeding).

        (notification, first publication, buyer index, concession?, modification dates,
        day of the first file, republication days), all days as ordinals.
        """
        day_idx = bisect.bisect_left(self.cal_cum, (i + 0.5) * self.cal_total / self.size)
        notif = self.start_ord + day_idx
        frac = (self.offset + i * _GOLDEN) % 1.0
        buyer = min(
            bisect.bisect_right(self.buyer_cum, frac * self.buyer_total), len(self.buyers) - 1
        )
        k = (self.key0 + i) << 8  # salts 1-3 here, 10+ in ``_unit``: separate hash domains
        h1, h2, h3 = _mix64(k | 1), _mix64(k | 2), _mix64(k | 3)
        is_conc = (h1 & 0xFFFF) < CONCESSION_RATE * 65536
        u = ((h1 >> 16) & 0xFFFF) / 65536.0
        delay = (
            int(u / 0.45 * 8)
            if u < 0.45
            else 8 + int((u - 0.45) / 0.4 * 23)
            if u < 0.85
            else 31 + int((u - 0.85) / 0.15 * 30)
        )
        pub = notif + delay
        mods: tuple = ()
        last = pub
        if not is_conc and ((h1 >> 32) & 0xFFFF) < MODIFICATION_RATE * 65536:
            m1 = notif + 15 + (h2 & 0xFFFF) % 166
            p1 = m1 + ((h2 >> 16) & 0xFFFF) % 11
            if ((h1 >> 48) & 0xFFFF) < 0.3 * 65536:
                m2 = m1 + 15 + ((h2 >> 32) & 0xFFFF) % 106
                p2 = m2 + ((h2 >> 48) & 0xFFFF) % 11
                mods = ((m1, p1), (m2, p2))
                last = max(pub, p2)
            else:
                mods = ((m1, p1),)
                last = max(pub, p1)
        repubs: tuple = ()
        if (h3 & 0xFFFF) < REPUBLICATION_RATE * 65536:
            r1 = last + 1 + ((h3 >> 16) & 0xFFFF) % 45
            if ((h3 >> 32) & 0xFFFF) < 0.15 * 65536:
                repubs = (r1, r1 + 1 + ((h3 >> 48) & 0xFFFF) % 45)
            else:
                repubs = (r1,)
        return notif, pub, buyer, is_conc, mods, last, repubs

    def next_seq(self, buyer: int, year: int) -> int:
        c = self.counters.get(buyer)
        if c is None or c[0] != year:
            # Numbering does not always start at 1 (consultations without award, other series).
            start = (_mix64(self.key0 ^ (buyer << 20) ^ year) % 40) if buyer % 3 else 0
            c = self.counters[buyer] = [year, start]
        c[1] += 1
        return c[1]

    def _unit(self, i: int, salt: int) -> float:
        return (_mix64(((self.key0 + i) << 8) | salt) >> 11) / float(1 << 53)

    # -- building -------------------------------------------------------------------------------

    def _titulaire(self, rng: random.Random, fam_idx: int) -> tuple[str, str, str]:
        """(typeIdentifiant, id, name) of a company drawn from the family's supplier pool."""
        n = self.companies[fam_idx]
        u = rng.random()
        c = int(n * u * u)  # a few suppliers win many contracts
        h = _mix64((self.key0 ^ 0xC0FFEE) + fam_idx * 10_000_019 + c)
        if self.with_names:
            trade = _FAMILIES[fam_idx].trade if fam_idx < len(_FAMILIES) else _OPERATOR_TRADES
            name = (
                f"{_COMPANY_FORMS[h % 7]} {_SURNAMES[(h >> 3) % 32]} {trade[(h >> 8) % len(trade)]}"
            )
            name = name.lstrip()
        else:
            name = ""  # only the 2019 and parquet shapes carry supplier names
        kind = (h >> 56) & 0xFF
        if kind < 4:  # ~1.5 %: EU company
            pre = _TVA_PREFIXES[(h >> 12) % len(_TVA_PREFIXES)]
            return "TVA", f"{pre}{(h >> 16) % 10**9:09d}", name + " GmbH" * (pre == "DE")
        if kind < 5:  # ~0.4 %: outside the EU
            return "HORS-UE", f"CHE{(h >> 16) % 10**9:09d}", name + " AG"
        siren8 = (3 + (h >> 12) % 7) * 10_000_000 + (h >> 16) % 10_000_000
        return "SIRET", _supplier_siret(siren8, 1 + (h >> 40) % 90), name

    def build(self, i: int, plan: tuple, seq: int) -> tuple[dict, dict]:
        """Canonical record (DECP 2022 wrapped JSON shape) and side facts for other shapes."""
        notif, pub, bidx, is_conc, mods, _, _ = plan
        buyer = self.buyers[bidx]
        rng = self.rng
        rng.seed(self.key0 + i)
        rnd = rng.random
        notif_s = self.iso(notif)
        year = int(notif_s[:4])
        day_idx = notif - self.start_ord
        bsoc, benv = buyer.social_factor, buyer.environmental_factor
        if is_conc:
            return self._build_concession(rng, buyer, notif, pub, year, seq, bsoc, benv, day_idx)

        fi = _pick(_FAMILY_CUM, rnd())
        fam = _FAMILIES[fi]
        template, cpv = fam.items[int(rnd() * len(fam.items))]
        communes = self.communes[buyer.departement_code]
        other = communes[int(rnd() * len(communes))]
        lot = fam.lots[int(rnd() * len(fam.lots))] if fam.lots else ("", None)
        if "{" in template:
            objet = template.format(
                c=buyer.commune_name,
                c2=other[1],
                p=_PEOPLE[int(rnd() * len(_PEOPLE))],
                site=_SITES[int(rnd() * len(_SITES))],
                street=_STREETS[int(rnd() * len(_STREETS))],
                y=year,
                n=int(rnd() * 120) + 4,
                ln=int(rnd() * 8) + 1,
                lot=lot[0],
                project=_PROJECTS[int(rnd() * len(_PROJECTS))],
            )
        else:
            objet = template
        if cpv is None:
            cpv = lot[1]

        # Nature and purchasing technique.
        u = rnd()
        techniques, modalites = ["Sans objet"], ["Sans objet"]
        id_accord = None
        nature = "Marché"
        is_ac = False
        if u < 0.70:
            if rnd() < 0.05:
                modalites = ["Tranches"]
        elif u < 0.84:
            is_ac = True
            nature = "Accord-cadre" if rnd() < 0.4 else "Marché"
            techniques = ["Accord-cadre"]
            modalites = ["Bons de commande"] if rnd() < 0.8 else ["Marchés subséquents"]
        elif u < 0.985:
            nature = "Marché subséquent" if rnd() < 0.5 else "Marché"
            techniques = ["Accord-cadre"]
            modalites = ["Marchés subséquents"]
            id_accord = f"{year - 1 - int(rnd() * 2)}-AC{int(rnd() * 60) + 1:03d}"
        elif buyer.kind == "etat":
            nature = "Marché de défense ou de sécurité"
        if rnd() < 0.03:
            techniques = [
                ("Catalogue électronique", "Système d'acquisition dynamique", "Concours")[
                    int(rnd() * 3)
                ]
            ]

        # Amount: log-normal above the 40 000 EUR publication threshold.
        m = fam.median * math.exp(fam.sigma * rng.gauss(0.0, 1.0))
        if rnd() < 0.02:
            m = 4000 + rnd() * 36000  # some buyers publish below the threshold anyway
        elif m < 40_000:
            m = 40_000 + rnd() * fam.median * 0.5
        if is_ac and rnd() < 0.2:
            m *= 10 + rnd() * 50  # accord-cadre ceiling
        montant = _round_amount(m, rnd())
        threshold = (
            5_538_000 if fam.market == "Travaux" else 143_000 if buyer.kind == "etat" else 221_000
        )
        procs, pcum = _PROC_ABOVE if m >= threshold else _PROC_BELOW
        procedure = procs[_pick(pcum, rnd())]

        lo, hi = fam.duration
        duree = int(lo + rnd() * (hi - lo + 1)) if not is_ac else 12 * (1 + int(rnd() * 4))

        # Place of execution: usually the buyer's own commune or département.
        u = rnd()
        lieu_nom = buyer.commune_name
        if u < 0.80:
            lieu = {
                "code": buyer.postal_code if rnd() < 0.7 else other[2],
                "typeCode": "Code postal",
            }
        elif u < 0.95:
            lieu = {"code": buyer.departement_code, "typeCode": "Code département"}
            lieu_nom = ""
        elif u < 0.975:
            lieu = {"code": buyer.commune_code, "typeCode": "Code commune"}
        elif u < 0.993 or buyer.kind != "etat":
            # Real files often put a département number under "Code région".
            code = buyer.region_code if rnd() < 0.6 else buyer.departement_code
            lieu = {"code": code, "typeCode": "Code région"}
            lieu_nom = ""
        else:
            lieu = {"code": _COUNTRIES[int(rnd() * len(_COUNTRIES))], "typeCode": "Code pays"}
            lieu_nom = ""

        # Titulaires.
        u = rnd()
        n_tit = 1 if u < 0.88 else 2 if u < 0.94 else 3
        titulaires = [self._titulaire(rng, fi) for _ in range(n_tit)]
        groupement = (
            "Pas de groupement" if n_tit == 1 else ("Conjoint" if rnd() < 0.6 else "Solidaire")
        )

        # Considerations: target rate x buyer propensity x family propensity.
        p_soc = min(0.95, self.soc_base[day_idx] * bsoc * _FAMILY_SOC[fi])
        p_env = min(0.95, self.env_base[day_idx] * benv * _FAMILY_ENV[fi])
        soc = _SOC_WRAPPED[_pick(_SOCIAL_SETS_CUM, rnd())] if rnd() < p_soc else _SOC_NONE
        env = _ENV_WRAPPED[_pick(_ENV_SETS_CUM, rnd())] if rnd() < p_env else _ENV_NONE

        avance = rnd() < 0.3
        ccag_values, ccag_cum = _FAMILY_CCAG[fi]
        rec = {
            "id": self._contract_id(buyer, year, seq, fam.market, rnd),
            "acheteur": {"id": buyer.siret},
            "nature": nature,
            "objet": objet,
            "codeCPV": cpv,
            "procedure": procedure,
            "lieuExecution": lieu,
            "dureeMois": duree,
            "dateNotification": notif_s,
            "datePublicationDonnees": self.iso(pub),
            "montant": montant,
            "formePrix": (
                "Unitaire"
                if modalites[0] == "Bons de commande" or rnd() < 0.3
                else "Forfaitaire"
                if rnd() < 0.9
                else "Mixte"
            ),
            "attributionAvance": avance,
            "offresRecues": 1 + int(rnd() * rnd() * 12),
        }
        if avance and rnd() < 0.6:
            rec["tauxAvance"] = (0.05, 0.1, 0.2, 0.3)[int(rnd() * 4)]
        rec["marcheInnovant"] = rnd() < 0.01
        rec["ccag"] = ccag_values[_pick(ccag_cum, rnd())]
        sous_traitance = rnd() < 0.1
        rec["sousTraitanceDeclaree"] = sous_traitance
        rec["typeGroupementOperateurs"] = groupement
        if id_accord:
            rec["idAccordCadre"] = id_accord
        if fam.origin and rnd() < 0.5:
            rec["origineUE"] = round(rnd(), 2)
            rec["origineFrance"] = round(rec["origineUE"] * rnd(), 2)
        rec["titulaires"] = [
            {"titulaire": {"typeIdentifiant": t, "id": tid}} for t, tid, _ in titulaires
        ]
        rec["considerationsSociales"] = soc
        rec["considerationsEnvironnementales"] = env
        rec["modalitesExecution"] = {"modaliteExecution": modalites}
        rec["techniques"] = {"technique": techniques}
        rec["typesPrix"] = _TYPES_PRIX_WRAPPED[_pick(_TYPES_PRIX_CUM, rnd())]
        if sous_traitance and rnd() < 0.5:
            st = self._titulaire(rng, fi)
            rec["actesSousTraitance"] = [
                {
                    "acteSousTraitance": {
                        "id": 1,
                        "sousTraitant": {"typeIdentifiant": st[0], "id": st[1]},
                        "dureeMois": max(1, duree // 2),
                        "dateNotification": notif_s,
                        "montant": _round_amount(m * (0.05 + rnd() * 0.2), rnd()),
                        "variationPrix": ("Ferme", "Actualisable", "Révisable")[int(rnd() * 3)],
                        "datePublicationDonnees": self.iso(pub),
                    }
                }
            ]
        if mods:
            current_m, current_d = m, duree
            out = []
            for k, (mdate, mpub) in enumerate(mods, 1):
                mod: dict = {"dateNotificationModification": self.iso(mdate)}
                u = rnd()
                if u < 0.75:
                    current_m *= 1.02 + rnd() * 0.13
                    mod["montant"] = _round_amount(current_m, rnd())
                if u > 0.5:
                    current_d += 1 + int(rnd() * 12)
                    mod["dureeMois"] = current_d
                mod["id"] = k
                mod["datePublicationDonneesModification"] = self.iso(mpub)
                out.append({"modification": mod})
            rec["modifications"] = out
        ctx = {
            "buyer": buyer,
            "titulaires": titulaires,
            "lieu_nom": lieu_nom,
            "market": fam.market,
        }
        return rec, ctx

    def _contract_id(self, buyer: DemoBuyer, year: int, seq: int, market: str, rnd) -> str:
        yy = year % 100
        style = buyer.id_style
        if style == 0:
            return f"{year}-{seq:04d}-{int(rnd() * 5):02d}"
        if style == 1:
            return f"{yy:02d}S{seq:04d}"
        if style == 2:
            return f"{yy:02d}-{seq:03d}"
        if style == 3:
            return f"{year}{seq:05d}{market[0]}"
        return f"{yy:02d}{_ID_CODES[market]}{seq:03d}"

    def _build_concession(self, rng, buyer, notif, pub, year, seq, bsoc, benv, day_idx):
        rnd = rng.random
        template, nature = _CONCESSIONS[int(rnd() * len(_CONCESSIONS))]
        if rnd() < 0.1 and nature == "Délégation de service public":
            nature = "Concession de service public"
        procedure = _CONCESSION_PROCEDURES[_pick(_CONCESSION_PROC_CUM, rnd())][0]
        p_soc = min(0.95, self.soc_base[day_idx] * bsoc)
        p_env = min(0.95, self.env_base[day_idx] * benv)
        if rnd() < p_soc:
            soc = [
                ("Concession réservée" if v == "Marché réservé" else v)
                for v in _SOCIAL_SETS[_pick(_SOCIAL_SETS_CUM, rnd())]
            ]
        else:
            soc = [NO_SOCIAL]
        env = list(_ENV_SETS[_pick(_ENV_SETS_CUM, rnd())]) if rnd() < p_env else [NO_ENVIRONMENTAL]
        valeur = 2_000_000 * math.exp(1.4 * rng.gauss(0.0, 1.0))
        n_conc = 1 if rnd() < 0.9 else 2
        concessionnaires = [self._titulaire(rng, len(_FAMILIES)) for _ in range(n_conc)]
        rec = {
            "id": self._contract_id(buyer, year, seq, "Services", rnd),
            "autoriteConcedante": {"id": buyer.siret},
            "nature": nature,
            "objet": template.format(c=buyer.commune_name),
            "procedure": procedure,
            "dureeMois": 12 * (3 + int(rnd() * 23)),
            "dateSignature": self.iso(notif),
            "datePublicationDonnees": self.iso(pub),
            "dateDebutExecution": self.iso(notif + int(rnd() * 90)),
            "valeurGlobale": _round_amount(valeur, rnd()),
            "montantSubventionPublique": 0
            if rnd() < 0.7
            else _round_amount(valeur * rnd() * 0.2, 0.0),
            "donneesExecution": [],
            "concessionnaires": [
                {"concessionnaire": {"typeIdentifiant": t, "id": tid}}
                for t, tid, _ in concessionnaires
            ],
            "considerationsSociales": {"considerationSociale": soc},
            "considerationsEnvironnementales": {"considerationEnvironnementale": env},
        }
        ctx = {
            "buyer": buyer,
            "titulaires": concessionnaires,
            "lieu_nom": buyer.commune_name,
            "market": "Services",
        }
        return rec, ctx

    def test_record(self, day: int) -> tuple[dict, dict]:
        """The platform test record real feeds contain (buyer 44090956200033, 'Testville')."""
        d = self.iso(day)
        rec = {
            "id": f"{d[:4]}00015F",
            "acheteur": {"id": TEST_BUYER_SIRET},
            "nature": "Marché",
            "objet": "TEST - Ville de Testville - Véhicules de fonction (ne pas traiter)",
            "codeCPV": "34110000",
            "procedure": "Appel d'offres ouvert",
            "lieuExecution": {"code": "94", "typeCode": "Code département"},
            "dureeMois": 12,
            "dateNotification": d,
            "datePublicationDonnees": d,
            "montant": 0.0,
            "formePrix": "Unitaire",
            "attributionAvance": False,
            "offresRecues": 1,
            "marcheInnovant": False,
            "ccag": "Fournitures courantes et services",
            "sousTraitanceDeclaree": False,
            "typeGroupementOperateurs": "Pas de groupement",
            "titulaires": [{"titulaire": {"typeIdentifiant": "SIRET", "id": "44090956200041"}}],
            "considerationsSociales": {"considerationSociale": ["Marché réservé"]},
            "considerationsEnvironnementales": {
                "considerationEnvironnementale": ["Clause environnementale"]
            },
            "modalitesExecution": {"modaliteExecution": ["Sans objet"]},
            "techniques": {"technique": ["Sans objet"]},
            "typesPrix": {"typePrix": ["Définitif actualisable"]},
        }
        buyer = DemoBuyer(
            TEST_BUYER_SIRET,
            "Ville de Testville",
            "test",
            "94",
            "11",
            "94028",
            "Créteil",
            "94000",
            1.0,
            1.0,
            0.0,
            0,
        )
        ctx = {
            "buyer": buyer,
            "titulaires": [("SIRET", "44090956200041", "Société de test")],
            "lieu_nom": "",
            "market": "Fournitures",
        }
        return rec, ctx

    # -- variants and faults --------------------------------------------------------------------

    def republish(self, i: int, rec: dict, variant: int, day: int, previous_day: int) -> None:
        """Turn the initial record into its republication ``variant`` published on ``day``."""
        rec["datePublicationDonnees"] = self.iso(day)
        u = self._unit(i, 10 + variant)
        amount_key = "valeurGlobale" if "valeurGlobale" in rec else "montant"
        if u < 0.3:
            # Same contract, slightly different amount, no modification: platforms disagree.
            factor = 1.0 + (self._unit(i, 20 + variant) - 0.5) * 0.1
            rec[amount_key] = round(float(rec[amount_key]) * factor, 2)
        elif u < 0.5 and "acheteur" in rec:
            mods = rec.setdefault("modifications", [])
            gap = max(1, day - previous_day)
            mdate = day - int(self._unit(i, 30 + variant) * min(gap, 20))
            amounts = [m["modification"]["montant"] for m in mods if "montant" in m["modification"]]
            base = amounts[-1] if amounts else rec["montant"]
            mods.append(
                {
                    "modification": {
                        "dateNotificationModification": self.iso(mdate),
                        "montant": round(float(base) * 1.05, 2),
                        "id": len(mods) + 1,
                        "datePublicationDonneesModification": self.iso(day),
                    }
                }
            )

    def apply_fault(self, i: int, variant: int, rec: dict, ctx: dict) -> bool:
        """Maybe give this record one of the defects of real files; True when it got one."""
        if self.fault_rate <= 0 or self._unit(i, 40 + variant) >= self.fault_rate:
            return False
        kind = self.faults[int(self._unit(i, 50 + variant) * len(self.faults))]
        v = self._unit(i, 60 + variant)
        is_marche = "acheteur" in rec
        date_key = "dateNotification" if is_marche else "dateSignature"
        amount_key = "montant" if is_marche else "valeurGlobale"
        d = rec[date_key]
        if kind == "date_tz":
            tz = "+02:00" if "04" <= d[5:7] <= "10" else "+01:00"
            rec[date_key] = d + tz
            rec["datePublicationDonnees"] += tz
        elif kind == "date_typo":
            rec[date_key] = ("0" if v < 0.5 else "5") + d[1:]
        elif kind == "date_0001":
            rec[date_key] = "0001-01-01"
        elif kind == "date_future":
            y = int(d[:4]) + 3 + int(v * 4)
            rec[date_key] = f"{y}{d[4:8]}{min(int(d[8:10]), 28):02d}"
        elif kind == "amount_placeholder":
            rec[amount_key] = (0, 1, 99999999999.99, -abs(rec[amount_key]) or -1)[int(v * 4)]
        elif kind == "siret":
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
                lost = _luhn_complete(_luhn_complete("0" + s[2:9]) + "0001")
                rec[key][0][inner] = {"typeIdentifiant": "SIRET", "id": lost.lstrip("0")}
        elif kind == "enum":
            sub = int(v * 3)
            lieu = rec.get("lieuExecution")
            if sub == 0 and lieu and lieu["typeCode"] == "Code postal":
                lieu["typeCode"] = "CODE POSTAL" if v < 0.15 else "Code Postal"
            elif sub <= 1:
                rec["nature"] = rec["nature"].lower() if is_marche else rec["nature"].upper()
            else:
                p = rec["procedure"]
                rec["procedure"] = (
                    "Procedure adaptee"
                    if p == "Procédure adaptée"
                    else p.replace("'", "’")
                    if "'" in p
                    else p.upper()
                )
        elif kind == "number_string":
            text = f"{float(rec[amount_key]):.2f}"
            # In XML every value is text already: the real-world variant is the decimal comma.
            rec[amount_key] = text.replace(".", ",") if self.shape == "decp2022_xml" else text
        elif kind == "consideration":
            key, inner = (
                ("considerationsSociales", "considerationSociale")
                if v < 0.5
                else ("considerationsEnvironnementales", "considerationEnvironnementale")
            )
            sub = int(self._unit(i, 70 + variant) * 3)
            if sub == 0:
                vals = rec[key][inner]
                rec[key] = {inner: [vals[0].lower() + " "] + vals[1:]}
            elif sub == 1:
                rec[key] = {inner: ["NC"]}
            else:
                del rec[key]
        return True


# --------------------------------------------------------------------------------------------
# Shape writers

# Records are trees (no cycles): skipping the circular-reference bookkeeping saves ~15 %.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _unwrap(value) -> list:
    """Plain list out of a wrapped 2022 list ({"x": [...]}) or a list of {"x": {...}}."""
    if isinstance(value, dict):
        return next(iter(value.values()))
    return [next(iter(item.values())) for item in value]


class _Sink:
    """One output file open at a time; records arrive in publication-day order, so a new key
    (day or month) closes the previous file for good."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.files: list[Path] = []
        self.handle = None
        self.key: str | None = None

    def _open(self, name: str, head: str) -> None:
        path = self.out_dir / name
        self.files.append(path)
        self.handle = open(path, "w", encoding="utf-8", newline="\n", buffering=WRITE_BUFFER)
        self.handle.write(head)
        self.first = True

    def close(self) -> None:
        if self.handle is not None:
            self._finish()
            self.handle.close()
            self.handle = None

    def _finish(self) -> None:
        raise NotImplementedError

    def _switch(self, key: str) -> None:
        if key != self.key:
            self.close()
            self.key = key
            self._start(key)

    def _start(self, key: str) -> None:
        raise NotImplementedError

    def _write_item(self, text: str) -> None:
        if self.first:
            self.handle.write("\n" + text)
            self.first = False
        else:
            self.handle.write(",\n" + text)


class _Daily2022Sink(_Sink):
    """decp-2022_YYYY-MM-DD.json: the wrapped 2022 shape of the daily publications."""

    def _start(self, key: str) -> None:
        self._open(f"decp-2022_{key}.json", '{"marches":{"marche":[')
        self.concessions: list[str] = []  # bounded by one day's concessions

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso)
        if "acheteur" in rec:
            self._write_item(_ENCODE(rec))
        else:
            self.concessions.append(_ENCODE(rec))
        return True

    def _finish(self) -> None:
        h = self.handle
        h.write('\n],"contrat-concession":[')
        if self.concessions:
            h.write("\n" + ",\n".join(self.concessions))
        h.write("\n]}}\n")


class _ArraySink(_Sink):
    """Monthly files whose root is {"marches": [ ... ]} (flat 2.0.0 draft, 2019)."""

    def __init__(self, out_dir: Path, prefix: str, convert):
        super().__init__(out_dir)
        self.prefix, self.convert = prefix, convert

    def _start(self, key: str) -> None:
        self._open(f"{self.prefix}_{key}.json", '{"marches":[')

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso[:7])
        self._write_item(_ENCODE(self.convert(rec, ctx)))
        return True

    def _finish(self) -> None:
        self.handle.write("\n]}\n")


_FLAT_MARCHE_ORDER = (
    "id",
    "_type",
    "acheteur",
    "nature",
    "objet",
    "codeCPV",
    "technique",
    "modaliteExecution",
    "idAccordCadre",
    "marcheInnovant",
    "ccag",
    "offresRecues",
    "attributionAvance",
    "tauxAvance",
    "typeGroupementOperateurs",
    "sousTraitanceDeclaree",
    "actesSousTraitance",
    "procedure",
    "lieuExecution",
    "dureeMois",
    "dateNotification",
    "datePublicationDonnees",
    "montant",
    "typePrix",
    "formePrix",
    "origineUE",
    "origineFrance",
    "titulaires",
    "considerationsSociales",
    "considerationsEnvironnementales",
    "modificationsActesSousTraitance",
    "modifications",
)
_NONE_VALUES = frozenset(("Sans objet", NO_SOCIAL, NO_ENVIRONMENTAL))


def _flat_list(value) -> list:
    return [v for v in _unwrap(value) if v not in _NONE_VALUES]


def _to_flat(rec: dict, ctx: dict) -> dict:
    """2.0.0 draft shape: plain arrays, [] for none, explicit nulls."""
    if "acheteur" not in rec:
        out = {"id": rec["id"], "_type": "Contrat de concession"}
        for k, v in rec.items():
            if k == "concessionnaires":
                out[k] = _unwrap(v)
            elif k.startswith("considerations"):
                out[k] = _flat_list(v)
            elif k != "id":
                out[k] = v
        out["modifications"] = []
        return out
    src = {
        **rec,
        "_type": "Marché",
        "technique": _flat_list(rec["techniques"]),
        "modaliteExecution": _flat_list(rec["modalitesExecution"]),
        "typePrix": _unwrap(rec["typesPrix"]),
        "titulaires": _unwrap(rec["titulaires"]),
        "actesSousTraitance": _unwrap(rec.get("actesSousTraitance", [])),
        "modificationsActesSousTraitance": [],
        "modifications": _unwrap(rec.get("modifications", [])),
    }
    for key in ("considerationsSociales", "considerationsEnvironnementales"):
        if key in rec:
            src[key] = _flat_list(rec[key])
    out = {}
    for k in _FLAT_MARCHE_ORDER:
        if k in src:
            out[k] = src[k]
        elif k not in ("considerationsSociales", "considerationsEnvironnementales"):
            out[k] = None
    return out


_FORME_PRIX_2019 = {
    "Définitif ferme": "Ferme",
    "Définitif actualisable": "Ferme et actualisable",
    "Définitif révisable": "Révisable",
    "Provisoire": "Révisable",
}


def _to_2019(rec: dict, ctx: dict) -> dict:
    """DECP 2019 (schema 1.x): buyer name, plain lists, no consideration fields."""
    buyer = ctx["buyer"]
    tits = [
        {"typeIdentifiant": t, "id": tid, "denominationSociale": name}
        for t, tid, name in ctx["titulaires"]
    ]
    if "acheteur" not in rec:
        tits = [
            dict(t, id=c["concessionnaire"]["id"])
            for t, c in zip(tits, rec["concessionnaires"], strict=False)
        ]
        return {
            "id": rec["id"],
            "autoriteConcedante": {"id": rec["autoriteConcedante"]["id"], "nom": buyer.name},
            "_type": "Contrat de concession",
            "nature": rec["nature"],
            "objet": rec["objet"],
            "procedure": rec["procedure"],
            "lieuExecution": {
                "code": buyer.postal_code,
                "typeCode": "Code postal",
                "nom": buyer.commune_name,
            },
            "dureeMois": rec["dureeMois"],
            "dateSignature": rec["dateSignature"],
            "datePublicationDonnees": rec["datePublicationDonnees"],
            "dateDebutExecution": rec["dateDebutExecution"],
            "valeurGlobale": rec["valeurGlobale"],
            "montantSubventionPublique": rec["montantSubventionPublique"],
            "donneesExecution": [],
            "concessionnaires": tits,
            "modifications": [],
        }
    tits = [dict(t, id=c["titulaire"]["id"]) for t, c in zip(tits, rec["titulaires"], strict=False)]
    lieu = dict(rec["lieuExecution"], nom=ctx["lieu_nom"])
    nature = rec["nature"]
    if nature == "Marché de défense ou de sécurité":
        nature = "Marché"
    mods = []
    for m in _unwrap(rec.get("modifications", [])):
        mod = {"objetModification": f"Avenant n°{m['id']}"}
        for k in (
            "dateNotificationModification",
            "datePublicationDonneesModification",
            "montant",
            "dureeMois",
        ):
            if k in m:
                mod[k] = m[k]
        mods.append(mod)
    out = {
        "id": rec["id"],
        "acheteur": {"id": rec["acheteur"]["id"], "nom": buyer.name},
        "_type": "Marché",
        "nature": nature,
        "objet": rec["objet"],
        "codeCPV": rec["codeCPV"],
        "procedure": rec["procedure"],
        "lieuExecution": lieu,
        "dureeMois": rec["dureeMois"],
        "dateNotification": rec["dateNotification"],
        "datePublicationDonnees": rec["datePublicationDonnees"],
        "montant": rec["montant"],
        "formePrix": _FORME_PRIX_2019[_unwrap(rec["typesPrix"])[0]],
        "titulaires": tits,
        "modifications": mods,
    }
    return out


class _XmlSink(_Sink):
    """decp-2022_YYYY-MM.xml: 2022 XML, repeated children for lists, mixed boolean spellings."""

    _BOOLS = (("true", "false"), ("oui", "non"), ("1", "0"))

    def _start(self, key: str) -> None:
        self._open(f"decp-2022_{key}.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<marches>')

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso[:7])
        style = ctx["buyer"].id_style
        bools = self._BOOLS[0 if style < 3 else 1 if style == 3 else 2]
        out: list[str] = []
        _xml_element(out, "marche" if "acheteur" in rec else "contrat-concession", rec, bools)
        self.handle.write("\n" + "".join(out))
        return True

    def _finish(self) -> None:
        self.handle.write("\n</marches>\n")


def _xml_element(out: list[str], key: str, value, bools) -> None:
    if isinstance(value, dict):
        out.append(f"<{key}>")
        for k, v in value.items():
            _xml_element(out, k, v, bools)
        out.append(f"</{key}>")
    elif isinstance(value, list):
        if all(isinstance(item, dict) for item in value):
            out.append(f"<{key}>")
            for item in value:
                for k, v in item.items():
                    _xml_element(out, k, v, bools)
            out.append(f"</{key}>")
        else:
            for item in value:
                out.append(f"<{key}>{escape(str(item))}</{key}>")
    elif value is None:
        return
    elif value is True or value is False:
        out.append(f"<{key}>{bools[0] if value else bools[1]}</{key}>")
    else:
        out.append(f"<{key}>{escape(str(value))}</{key}>")


def _parquet_schema():
    import pyarrow as pa

    s, f, i, d, b = pa.string(), pa.float64(), pa.int64(), pa.date32(), pa.bool_()
    return pa.schema(
        [
            ("uid", s),
            ("id", s),
            ("nature", s),
            ("acheteur_id", s),
            ("acheteur_nom", s),
            ("titulaire_id", s),
            ("titulaire_typeIdentifiant", s),
            ("titulaire_nom", s),
            ("objet", s),
            ("montant", f),
            ("type", s),
            ("codeCPV", s),
            ("procedure", s),
            ("techniques", s),
            ("dureeMois", i),
            ("offresRecues", i),
            ("dateNotification", d),
            ("datePublicationDonnees", d),
            ("formePrix", s),
            ("typesPrix", s),
            ("attributionAvance", b),
            ("tauxAvance", f),
            ("marcheInnovant", b),
            ("modalitesExecution", s),
            ("considerationsSociales", s),
            ("considerationsEnvironnementales", s),
            ("ccag", s),
            ("sousTraitanceDeclaree", b),
            ("typeGroupementOperateurs", s),
            ("origineUE", f),
            ("origineFrance", f),
            ("lieuExecution_code", s),
            ("lieuExecution_typeCode", s),
            ("idAccordCadre", s),
            ("acheteur_commune_code", s),
            ("acheteur_commune_nom", s),
            ("acheteur_departement_code", s),
            ("acheteur_departement_nom", s),
            ("acheteur_region_code", s),
            ("acheteur_region_nom", s),
            ("modification_id", i),
            ("donneesActuelles", b),
            ("sourceDataset", s),
            ("sourceFile", s),
        ]
    )


def _tabular_considerations(rec: dict, key: str, inner: str) -> str | None:
    if key not in rec:
        return None
    vals = ["Sans objet" if v in (NO_SOCIAL, NO_ENVIRONMENTAL) else v for v in rec[key][inner]]
    return ", ".join(vals)


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class _ParquetSink:
    """decp.parquet in decp-processing's layout: marchés only, the latest version of each
    contract, one row per titulaire and per modification (modification_id 0 = initial data,
    donneesActuelles true on the current rows only)."""

    def __init__(self, out_dir: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.path = out_dir / "decp.parquet"
        self.files = [self.path]
        self.schema = _parquet_schema()
        self.names = self.schema.names
        self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self.columns: dict[str, list] = {n: [] for n in self.names}
        self.rows = 0
        depts, regions, _ = _reference()
        self.dept_names = {c: (n, r) for c, n, r in depts}
        self.regions = regions

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        if not final or "acheteur" not in rec:
            return False
        buyer = ctx["buyer"]
        cols = self.columns
        acheteur_id = rec["acheteur"]["id"]
        dname, rcode = self.dept_names.get(buyer.departement_code, (None, None))
        montant = float(rec["montant"])
        base = {
            "uid": acheteur_id + rec["id"],
            "id": rec["id"],
            "nature": rec["nature"],
            "acheteur_id": acheteur_id,
            "acheteur_nom": buyer.name,
            "objet": rec["objet"],
            "type": ctx["market"],
            "codeCPV": rec["codeCPV"],
            "procedure": rec["procedure"],
            "techniques": ", ".join(_unwrap(rec["techniques"])),
            "offresRecues": rec["offresRecues"],
            "formePrix": rec["formePrix"],
            "typesPrix": ", ".join(_unwrap(rec["typesPrix"])),
            "attributionAvance": rec["attributionAvance"],
            "tauxAvance": rec.get("tauxAvance"),
            "marcheInnovant": rec["marcheInnovant"],
            "modalitesExecution": ", ".join(_unwrap(rec["modalitesExecution"])),
            "considerationsSociales": _tabular_considerations(
                rec, "considerationsSociales", "considerationSociale"
            ),
            "considerationsEnvironnementales": _tabular_considerations(
                rec, "considerationsEnvironnementales", "considerationEnvironnementale"
            ),
            "ccag": rec["ccag"],
            "sousTraitanceDeclaree": rec["sousTraitanceDeclaree"],
            "typeGroupementOperateurs": rec["typeGroupementOperateurs"],
            "origineUE": rec.get("origineUE"),
            "origineFrance": rec.get("origineFrance"),
            "lieuExecution_code": rec["lieuExecution"]["code"],
            "lieuExecution_typeCode": rec["lieuExecution"]["typeCode"],
            "idAccordCadre": rec.get("idAccordCadre"),
            "acheteur_commune_code": buyer.commune_code,
            "acheteur_commune_nom": buyer.commune_name,
            "acheteur_departement_code": buyer.departement_code,
            "acheteur_departement_nom": dname,
            "acheteur_region_code": rcode,
            "acheteur_region_nom": self.regions.get(rcode),
            "sourceDataset": "demo",
            "sourceFile": None,
        }
        versions = [
            (0, montant, rec["dureeMois"], rec["dateNotification"], rec["datePublicationDonnees"])
        ]
        for m in _unwrap(rec.get("modifications", [])):
            prev = versions[-1]
            versions.append(
                (
                    m["id"],
                    float(m.get("montant", prev[1])),
                    m.get("dureeMois", prev[2]),
                    m["dateNotificationModification"],
                    m["datePublicationDonneesModification"],
                )
            )
        last = len(versions) - 1
        for t_type, t_id, t_name in ctx["titulaires"]:
            for k, (mod_id, m_amount, m_duree, m_notif, m_pub) in enumerate(versions):
                for name, value in base.items():
                    cols[name].append(value)
                cols["titulaire_id"].append(t_id)
                cols["titulaire_typeIdentifiant"].append(t_type)
                cols["titulaire_nom"].append(t_name)
                cols["montant"].append(m_amount)
                cols["dureeMois"].append(m_duree)
                cols["dateNotification"].append(_as_date(m_notif))
                cols["datePublicationDonnees"].append(_as_date(m_pub))
                cols["modification_id"].append(mod_id)
                cols["donneesActuelles"].append(k == last)
                self.rows += 1
        if self.rows >= PARQUET_BATCH_ROWS:
            self._flush()
        return True

    def _flush(self) -> None:
        if self.rows:
            batch = self.pa.record_batch([self.columns[n] for n in self.names], schema=self.schema)
            self.writer.write_batch(batch)
            self.columns = {n: [] for n in self.names}
            self.rows = 0

    def close(self) -> None:
        self._flush()
        self.writer.close()


def _fix_titulaire_ids(rec: dict, ctx: dict) -> None:
    # Keep side facts in step with a fault that replaced the first titulaire's id.
    key = "titulaires" if "acheteur" in rec else "concessionnaires"
    inner = "titulaire" if key == "titulaires" else "concessionnaire"
    ids = [t[inner]["id"] for t in rec[key]]
    ctx["titulaires"] = [
        (t, tid, name) for (t, _, name), tid in zip(ctx["titulaires"], ids, strict=False)
    ]


# --------------------------------------------------------------------------------------------
# Public entry point


def _remove_previous_run(out_dir: Path) -> None:
    manifest = out_dir / MANIFEST_NAME
    if not manifest.is_file():
        return
    try:
        names = json.loads(manifest.read_text(encoding="utf-8"))["result"]["files"]
    except (ValueError, KeyError, TypeError):
        return
    for name in names:
        path = out_dir / name
        if path.parent == out_dir and path.is_file():
            path.unlink()


# How a run stays deterministic and flat in memory: contract ``i`` is a pure function of
# ``(seed, i)`` -- its notification day grows with ``i`` along a weighted working-day calendar,
# its buyer comes from a low-discrepancy sequence over the pool, its schedule from cheap hashes
# and its content from ``random.Random`` re-seeded with ``(seed, i)``. A heap of
# ``(file day, index, variant, sequence number, schedule)`` orders records by publication day;
# a record is built when popped and written at once, so memory follows the publication window
# (about 60 days, a few hundred for modified contracts), never ``size``.


def generate_demo(
    out_dir: Path,
    size: int = 20_000,
    seed: int = 42,
    *,
    shape: str = "decp2022_json",
    fault_rate: float = 0.01,
    start: date = date(2024, 1, 1),
    end: date = date(2026, 6, 30),
) -> DemoResult:
    """Write ``size`` synthetic DECP contracts (notified between ``start`` and ``end``) under
    ``out_dir`` in ``shape`` and return what was written.

    Same arguments give byte-identical files. Files of a previous run listed in
    ``out_dir/_demo_manifest.json`` are removed first; other files are left alone.
    """
    _check_size(size)
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; valid shapes: {', '.join(SHAPES)}")
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1 (got {fault_rate!r})")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous_run(out_dir)

    gen = _Generator(size, seed, shape, fault_rate, start, end)
    if shape == "decp2022_json":
        sink = _Daily2022Sink(out_dir)
    elif shape == "decp2022_flat_json":
        sink = _ArraySink(out_dir, "decp-2022-flat", _to_flat)
    elif shape == "decp2019_json":
        sink = _ArraySink(out_dir, "decp-2019", _to_2019)
    elif shape == "decp2022_xml":
        sink = _XmlSink(out_dir)
    else:
        sink = _ParquetSink(out_dir)

    written = republications = faulty = tests = 0
    # (publication day, contract index, variant, sequence number, plan): the plan rides along so
    # that popping does not recompute it; the heap only spans the publication window.
    heap: list[tuple] = []
    if size >= 1000:
        test_day = gen.plan(size // 2)[0] + 3
        heapq.heappush(heap, (test_day, size, _VARIANT_TEST, 0, None))

    def emit(entry: tuple) -> None:
        nonlocal written, republications, faulty, tests
        day, i, variant, seq, plan = entry
        if variant == _VARIANT_TEST:
            rec, ctx = gen.test_record(day - 3)
            if sink.add(gen.iso(day), rec, ctx, True):
                written += 1
                tests += 1
            return
        rec, ctx = gen.build(i, plan, seq)
        # A republication carries the changes of the earlier ones: the latest is the most complete.
        previous = plan[5]
        for v in range(1, variant + 1):
            gen.republish(i, rec, v, plan[6][v - 1], previous)
            previous = plan[6][v - 1]
        final = variant == len(plan[6])
        got_fault = gen.apply_fault(i, variant, rec, ctx)
        if got_fault:
            _fix_titulaire_ids(rec, ctx)
        if sink.add(gen.iso(day), rec, ctx, final):
            written += 1
            faulty += got_fault
            republications += variant > 0

    # Records are acyclic: the cyclic collector only costs time here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(size):
            plan = gen.plan(i)
            notif = plan[0]
            while heap and heap[0][0] < notif:
                emit(heapq.heappop(heap))
            seq = gen.next_seq(plan[2], int(gen.iso(notif)[:4]))
            heapq.heappush(heap, (plan[5], i, 0, seq, plan))
            for v, rday in enumerate(plan[6], 1):
                heapq.heappush(heap, (rday, i, v, seq, plan))
        while heap:
            emit(heapq.heappop(heap))
    finally:
        sink.close()
        if gc_was_enabled:
            gc.enable()

    if shape == "decp_processing_parquet":
        # One consolidated version per contract: what was written is not a republication.
        contracts, republications = written - tests, 0
    else:
        contracts = size
    files = sorted(sink.files)
    result = DemoResult(
        out_dir=out_dir,
        files=files,
        contracts=contracts,
        records=written,
        republications=republications,
        test_records=tests,
        faulty_records=faulty,
    )
    manifest = {
        "generator": "pipelines.demo.generator",
        "arguments": {
            "size": size,
            "seed": seed,
            "shape": shape,
            "fault_rate": fault_rate,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
        "result": {
            "files": [p.name for p in files],
            "contracts": contracts,
            "records": written,
            "republications": republications,
            "test_records": tests,
            "faulty_records": faulty,
        },
    }
    (out_dir / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.demo.generator OUT_DIR --size N --seed S --shape SHAPE``."""
    parser = argparse.ArgumentParser(description="Write synthetic DECP files (demo data).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", type=int, default=20_000, help="number of distinct contracts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shape", choices=SHAPES, default="decp2022_json")
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    args = parser.parse_args(argv)
    try:
        result = generate_demo(
            args.out_dir,
            args.size,
            args.seed,
            shape=args.shape,
            fault_rate=args.fault_rate,
            start=args.start,
            end=args.end,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"{len(result.files)} files in {result.out_dir}: {result.contracts} contracts, "
        f"{result.records} records ({result.republications} republications, "
        f"{result.test_records} test, {result.faulty_records} faulty)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
