"""The analysts' database updated rather than written whole (issue 18): each new publication's
file starts as a copy of the one in use, and the tables with a row (or a few) per contract are
updated for the contracts whose rows changed; the other tables, small, are written whole by
``database.py``. The result holds the same rows as a file written whole (only their order on
disk differs); ``publication.updates_since_whole`` says how many updates the file has had.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.common.sql import quoted_identifier as _quoted

# The tables with a row (or a few) per contract, updated in a copy of the previous publication's
# file: only the contracts whose rows changed are deleted and inserted again (a daily file touches
# a few thousand of a million). Every other table is small and written whole.
UPDATED_BY_CONTRACT = (
    "contracts",
    "contract_sources",
    "contract_obligations",
    "contract_holders",
    "contract_modifications",
    "contract_subcontracting",
)
# An updated file keeps the space of the rows it deleted until DuckDB reuses it: the file is
# written whole again after this many updates in a row, and for a table when more than this
# share of its contracts changed (rewriting it is then as cheap).
MAX_UPDATES = 30
MAX_CHANGED_SHARE = 0.2


def start_from(previous: Path | None, target: Path) -> int | None:
    """Copy the publication in use to ``target`` when it can be updated; returns the number of
    updates the copy will have had since it was last written whole, or None (``target`` then
    starts empty): no publication, one of an earlier release, or MAX_UPDATES reached."""
    if previous is None or not previous.is_file():
        return None
    try:
        with duckdb.connect(str(previous), read_only=True) as con:
            done = con.execute("select updates_since_whole from publication").fetchone()[0]
    except duckdb.Error:  # written before updates existed, or unreadable: write it whole
        return None
    if done >= MAX_UPDATES:
        return None
    shutil.copyfile(previous, target)  # a new file: the one in use is never written
    return done + 1


def update_by_contract(work: duckdb.DuckDBPyConnection, alias: str, table: str, query: str) -> bool:
    """Update ``alias.store.<table>`` (a copy of the last publication's) to the rows of ``query``:
    the contracts (uid) whose rows differ in number or content (sum of row hashes, as the
    downloads' fingerprints) are deleted, then inserted again from the query. False, nothing
    changed, when the table cannot be updated so: absent, other columns, a null uid, or more
    than MAX_CHANGED_SHARE of its contracts changed."""
    stored = work.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = $db and schema_name = 'store' and table_name = $table "
        "order by column_index",
        {"db": alias, "table": table},
    ).fetchall()
    wanted = [(name, kind) for name, kind, *_ in work.execute(f"describe {query}").fetchall()]
    if not stored or stored != wanted:
        return False
    # fixed names; the query is one of PUBLISHED_TABLES
    per_contract = "select uid, count(*) as rows, sum(hash(r)) as total from {} as r group by uid"
    now = per_contract.format(f"({query})")
    before = per_contract.format(f"{alias}.store.{table}")
    work.execute(
        "create or replace temp table publication_changed as "  # noqa: S608
        f"select uid, now.uid is null as removed from ({now}) as now "
        f"full join ({before}) as before using (uid) "
        "where now.rows is distinct from before.rows or now.total is distinct from before.total"
    )
    changed, nulls = work.execute(
        "select count(*), count(*) filter (where uid is null) from publication_changed"
    ).fetchone()
    total = work.execute(f"select count(distinct uid) from {alias}.store.{table}").fetchone()[0]  # noqa: S608
    if nulls or changed > MAX_CHANGED_SHARE * max(total, 1):
        return False
    if changed:
        work.execute(
            f"delete from {alias}.store.{table} "  # noqa: S608 - fixed names
            "where uid in (select uid from publication_changed)"
        )
        work.execute(
            f"insert into {alias}.store.{table} select * from ({query}) as q "  # noqa: S608
            "where uid in (select uid from publication_changed where not removed)"
        )
    return True


def drop_the_rest(work: duckdb.DuckDBPyConnection, alias: str, published: list[str]) -> None:
    """In a copy of the last publication: its views and tables that are not (or no longer)
    ``published`` tables; they are made again from this run."""
    for kind, schema, name in work.execute(
        "select 'view', schema_name, view_name from duckdb_views() "
        "where database_name = $db and not internal "
        "union all select 'table', schema_name, table_name from duckdb_tables() "
        "where database_name = $db and not (schema_name = 'store' and "
        "table_name in (select unnest($published)))",
        {"db": alias, "published": published},
    ).fetchall():
        work.execute(f"drop {kind} {alias}.{_quoted(schema)}.{_quoted(name)}")
