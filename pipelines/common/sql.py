"""Run the project's SQL files (``sql/<layer>/<name>.sql``) against a DuckDB connection.

Values always go in as bound parameters (``$name``); the SQL text itself is never formatted.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.common.paths import SQL_DIR


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` (e.g. ``"decp/contracts/contracts"``)."""
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


def string_literal(text: str) -> str:
    """A SQL string literal, for the few statements that take no bound parameter (ATTACH,
    COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def quoted_identifier(name: str) -> str:
    """A SQL identifier, quoted (names from a database's own catalogue)."""
    return '"' + name.replace('"', '""') + '"'


def table_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table whose name comes from the project's own fixed list."""
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {table!r}")
    return con.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608 - fixed identifier


def checkpoint_after_bulk_write(con: duckdb.DuckDBPyConnection) -> None:
    """Write the committed changes into the database file once, at the end of a step that wrote
    a lot (see checkpoint_threshold in pipelines.common.warehouse.connect)."""
    con.execute("checkpoint")


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence]
) -> None:
    """Insert Python rows into one of the project's tables in one statement (DuckDB's executemany
    runs one statement per row: seconds for a thousand files)."""
    if not rows:
        return
    for name in (table, *columns):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not an identifier: {name!r}")
    data = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    con.register("_inserted_rows", data)
    try:
        con.execute(
            f"insert into {table} ({', '.join(columns)}) "  # noqa: S608 - checked identifiers
            "select * from _inserted_rows"
        )
    finally:
        con.unregister("_inserted_rows")
