"""What the asset modules share: the single-writer pool, the owners, the published tables'
column schemas (from the data dictionary) and links to the SQL that computes them, and a
10-row preview for materialization metadata."""

import inspect
from collections.abc import Callable, Iterable, Sequence
from functools import cache

import dagster as dg
import duckdb

from pipelines.common.paths import SQL_DIR
from pipelines.publishing.database import PUBLISHED_TABLES, dictionary_rows

WRITER_POOL = "duckdb_writer"  # DuckDB has one writer: every asset that writes shares this pool
OWNERS = ["team:pnad-tracker"]


@cache
def column_schemas() -> dict[str, dg.TableSchema]:
    """Published view -> its columns with their DuckDB type and French description."""
    columns: dict[str, list[dg.TableColumn]] = {}
    for row in dictionary_rows():
        columns.setdefault(row["view_name"], []).append(
            dg.TableColumn(row["column_name"], row["column_type"], row["description"])
        )
    return {view: dg.TableSchema(columns=cols) for view, cols in columns.items()}


def code_references(
    logic: Callable | None = None, sql_files: Iterable[str] = ()
) -> dict[str, dg.CodeReferencesMetadataValue]:
    """``dagster/code_references`` to where a table is computed: the plain function under
    ``pipelines/`` that builds it, then its SQL files (``sql/<name>.sql``); the asset's own
    wiring under ``assets/`` is added by ``pipelines/definitions.py``."""
    references = []
    if logic is not None:
        source = inspect.getsourcefile(logic)
        line = inspect.getsourcelines(logic)[1]
        references.append(dg.LocalFileCodeReference(file_path=source, line_number=line))
    references += [
        dg.LocalFileCodeReference(file_path=str(SQL_DIR / f"{name}.sql"), line_number=1)
        for name in sql_files
    ]
    if not references:
        return {}
    return {"dagster/code_references": dg.CodeReferencesMetadataValue(code_references=references)}


def table_spec(
    name: str,
    *,
    deps: Sequence[str | dg.AssetKey] = (),
    sql: Iterable[str] = (),
    logic: Callable | None = None,
    description: str | None = None,
    group: str,
    kinds: Iterable[str] = ("duckdb",),
) -> dg.AssetSpec:
    """The spec of one table a user queries: its description (the published one when there is
    none), its column schema when it is published, the function and SQL that compute it, owners,
    group and kinds."""
    schema = column_schemas().get(name)
    published = PUBLISHED_TABLES.get(name)
    metadata: dict[str, object] = {**code_references(logic, sql)}
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    return dg.AssetSpec(
        name,
        deps=list(deps),
        description=description or (published[1] if published else None),
        metadata=metadata,
        group_name=group,
        kinds=set(kinds),
        owners=OWNERS,
    )


def preview(con: duckdb.DuckDBPyConnection, query: str) -> dg.MetadataValue:
    """A 10-row markdown preview of a query, for the asset's materialization metadata."""
    frame = con.execute(query).df().head(10)
    return dg.MetadataValue.md(frame.to_markdown(index=False))
