"""``decp.parquet`` in decp-processing's layout: marchés only, the latest version of each
contract, one row per titulaire and per modification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipelines.demo.places import reference_tables
from pipelines.demo.vocabulary import NO_ENVIRONMENTAL, NO_SOCIAL
from pipelines.demo.writers.base import unwrap

PARQUET_BATCH_ROWS = 50_000


def parquet_schema():
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


def tabular_considerations(rec: dict, key: str, inner: str) -> str | None:
    if key not in rec:
        return None
    vals = ["Sans objet" if v in (NO_SOCIAL, NO_ENVIRONMENTAL) else v for v in rec[key][inner]]
    return ", ".join(vals)


def as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class ParquetSink:
    """decp.parquet in decp-processing's layout: marchés only, the latest version of each
    contract, one row per titulaire and per modification (modification_id 0 = initial data,
    donneesActuelles true on the current rows only)."""

    def __init__(self, out_dir: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.path = out_dir / "decp.parquet"
        self.files = [self.path]
        self.schema = parquet_schema()
        self.names = self.schema.names
        self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self.columns: dict[str, list] = {n: [] for n in self.names}
        self.rows = 0
        depts, regions, _ = reference_tables()
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
            "techniques": ", ".join(unwrap(rec["techniques"])),
            "offresRecues": rec["offresRecues"],
            "formePrix": rec["formePrix"],
            "typesPrix": ", ".join(unwrap(rec["typesPrix"])),
            "attributionAvance": rec["attributionAvance"],
            "tauxAvance": rec.get("tauxAvance"),
            "marcheInnovant": rec["marcheInnovant"],
            "modalitesExecution": ", ".join(unwrap(rec["modalitesExecution"])),
            "considerationsSociales": tabular_considerations(
                rec, "considerationsSociales", "considerationSociale"
            ),
            "considerationsEnvironnementales": tabular_considerations(
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
        versions = _versions(rec, montant)
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
                cols["dateNotification"].append(as_date(m_notif))
                cols["datePublicationDonnees"].append(as_date(m_pub))
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


def _versions(rec: dict, montant: float) -> list[tuple]:
    """(modification id, amount, duration, notification, publication) of the initial data
    (modification 0) and of each modification, absent values carried over."""
    versions = [
        (0, montant, rec["dureeMois"], rec["dateNotification"], rec["datePublicationDonnees"])
    ]
    for m in unwrap(rec.get("modifications", [])):
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
    return versions
