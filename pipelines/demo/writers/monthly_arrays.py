"""Monthly files whose root is ``{"marches": [...]}``: the 2.0.0 flat draft
(``decp-2022-flat_YYYY-MM.json``) and the 2019 format (``decp-2019_YYYY-MM.json``)."""

from __future__ import annotations

from pathlib import Path

from pipelines.demo.vocabulary import NO_ENVIRONMENTAL, NO_SOCIAL
from pipelines.demo.writers.base import ENCODE, Sink, unwrap


class ArraySink(Sink):
    """Monthly files whose root is {"marches": [ ... ]} (flat 2.0.0 draft, 2019)."""

    def __init__(self, out_dir: Path, prefix: str, convert):
        super().__init__(out_dir)
        self.prefix, self.convert = prefix, convert

    def _start(self, key: str) -> None:
        self._open(f"{self.prefix}_{key}.json", '{"marches":[')

    def add(self, day_iso: str, rec: dict, ctx: dict, final: bool) -> bool:
        self._switch(day_iso[:7])
        self._write_item(ENCODE(self.convert(rec, ctx)))
        return True

    def _finish(self) -> None:
        self.handle.write("\n]}\n")


FLAT_MARCHE_ORDER = (
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


NONE_VALUES = frozenset(("Sans objet", NO_SOCIAL, NO_ENVIRONMENTAL))


def flat_list(value) -> list:
    return [v for v in unwrap(value) if v not in NONE_VALUES]


def to_flat(rec: dict, ctx: dict) -> dict:
    """2.0.0 draft shape: plain arrays, [] for none, explicit nulls."""
    if "acheteur" not in rec:
        out = {"id": rec["id"], "_type": "Contrat de concession"}
        for k, v in rec.items():
            if k == "concessionnaires":
                out[k] = unwrap(v)
            elif k.startswith("considerations"):
                out[k] = flat_list(v)
            elif k != "id":
                out[k] = v
        out["modifications"] = []
        return out
    src = {
        **rec,
        "_type": "Marché",
        "technique": flat_list(rec["techniques"]),
        "modaliteExecution": flat_list(rec["modalitesExecution"]),
        "typePrix": unwrap(rec["typesPrix"]),
        "titulaires": unwrap(rec["titulaires"]),
        "actesSousTraitance": unwrap(rec.get("actesSousTraitance", [])),
        "modificationsActesSousTraitance": [],
        "modifications": unwrap(rec.get("modifications", [])),
    }
    for key in ("considerationsSociales", "considerationsEnvironnementales"):
        if key in rec:
            src[key] = flat_list(rec[key])
    out = {}
    for k in FLAT_MARCHE_ORDER:
        if k in src:
            out[k] = src[k]
        elif k not in ("considerationsSociales", "considerationsEnvironnementales"):
            out[k] = None
    return out


FORME_PRIX_2019 = {
    "Définitif ferme": "Ferme",
    "Définitif actualisable": "Ferme et actualisable",
    "Définitif révisable": "Révisable",
    "Provisoire": "Révisable",
}


def to_2019(rec: dict, ctx: dict) -> dict:
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
    for m in unwrap(rec.get("modifications", [])):
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
        "formePrix": FORME_PRIX_2019[unwrap(rec["typesPrix"])[0]],
        "titulaires": tits,
        "modifications": mods,
    }
    return out
