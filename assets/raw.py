"""Raw layer: the files landed under ``PNAD_HOME/raw/``, registered once each by checksum."""

import dagster as dg

from assets.common import WRITER_POOL
from pipelines.lib.decp_ingest import register_raw_files
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="raw", kinds={"python", "duckdb"}, pool=WRITER_POOL)
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
