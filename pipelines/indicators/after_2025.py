"""What the project answers after 2025: the final balance of the PNAD 2022-2025, the obligations
in force since 21 August 2026 (``obligations.py``), the buyers who stop publishing or publish
late, and the projection of the current year's shares.

Each table is built by one SQL file ``sql/indicators/<name>.sql`` from the contracts and the
indicators before it; ``build_after_2025`` builds them all, in dependency order.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.common.paths import PnadPaths
from pipelines.indicators.build import build_indicator
from pipelines.indicators.obligations import build_contract_obligations, load_consultation_lags

FINAL_YEAR = 2025  # the PNAD 2022-2025 targets were for this year

# Table -> the tables it is built from (besides the reference tables), in build order.
AFTER_2025_TABLES: dict[str, tuple[str, ...]] = {
    "buyer_names": ("contracts",),
    "contract_first_publications": ("contracts", "contract_versions"),
    "contract_obligations": ("contracts", "ref_obligation_rules", "ref_eu_thresholds"),
    "obligation_compliance": ("contract_obligations",),
    "obligation_buyer_compliance": ("contract_obligations", "buyer_names"),
    "obligation_noncompliant": ("contract_obligations", "buyer_names"),
    "pnad_final_balance": ("pnad_shares", "contracts", "contract_first_publications"),
    "silent_buyers": ("contracts", "contract_first_publications", "buyer_names"),
    "buyer_publication_delays": ("contracts", "contract_first_publications", "buyer_names"),
    "publication_weaknesses": ("buyer_publication_delays", "silent_buyers"),
    "pnad_share_projection": ("pnad_shares_monthly",),
}


def build_after_2025_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    paths: PnadPaths | None = None,
    today: date | None = None,
) -> int:
    """Build one table of AFTER_2025_TABLES (its upstream tables must exist); returns its rows.
    ``today`` dates the projection (default: the real date)."""
    if name not in AFTER_2025_TABLES:
        raise ValueError(f"not a table of this step: {name!r}")
    if name == "contract_obligations":
        return build_contract_obligations(con, load_consultation_lags(paths))
    params = {"final_year": FINAL_YEAR, "today": today or date.today()}
    return build_indicator(con, name, params)


def build_after_2025(
    con: duckdb.DuckDBPyConnection,
    paths: PnadPaths | None = None,
    *,
    today: date | None = None,
) -> dict[str, int]:
    """Build every table of AFTER_2025_TABLES in order, in one transaction; their row counts."""
    counts = {}
    con.execute("begin transaction")
    try:
        for name in AFTER_2025_TABLES:
            counts[name] = build_after_2025_table(con, name, paths=paths, today=today)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts
