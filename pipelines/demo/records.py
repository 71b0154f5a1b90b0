"""Building the demo records on their schedule (``schedule.py``): each contract's content (a
marché or a concession in the DECP 2022 wrapped shape), from a random generator seeded with
(seed, contract number); republications and the platform test record."""

from __future__ import annotations

import math
import random
from datetime import date

from pipelines.demo.buyers import PEOPLE, DemoBuyer
from pipelines.demo.draws import mix64, pick, round_amount, supplier_siret
from pipelines.demo.families import FAMILIES, FAMILY_CCAG, FAMILY_CUM, FAMILY_ENV, FAMILY_SOC
from pipelines.demo.places import reference_tables
from pipelines.demo.schedule import Schedule
from pipelines.demo.vocabulary import (
    COMPANY_FORMS,
    CONCESSION_PROC_CUM,
    CONCESSION_PROCEDURES,
    CONCESSIONS,
    COUNTRIES,
    ENV_NONE,
    ENV_SETS,
    ENV_SETS_CUM,
    ENV_WRAPPED,
    ID_CODES,
    NO_ENVIRONMENTAL,
    NO_SOCIAL,
    OBLIGED_ENV_SETS_CUM,
    OBLIGED_ENVIRONMENTAL_RATE,
    OBLIGED_SOCIAL_RATE,
    OBLIGED_SOCIAL_SETS_CUM,
    OPERATOR_TRADES,
    PROC_ABOVE,
    PROC_BELOW,
    PROJECTS,
    SITES,
    SOC_NONE,
    SOC_WRAPPED,
    SOCIAL_SETS,
    SOCIAL_SETS_CUM,
    STREETS,
    SURNAMES,
    TEST_BUYER_SIRET,
    TVA_PREFIXES,
    TYPES_PRIX_CUM,
    TYPES_PRIX_WRAPPED,
)


