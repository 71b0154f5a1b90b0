"""Run the project's SQL files (``sql/<layer>/<name>.sql``) against a DuckDB connection.

Values always go in as bound parameters (``$name``); the SQL text itself is never formatted.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb

from pipelines.lib.paths import SQL_DIR


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` (e.g. ``"core/contracts"``)."""
    path = (SQL_DIR / f"{name}.sql").resolve()
    if SQL_DIR.resolve() not in path.parents:
        raise ValueError(f"SQL name outside the sql/ folder: {name!r}")
    return path.read_text(encoding="utf-8")


def run_sql(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute one SQL file; only the parameters the statement names are passed."""
    text = sql_text(name)
    used = {k: v for k, v in (params or {}).items() if f"${k}" in text}
    return con.execute(text, used) if used else con.execute(text)


def table_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table whose name comes from the project's own fixed list."""
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {table!r}")
    return con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608 - fixed identifier
