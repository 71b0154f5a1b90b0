"""The demo's buyers as a SIRENE establishments stock file (the columns of INSEE's
StockEtablissement that the pipeline reads): loaded into sirene_cache by ``pnad demo`` as a user
with the stock file would (pipelines/reference/sirene.py ``load_stock_file``), so that lists of
buyers show names, as they do with real data. The DECP 2022 format carries no buyer name."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.demo.buyers import demo_buyers


def write_demo_sirene_stock(target: Path, size: int, seed: int) -> Path:
    """Write the stock file of the buyer pool of a demo run of ``size`` contracts and ``seed``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["siret", "codeCommuneEtablissement", "codePostalEtablissement",
             "denominationUsuelleEtablissement"]
        )  # fmt: skip
        for buyer in demo_buyers(size, seed):
            writer.writerow([buyer.siret, buyer.commune_code, buyer.postal_code, buyer.name])
    return target
