"""Raw layer: the files landed under ``PNAD_HOME/raw/``, registered once each by checksum."""

import dagster as dg

from assets.common import WRITER_POOL
from pipelines.decp.landing import register_raw_files
from pipelines.decp.sources import fetch_sources, load_sources
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="raw", kinds={"python", "duckdb"}, pool=WRITER_POOL)
def decp_downloads(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """The enabled sources of sources.toml fetched into PNAD_HOME/raw/<source>/ (conditional GET,
    published checksums, quarantine of bad bodies); every attempt in download_manifest.
    One source failing does not stop the others."""
    paths = warehouse_db.paths()
    sources = load_sources(paths)
    with warehouse_db.connect() as con:
        outcomes = fetch_sources(con, paths, sources, context.log.info)
    counts: dict[str, int] = {}
    for _, result in outcomes:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    for source, result in outcomes:
        if result.outcome in ("failed", "quarantined"):
            context.log.warning(f"{source.name}: {result.outcome}: {result.reason}")
    return dg.MaterializeResult(
        metadata={
            "enabled_sources": sum(s.enabled for s in sources),
            **{f"files_{outcome}": n for outcome, n in sorted(counts.items())},
        }
    )


@dg.asset(group_name="raw", deps=[decp_downloads], kinds={"python", "duckdb"}, pool=WRITER_POOL)
def decp_raw_files(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """Every data file under PNAD_HOME/raw/ recorded in ingest_files (SHA-256, size, source).
    Files already registered are not read again."""
    paths = warehouse_db.paths()
    with warehouse_db.connect() as con:
        summary = register_raw_files(con, paths, context.log.info)
        total = con.execute("select count(*) from ingest_files").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "new_files": summary.new_files,
            "unchanged_files": summary.known_files,
            "duplicate_content_files": summary.duplicate_content,
            "raw_folder": str(paths.raw),
        }
    )
