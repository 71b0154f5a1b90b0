"""Small helpers shared by the asset modules (metadata previews)."""

import dagster as dg
import duckdb

WRITER_POOL = "duckdb_writer"  # DuckDB has one writer: every asset that writes shares this pool


def preview(con: duckdb.DuckDBPyConnection, query: str) -> dg.MetadataValue:
    """A 10-row markdown preview of a query, for the asset's materialization metadata."""
    frame = con.execute(query).df().head(10)
    return dg.MetadataValue.md(frame.to_markdown(index=False))