class RecordBuilder(Schedule):
    """Builds the records of one run on its schedule; holds no per-contract state."""

    def __init__(
        self, size: int, seed: int, shape: str, fault_rate: float, start: date, end: date,
        today: date,
    ):  # fmt: skip
        super().__init__(size, seed, start, end, today)
        self.shape, self.fault_rate = shape, fault_rate
        # Supplier pools per family, plus one of concession operators (last index).
        self.companies = [max(20, int(size * f.weight / 4)) for f in FAMILIES] + [
            max(20, size // 400)
        ]
        self.rng = random.Random()  # re-seeded per record: cheaper than a new instance
        self.with_names = shape in ("decp2019_json", "decp_processing_parquet")
        self.communes = reference_tables()[2]

    def _titulaire(self, rng: random.Random, fam_idx: int) -> tuple[str, str, str]:
        """(typeIdentifiant, id, name) of a company drawn from the family's supplier pool."""
        n = self.companies[fam_idx]
        u = rng.random()
        c = int(n * u * u)  # a few suppliers win many contracts
        h = mix64((self.key0 ^ 0xC0FFEE) + fam_idx * 10_000_019 + c)
        if self.with_names:
            trade = FAMILIES[fam_idx].trade if fam_idx < len(FAMILIES) else OPERATOR_TRADES
            name = (
                f"{COMPANY_FORMS[h % 7]} {SURNAMES[(h >> 3) % 32]} {trade[(h >> 8) % len(trade)]}"
            )
            name = name.lstrip()
        else:
            name = ""  # only the 2019 and parquet shapes carry supplier names
        kind = (h >> 56) & 0xFF
        if kind < 4:  # ~1.5 %: EU company
            pre = TVA_PREFIXES[(h >> 12) % len(TVA_PREFIXES)]
            return "TVA", f"{pre}{(h >> 16) % 10**9:09d}", name + " GmbH" * (pre == "DE")
        if kind < 5:  # ~0.4 %: outside the EU
            return "HORS-UE", f"CHE{(h >> 16) % 10**9:09d}", name + " AG"
        siren8 = (3 + (h >> 12) % 7) * 10_000_000 + (h >> 16) % 10_000_000
        return "SIRET", supplier_siret(siren8, 1 + (h >> 40) % 90), name

    def build(self, i: int, plan: tuple, seq: int) -> tuple[dict, dict]:
        """Canonical record (DECP 2022 wrapped JSON shape) and side facts for other shapes.

        The helpers below draw from ``self.rng`` in a fixed order, one after the other: the
        same (seed, i) always gives the same record."""
        notif, pub, bidx, is_conc, mods, _, _ = plan
        buyer = self.buyers[bidx]
        rng = self.rng
        rng.seed(self.key0 + i)
        notif_s = self.iso(notif)
        year = int(notif_s[:4])
        day_idx = notif - self.start_ord
        if is_conc:
            return self._build_concession(rng, i, buyer, notif, pub, year, seq, day_idx)
        fi, fam, objet, cpv, other = self._subject(rng, buyer, year)
        nature, techniques, modalites, id_accord, is_ac = self._nature(rng, buyer, year)
        m, montant, procedure, duree, above = self._amount(rng, buyer, fam, is_ac)
        lieu, lieu_nom = self._place(rng, buyer, other)
        titulaires, groupement = self._holders(rng, fi)
        obliged = nature != "Marché de défense ou de sécurité" and self.launched_under_obligations(
            i, notif, procedure
        )
        soc, env = self._considerations(rng, buyer, fi, day_idx, obliged, obliged and above)
        contract_id, forme_prix, avance, offres = self._marche_terms(
            rng, buyer, year, seq, fam, modalites
        )
        rec = {
            "id": contract_id,
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
            "formePrix": forme_prix,
            "attributionAvance": avance,
            "offresRecues": offres,
        }
        self._execution_fields(rng, rec, fi, fam, groupement, id_accord)
        rec["titulaires"] = [
            {"titulaire": {"typeIdentifiant": t, "id": tid}} for t, tid, _ in titulaires
        ]
        rec["considerationsSociales"] = soc
        rec["considerationsEnvironnementales"] = env
        rec["modalitesExecution"] = {"modaliteExecution": modalites}
        rec["techniques"] = {"technique": techniques}
        rec["typesPrix"] = TYPES_PRIX_WRAPPED[pick(TYPES_PRIX_CUM, rng.random())]
        if rec["sousTraitanceDeclaree"] and rng.random() < 0.5:
            rec["actesSousTraitance"] = self._subcontracting(rng, fi, m, duree, notif_s, pub)
        if mods:
            rec["modifications"] = self._modifications(rng, mods, m, duree)
        ctx = {"buyer": buyer, "titulaires": titulaires, "lieu_nom": lieu_nom, "market": fam.market}
        return rec, ctx

    def _subject(self, rng: random.Random, buyer: DemoBuyer, year: int) -> tuple:
        """(family index, family, object, CPV, another commune of the département)."""
        rnd = rng.random
        fi = pick(FAMILY_CUM, rnd())
        fam = FAMILIES[fi]
        template, cpv = fam.items[int(rnd() * len(fam.items))]
        communes = self.communes[buyer.departement_code]
        other = communes[int(rnd() * len(communes))]
        lot = fam.lots[int(rnd() * len(fam.lots))] if fam.lots else ("", None)
        if "{" in template:
            objet = template.format(
                c=buyer.commune_name,
                c2=other[1],
                p=PEOPLE[int(rnd() * len(PEOPLE))],
                site=SITES[int(rnd() * len(SITES))],
                street=STREETS[int(rnd() * len(STREETS))],
                y=year,
                n=int(rnd() * 120) + 4,
                ln=int(rnd() * 8) + 1,
                lot=lot[0],
                project=PROJECTS[int(rnd() * len(PROJECTS))],
            )
        else:
            objet = template
        return fi, fam, objet, cpv if cpv is not None else lot[1], other

    def _nature(self, rng: random.Random, buyer: DemoBuyer, year: int) -> tuple:
        """(nature, techniques, execution modalities, idAccordCadre, accord-cadre?)."""
        rnd = rng.random
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
        return nature, techniques, modalites, id_accord, is_ac

    def _amount(self, rng: random.Random, buyer: DemoBuyer, fam, is_ac: bool) -> tuple:
        """(amount drawn, amount as published, procedure, duration in months, above the EU
        threshold?): log-normal above the 40 000 EUR publication threshold, the procedure by the
        EU threshold."""
        rnd = rng.random
        m = fam.median * math.exp(fam.sigma * rng.gauss(0.0, 1.0))
        if rnd() < 0.02:
            m = 4000 + rnd() * 36000  # some buyers publish below the threshold anyway
        elif m < 40_000:
            m = 40_000 + rnd() * fam.median * 0.5
        if is_ac and rnd() < 0.2:
            m *= 10 + rnd() * 50  # accord-cadre ceiling
        montant = round_amount(m, rnd())
        threshold = (
            5_538_000 if fam.market == "Travaux" else 143_000 if buyer.kind == "etat" else 221_000
        )
        procs, pcum = PROC_ABOVE if m >= threshold else PROC_BELOW
        procedure = procs[pick(pcum, rnd())]
        lo, hi = fam.duration
        duree = int(lo + rnd() * (hi - lo + 1)) if not is_ac else 12 * (1 + int(rnd() * 4))
        return m, montant, procedure, duree, m >= threshold

    def _place(self, rng: random.Random, buyer: DemoBuyer, other: tuple) -> tuple[dict, str]:
        """Place of execution (usually the buyer's own commune or département) and its name."""
        rnd = rng.random
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
            lieu = {"code": COUNTRIES[int(rnd() * len(COUNTRIES))], "typeCode": "Code pays"}
            lieu_nom = ""
        return lieu, lieu_nom

    def _holders(self, rng: random.Random, fi: int) -> tuple[list, str]:
        """The titulaires (type, id, name) and how they are grouped."""
        u = rng.random()
        n_tit = 1 if u < 0.88 else 2 if u < 0.94 else 3
        titulaires = [self._titulaire(rng, fi) for _ in range(n_tit)]
        groupement = (
            "Pas de groupement"
            if n_tit == 1
            else ("Conjoint" if rng.random() < 0.6 else "Solidaire")
        )
        return titulaires, groupement

    def _considerations(
        self, rng: random.Random, buyer: DemoBuyer, fi: int, day_idx: int, env_obliged: bool,
        social_obliged: bool,
    ):  # fmt: skip
        """Social and environmental considerations: target rate x buyer and family propensity;
        under the 2026 obligations most buyers comply, not all (the lists of non-compliant
        contracts are not empty), and some declare one environmental kind of the two."""
        rnd = rng.random
        p_soc = min(0.95, self.soc_base[day_idx] * buyer.social_factor * FAMILY_SOC[fi])
        p_env = min(0.95, self.env_base[day_idx] * buyer.environmental_factor * FAMILY_ENV[fi])
        soc_sets = SOCIAL_SETS_CUM
        env_sets = ENV_SETS_CUM
        if env_obliged:
            p_env, env_sets = max(p_env, OBLIGED_ENVIRONMENTAL_RATE), OBLIGED_ENV_SETS_CUM
        if social_obliged:
            p_soc, soc_sets = max(p_soc, OBLIGED_SOCIAL_RATE), OBLIGED_SOCIAL_SETS_CUM
        soc = SOC_WRAPPED[pick(soc_sets, rnd())] if rnd() < p_soc else SOC_NONE
        env = ENV_WRAPPED[pick(env_sets, rnd())] if rnd() < p_env else ENV_NONE
        return soc, env

    def _marche_terms(self, rng, buyer: DemoBuyer, year: int, seq: int, fam, modalites) -> tuple:
        """(id, price form, advance, offers received) of a marché."""
        rnd = rng.random
        avance = rnd() < 0.3
        contract_id = self._contract_id(buyer, year, seq, fam.market, rnd)
        if modalites[0] == "Bons de commande" or rnd() < 0.3:
            forme_prix = "Unitaire"
        else:
            forme_prix = "Forfaitaire" if rnd() < 0.9 else "Mixte"
        return contract_id, forme_prix, avance, 1 + int(rnd() * rnd() * 12)

    def _execution_fields(self, rng, rec: dict, fi: int, fam, groupement, id_accord) -> None:
        """Advance rate, innovation, CCAG, subcontracting, grouping, framework, origin."""
        rnd = rng.random
        if rec["attributionAvance"] and rnd() < 0.6:
            rec["tauxAvance"] = (0.05, 0.1, 0.2, 0.3)[int(rnd() * 4)]
        rec["marcheInnovant"] = rnd() < 0.01
        ccag_values, ccag_cum = FAMILY_CCAG[fi]
        rec["ccag"] = ccag_values[pick(ccag_cum, rnd())]
        rec["sousTraitanceDeclaree"] = rnd() < 0.1
        rec["typeGroupementOperateurs"] = groupement
        if id_accord:
            rec["idAccordCadre"] = id_accord
        if fam.origin and rnd() < 0.5:
            rec["origineUE"] = round(rnd(), 2)
            rec["origineFrance"] = round(rec["origineUE"] * rnd(), 2)

    def _subcontracting(self, rng, fi: int, m: float, duree: int, notif_s: str, pub: int):
        """One acte de sous-traitance, in the wrapped shape."""
        rnd = rng.random
        st = self._titulaire(rng, fi)
        return [
            {
                "acteSousTraitance": {
                    "id": 1,
                    "sousTraitant": {"typeIdentifiant": st[0], "id": st[1]},
                    "dureeMois": max(1, duree // 2),
                    "dateNotification": notif_s,
                    "montant": round_amount(m * (0.05 + rnd() * 0.2), rnd()),
                    "variationPrix": ("Ferme", "Actualisable", "Révisable")[int(rnd() * 3)],
                    "datePublicationDonnees": self.iso(pub),
                }
            }
        ]

    def _modifications(self, rng, mods: tuple, m: float, duree: int) -> list[dict]:
        """The modifications of the plan: new absolute amounts and durations."""
        rnd = rng.random
        current_m, current_d = m, duree
        out = []
        for k, (mdate, mpub) in enumerate(mods, 1):
            mod: dict = {"dateNotificationModification": self.iso(mdate)}
            u = rnd()
            if u < 0.75:
                current_m *= 1.02 + rnd() * 0.13
                mod["montant"] = round_amount(current_m, rnd())
            if u > 0.5:
                current_d += 1 + int(rnd() * 12)
                mod["dureeMois"] = current_d
            mod["id"] = k
            mod["datePublicationDonneesModification"] = self.iso(mpub)
            out.append({"modification": mod})
        return out

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
        return f"{yy:02d}{ID_CODES[market]}{seq:03d}"

    def _build_concession(self, rng, i, buyer, notif, pub, year, seq, day_idx):
        """A concession, in the 2022 wrapped shape."""
        rnd = rng.random
        bsoc, benv = buyer.social_factor, buyer.environmental_factor
        template, nature = CONCESSIONS[int(rnd() * len(CONCESSIONS))]
        if rnd() < 0.1 and nature == "Délégation de service public":
            nature = "Concession de service public"
        procedure = CONCESSION_PROCEDURES[pick(CONCESSION_PROC_CUM, rnd())][0]
        p_soc = min(0.95, self.soc_base[day_idx] * bsoc)
        p_env = min(0.95, self.env_base[day_idx] * benv)
        env_sets = ENV_SETS_CUM
        if self.launched_under_obligations(i, notif, None):
            p_env, env_sets = max(p_env, OBLIGED_ENVIRONMENTAL_RATE), OBLIGED_ENV_SETS_CUM
        if rnd() < p_soc:
            soc = [
                ("Concession réservée" if v == "Marché réservé" else v)
                for v in SOCIAL_SETS[pick(SOCIAL_SETS_CUM, rnd())]
            ]
        else:
            soc = [NO_SOCIAL]
        env = list(ENV_SETS[pick(env_sets, rnd())]) if rnd() < p_env else [NO_ENVIRONMENTAL]
        valeur = 2_000_000 * math.exp(1.4 * rng.gauss(0.0, 1.0))
        n_conc = 1 if rnd() < 0.9 else 2
        concessionnaires = [self._titulaire(rng, len(FAMILIES)) for _ in range(n_conc)]
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
            "valeurGlobale": round_amount(valeur, rnd()),
            "montantSubventionPublique": 0
            if rnd() < 0.7
            else round_amount(valeur * rnd() * 0.2, 0.0),
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
        u = self.unit(i, 10 + variant)
        amount_key = "valeurGlobale" if "valeurGlobale" in rec else "montant"
        if u < 0.3:
            # Same contract, slightly different amount, no modification: platforms disagree.
            factor = 1.0 + (self.unit(i, 20 + variant) - 0.5) * 0.1
            rec[amount_key] = round(float(rec[amount_key]) * factor, 2)
        elif u < 0.5 and "acheteur" in rec:
            mods = rec.setdefault("modifications", [])
            gap = max(1, day - previous_day)
            mdate = day - int(self.unit(i, 30 + variant) * min(gap, 20))
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
