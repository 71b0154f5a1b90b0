"""What a territory page and a coordinator's report show after 2025, read from the tables of the
after-2025 step (the working database for the dashboard, the published one for the reports: the
same names and columns): the PNAD 2022-2025 final balance, compliance with the 2026 obligations
and the list of non-compliant contracts, what weakens the shares (late publications, silent
buyers), and the projection of the current year. Values only: templates format them.

One query per table for every territory at once (the dashboard has 120 pages): aggregate tables
are read whole (a few rows per territory), lists are cut to ``listed`` rows per territory in SQL.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

OBLIGATIONS = {
    "environmental": "considération environnementale (tous marchés et concessions)",
    "social": "condition d'exécution sociale (marchés au-dessus des seuils européens)",
}
REQUIREMENTS = {
    "condition_execution": "condition d'exécution",
    "critere_attribution": "critère d'attribution",
}
Key = tuple[str, str | None]  # (level, territory code): ('national', 'FR'), ('region', '84')…

# Tables with a level and a territory_code: key -> rows, in this order.
TERRITORY_TABLES = {
    "balance": ("pnad_final_balance", "true", "level"),
    "compliance": (
        "obligation_compliance",
        "dimension = 'total' and month is null",
        "obligation",
    ),
    "compliance_monthly": (
        "obligation_compliance",
        "dimension = 'total' and month is not null",
        "month, obligation",
    ),
    "weaknesses": ("publication_weaknesses", "true", "year"),
    "projection": ("pnad_share_projection", "true", "consideration desc"),
}
# Lists of buyers or contracts, placed by the buyer's région and département: key -> first rows.
BUYER_LISTS = {
    "noncompliant": ("obligation_noncompliant", "true", "notification_date desc, uid, obligation"),
    "silent_buyers": (
        "silent_buyers",
        "true",
        "year desc, contracts_previous_year desc, buyer_siret",
    ),
    "late_buyers": (
        "buyer_publication_delays",
        "published_late > 0 and year = (select max(year) from buyer_publication_delays)",
        "late_share desc, published_late desc, buyer_siret",
    ),
}


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    cursor = con.execute(query, {k: v for k, v in params.items() if f"${k}" in query})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _territory_rows(con, table: str, where: str, order: str, only: Key | None) -> dict:
    """Rows of an aggregate table by (level, territory_code)."""
    params = {}
    if only is not None:
        where += " and level = $level and territory_code is not distinct from $code"
        params = {"level": only[0], "code": only[1]}
    grouped: dict[Key, list[dict]] = defaultdict(list)
    # table, condition and order from the fixed lists above; values bound
    for row in _rows(con, f"select * from {table} where {where} order by {order}", params):  # noqa: S608
        grouped[(row["level"], row["territory_code"])].append(row)
    return grouped


def _buyer_list(con, table: str, where: str, order: str, only: Key | None, listed: int):
    """The first ``listed`` rows of a list for France, each région and each département (by the
    buyer's territory), and how many there are in all."""
    placed = (
        f"select 'national' as list_level, 'FR' as list_code, * from {table} where {where} "  # noqa: S608
        f"union all select 'region', buyer_region_code, * from {table} "
        f"where {where} and buyer_region_code is not null "
        f"union all select 'departement', buyer_departement_code, * from {table} "
        f"where {where} and buyer_departement_code is not null"
    )
    keep = "true"
    params: dict = {"listed": listed}
    if only is not None:
        keep = "list_level = $level and list_code = $code"
        params |= {"level": only[0], "code": only[1]}
    rows = _rows(
        con,
        f"select *, count(*) over (partition by list_level, list_code) as list_total "  # noqa: S608
        f"from ({placed}) where {keep} "
        f"qualify row_number() over (partition by list_level, list_code order by {order}) "
        f"<= cast($listed as bigint) order by list_level, list_code, {order}",
        params,
    )
    grouped: dict[Key, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["list_level"], row["list_code"])].append(row)
    return grouped


def sections_by_territory(
    con: duckdb.DuckDBPyConnection, listed: int, only: Key | None = None
) -> dict[Key, dict]:
    """The after-2025 sections of every territory (or of ``only``): key -> sections."""
    found: dict[str, dict] = {
        name: _territory_rows(con, table, where, order, only)
        for name, (table, where, order) in TERRITORY_TABLES.items()
    }
    found |= {
        name: _buyer_list(con, table, where, order, only, listed)
        for name, (table, where, order) in BUYER_LISTS.items()
    }
    keys = {key for grouped in found.values() for key in grouped}
    return {key: _sections(found, key) for key in keys}


def _sections(found: dict[str, dict], key: Key) -> dict:
    balance = found["balance"].get(key, [])
    noncompliant = found["noncompliant"].get(key, [])
    silent = found["silent_buyers"].get(key, [])
    return {
        "balance": balance[0] if balance else None,
        "compliance": found["compliance"].get(key, []),
        "compliance_monthly": found["compliance_monthly"].get(key, []),
        "noncompliant": noncompliant,
        "noncompliant_count": noncompliant[0]["list_total"] if noncompliant else 0,
        "weaknesses": found["weaknesses"].get(key, []),
        "silent_buyers": silent,
        "silent_count": silent[0]["list_total"] if silent else 0,
        "late_buyers": found["late_buyers"].get(key, []),
        "projection": found["projection"].get(key, []),
        "obligation_labels": OBLIGATIONS,
        "requirement_labels": REQUIREMENTS,
    }


def territory_sections(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, listed: int
) -> dict:
    """The after-2025 sections of one territory (level national with code 'FR', region or
    departement); lists cut at ``listed`` rows, with their full counts."""
    key = (level, code)
    return sections_by_territory(con, listed, key).get(key) or empty_sections()


def empty_sections() -> dict:
    """The sections of a territory without any row in the after-2025 tables."""
    return _sections(defaultdict(dict), ("none", None))
