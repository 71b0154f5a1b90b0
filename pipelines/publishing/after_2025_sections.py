"""What a territory page and a coordinator's report show after 2025, read from the tables of the
after-2025 step (the working database for the dashboard, the published one for the reports: the
same names and columns): the PNAD 2022-2025 final balance, compliance with the 2026 obligations
and the list of non-compliant contracts, what weakens the shares (late publications, silent
buyers), and the projection of the current year. Values only: templates format them."""

from __future__ import annotations

import duckdb

OBLIGATIONS = {
    "environmental": "considération environnementale (tous marchés et concessions)",
    "social": "condition d'exécution sociale (marchés au-dessus des seuils européens)",
}
REQUIREMENTS = {
    "condition_execution": "condition d'exécution",
    "critere_attribution": "critère d'attribution",
}


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    cursor = con.execute(query, {k: v for k, v in params.items() if f"${k}" in query})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


TERRITORY = "level = $level and territory_code is not distinct from $code"
BUYER_TERRITORY = (
    "(($level = 'national') or ($level = 'region' and buyer_region_code = $code) "
    "or ($level = 'departement' and buyer_departement_code = $code))"
)


def territory_sections(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, listed: int
) -> dict:
    """The after-2025 sections of one territory (level national with code 'FR', region or
    departement); lists cut at ``listed`` rows, with their full counts."""
    params = {"level": level, "code": code, "listed": listed}
    balance = _rows(con, f"select * from pnad_final_balance where {TERRITORY}", params)  # noqa: S608
    compliance = _rows(
        con,
        "select * from obligation_compliance where dimension = 'total' and month is null "  # noqa: S608
        f"and {TERRITORY} order by obligation",
        params,
    )
    monthly = _rows(
        con,
        "select * from obligation_compliance where dimension = 'total' and month is not null "  # noqa: S608
        f"and {TERRITORY} order by month, obligation",
        params,
    )
    noncompliant = _rows(
        con,
        f"select * from obligation_noncompliant where {BUYER_TERRITORY} "  # noqa: S608
        "order by notification_date desc, uid, obligation",
        params,
    )
    weaknesses = _rows(
        con,
        f"select * from publication_weaknesses where {TERRITORY} order by year",  # noqa: S608
        params,
    )
    silent = _rows(
        con,
        f"select * from silent_buyers where {BUYER_TERRITORY} "  # noqa: S608
        "order by year desc, contracts_previous_year desc, buyer_siret",
        params,
    )
    late_buyers = _rows(
        con,
        f"select * from buyer_publication_delays where {BUYER_TERRITORY} "  # noqa: S608
        "and published_late > 0 and year = (select max(year) from buyer_publication_delays) "
        "order by late_share desc, published_late desc, buyer_siret limit $listed",
        params,
    )
    projection = _rows(
        con,
        f"select * from pnad_share_projection where {TERRITORY} order by consideration desc",  # noqa: S608
        params,
    )
    return {
        "balance": balance[0] if balance else None,
        "compliance": compliance,
        "compliance_monthly": monthly,
        "noncompliant": noncompliant[:listed],
        "noncompliant_count": len(noncompliant),
        "weaknesses": weaknesses,
        "silent_buyers": silent[:listed],
        "silent_count": len(silent),
        "late_buyers": late_buyers,
        "projection": projection,
        "obligation_labels": OBLIGATIONS,
        "requirement_labels": REQUIREMENTS,
    }
