"""The demo buyers: a deterministic pool of communes, départements, régions, groupings,
hospitals, State services and other public bodies, with Luhn-valid SIRETs whose SIREN prefixes
follow the real rules (``21`` + commune, ``22`` + département...), realistic names, and how
often each buys and declares considerations."""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from functools import lru_cache

from pipelines.common.formatting import number_fr
from pipelines.demo.draws import cumulative, luhn_complete, mix64, pick
from pipelines.demo.places import (
    DEPT_MIN_SHARE,
    DEPT_POP,
    commune_insee_for_siren,
    dept_digits,
    reference_tables,
)

MIN_SIZE = 100


MAX_SIZE = 3_000_000


def check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(
            f"la taille doit être comprise entre {number_fr(MIN_SIZE)} et {number_fr(MAX_SIZE)} "
            f"contrats (reçu : {size!r})"
        )


def contract_count(text: str) -> int:
    """A demo size given on a command line (pnad demo, the generator's own command)."""
    value = int(text)
    try:
        check_size(value)
    except ValueError as refused:
        raise argparse.ArgumentTypeError(str(refused)) from refused
    return value


contract_count.__name__ = "taille"  # argparse names the type in its messages


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


# kind, share of the pool, activity multiplier
KINDS = (
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


KIND_CUM = cumulative(k[1] for k in KINDS)


# Paris hosts the ministries and national bodies.
KIND_CUM_PARIS = cumulative(
    k[1] * (6.0 if k[0] == "etat" else 0.3 if k[0] == "commune" else 1.0) for k in KINDS
)


COMMUNE_SERVICES = (
    "Services techniques",
    "Restauration scolaire",
    "Direction des sports",
    "Régie des eaux",
    "Direction de la culture",
)


STATE_NAMES = (
    "Préfecture de {d}",
    "Direction départementale des territoires de {d}",
    "Direction départementale de l'emploi, du travail et des solidarités de {d}",
    "Université de {c}",
    "Tribunal judiciaire de {c}",
    "Centre des finances publiques de {c}",
)


PARIS_STATE_NAMES = (
    "Ministère de l'Intérieur",
    "Ministère des Armées",
    "Ministère de la Transition écologique",
    "Ministère de l'Éducation nationale",
    "Direction des achats de l'État",
    "Ministère de la Justice",
)


PEOPLE = (
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


# Bodies named from a few templates, with the SIREN prefix their category has ({dd}: the
# département's digits): kind -> (prefix, name templates; {c} commune, {d} département).
NAMED_BODIES = {
    "epci": (
        "24{dd}",
        (
            "Communauté de communes de {c}",
            "Communauté d'agglomération de {c}",
            "Communauté urbaine de {c}",
        ),
    ),
    "syndicat": (
        "25{dd}",
        (
            "Syndicat intercommunal des eaux de {c}",
            "SIVOM de {c}",
            "Syndicat départemental d'énergie - {d}",
        ),
    ),
    "etablissement_local": (
        "26{dd}",
        ("CCAS de {c}", "Office public de l'habitat - {d}", "EHPAD de {c}"),
    ),
    "hopital": (
        "26{dd}",
        (
            "Centre hospitalier de {c}",
            "Centre hospitalier intercommunal de {c}",
            "Groupe hospitalier de territoire - {d}",
        ),
    ),
    "cree_apres_2000": (
        "200",
        (
            "Communauté de communes du Pays de {c}",
            "Syndicat mixte {d} Numérique",
            "Établissement public territorial de {c}",
        ),
    ),
}


@lru_cache(maxsize=2)
def buyer_pool(size: int, seed: int) -> tuple[tuple[DemoBuyer, ...], list[float]]:
    """The pool of buyers of a run of ``size`` contracts, and the cumulative weights by which
    contracts are spread over them (a département's share follows its population)."""
    depts, regions, communes = reference_tables()
    pops = [DEPT_POP.get(code, 200) for code, _, _ in depts]
    pool = _PoolDraw(random.Random(mix64((seed & 0xFFFFFFFF) * 7919 + 0xB0)), regions)
    for k, quota in enumerate(_quotas(size, pops)):
        dcode, dname, rcode = depts[k]
        for _ in range(quota):
            pool.draw(k, dcode, dname, rcode, communes[dcode])
    return _weighted(pool.rows, pops)


def _quotas(size: int, pops: list[int]) -> list[int]:
    """Buyers per département: by population (largest remainders), at least one each from
    2 000 contracts on."""
    n = min(60_000, max(60, size // 40))
    cover = size >= 2000
    if cover:
        n = max(n, 150)
    total_pop = sum(pops)
    base = 1 if cover else 0
    rest = n - base * len(pops)
    raw = [rest * p / total_pop for p in pops]
    quota = [base + int(r) for r in raw]
    order = sorted(range(len(pops)), key=lambda k: (-(raw[k] - int(raw[k])), k))
    for k in order[: n - sum(quota)]:
        quota[k] += 1
    return quota


class _PoolDraw:
    """The buyers drawn one after the other from one random generator (the order of the draws
    is what makes a seed give the same pool)."""

    def __init__(self, rng: random.Random, regions: dict[str, str]) -> None:
        self.rng, self.regions = rng, regions
        self.used: set[str] = set()
        self.nic_counter: dict[str, int] = {}
        self.body_siren: dict[str | None, str] = {}
        self.rows: list[tuple] = []  # (dept index, fields..., activity, social, env, id style)

    def random_siren(self, prefix: str) -> str:
        rng = self.rng
        while True:
            body = prefix + "".join(str(rng.randrange(10)) for _ in range(8 - len(prefix)))
            siren = luhn_complete(body)
            if siren not in self.nic_counter:  # every SIREN handed out is in nic_counter
                return siren

    def draw(self, k: int, dcode: str, dname: str, rcode: str, dlist: list[tuple]) -> None:
        rng = self.rng
        kcum = KIND_CUM_PARIS if dcode == "75" else KIND_CUM
        kind, _, activity = KINDS[pick(kcum, rng.random())]
        ccode, cname, postal = rng.choice(dlist)
        # One SIREN per commune, département or région, buying through a few establishments;
        # the reference lists ~6 communes per département, so big pools get other bodies.
        body_key = (
            commune_insee_for_siren(ccode)
            if kind == "commune"
            else "d" + dcode
            if kind == "departement"
            else "r" + rcode
            if kind == "region"
            else None
        )
        known = self.body_siren.get(body_key)
        if known and self.nic_counter[known] >= 4:
            kind = rng.choice(("etablissement_local", "epci", "cree_apres_2000"))
        siren, name = self._identity(kind, body_key, dcode, dname, rcode, ccode, cname)
        nic_counter = self.nic_counter
        seq = nic_counter.get(siren, 0) + 1 + (rng.randrange(3) if rng.random() < 0.2 else 0)
        nic_counter[siren] = seq
        siret = luhn_complete(siren + f"{seq:04d}")
        if siret in self.used:  # pragma: no cover - NIC counters make this impossible
            return
        self.used.add(siret)
        u = rng.random()
        level = 2.2 if u < 0.2 else 1.0 if u < 0.7 else 0.35
        level *= rng.uniform(0.75, 1.25)
        self.rows.append(
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

    def _identity(self, kind, body_key, dcode, dname, rcode, ccode, cname) -> tuple[str, str]:
        """(SIREN, name) of a buyer of this kind, with the SIREN prefix of its category."""
        rng, dd = self.rng, dept_digits(dcode)
        if kind in NAMED_BODIES:
            prefix, templates = NAMED_BODIES[kind]
            siren = self.random_siren(prefix.format(dd=dd))
            return siren, rng.choice(templates).format(c=cname, d=dname)
        if kind == "commune":
            return self._commune(ccode, cname)
        if kind in ("departement", "region"):
            prefix = "22" + dd if kind == "departement" else "23" + rcode[-2:]
            siren = self.body_siren.get(body_key) or self.random_siren(prefix)
            self.body_siren[body_key] = siren
            if kind == "departement":
                return siren, f"Département - {dname}"
            return siren, f"Région {self.regions.get(rcode, dname)}"
        if kind == "etablissement_27_28":
            prefix = rng.choice(("27", "28"))
            siren = self.random_siren(prefix + dd)
            if prefix == "28":
                return siren, f"Service départemental d'incendie et de secours - {dname}"
            return siren, f"Régie des transports de {cname}"
        if kind == "eple":
            siren = self.random_siren("19" + dd)
            name = rng.choice(("Lycée {p} - {c}", "Collège {p} - {c}")).format(
                p=rng.choice(PEOPLE), c=cname
            )
            return siren, name
        # etat
        siren = self.random_siren(rng.choice(("110", "130", "120", "180")))
        if dcode == "75" and rng.random() < 0.6:
            return siren, rng.choice(PARIS_STATE_NAMES)
        return siren, rng.choice(STATE_NAMES).format(d=dname, c=cname)

    def _commune(self, ccode: str, cname: str) -> tuple[str, str]:
        insee = commune_insee_for_siren(ccode)
        siren = self.body_siren.get(insee)
        if siren is None:
            siren = self.body_siren[insee] = luhn_complete(
                "21" + insee + str(self.rng.randrange(10))
            )
        town = "Paris" if insee == "75056" else cname
        name = f"Commune de {town}"
        if self.nic_counter.get(siren):
            name += " - " + self.rng.choice(COMMUNE_SERVICES)
        return siren, name


def _weighted(rows: list[tuple], pops: list[int]) -> tuple[tuple[DemoBuyer, ...], list[float]]:
    """The buyers with their weights: a département's contract share is its population share
    (with a floor), split among its buyers by activity; propensities rescaled so that their
    contract-weighted mean is exactly 1."""
    total_pop = sum(pops)
    act_by_dept: dict[int, float] = {}
    for r in rows:
        act_by_dept[r[0]] = act_by_dept.get(r[0], 0.0) + r[9]
    dshare = {k: max(pops[k] / total_pop, DEPT_MIN_SHARE) for k in act_by_dept}
    norm = sum(dshare.values())
    weights = [dshare[r[0]] / norm * r[9] / act_by_dept[r[0]] for r in rows]
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
    return buyers, cumulative(weights)


def demo_buyers(size: int, seed: int = 42) -> list[DemoBuyer]:
    """The buyer pool ``generate_demo(size=size, seed=seed)`` draws from (with département)."""
    check_size(size)
    return list(buyer_pool(size, seed)[0])
