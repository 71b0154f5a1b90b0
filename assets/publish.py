"""Publish layer: the analysts' database, replaced atomically at the end of a successful run."""

import dagster as dg

from assets.common import WRITER_POOL
from assets.facilitator import facilitator_hours
from assets.indicators import pnad_shares
from assets.reports import pnad_dashboard
from pipelines.publishing.database import publish_database
from pipelines.resources import PnadWarehouse


class PublishConfig(dg.Config):
    allow_shrink: bool = False  # publish even if far fewer contracts than last time


@dg.asset(
    group_name="publish",
    deps=[pnad_shares, facilitator_hours, pnad_dashboard],
    kinds={"duckdb"},
    pool=WRITER_POOL,
)
def published_database(
    context: dg.AssetExecutionContext, config: PublishConfig, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """PNAD_HOME/pnad.duckdb: the stable tables analysts query (contracts, pnad_shares,
    ingest_* ...), written beside the old file and renamed over it. Refuses a run with fewer
    than half the contracts of the last publication unless allow_shrink is set."""
    paths = warehouse_db.paths()
    with warehouse_db.connect() as con:
        counts = publish_database(
            con, paths, run_id=context.run.run_id, allow_shrink=config.allow_shrink
        )
    if counts.get("skipped"):
        return dg.MaterializeResult(
            metadata={"skipped": True, "reason": "already published from the same inputs"}
        )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.published_db)),
            "dagster/row_count": counts["contracts"],
            **{f"rows_{table}": rows for table, rows in counts.items()},
        }
    )
