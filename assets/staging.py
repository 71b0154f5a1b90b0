"""Staging layer: the records of every new raw file, fields as text, rejects set aside."""

import dagster as dg

from assets.common import WRITER_POOL, preview
from assets.raw import decp_raw_files
from assets.reference import reference_tables
from pipelines.decp.contracts import buyers_to_locate
from pipelines.decp.parsing import parse_pending_files
from pipelines.reference import sirene
from pipelines.resources import PnadWarehouse


@dg.asset(
    group_name="staging",
    deps=[decp_raw_files, reference_tables],
    kinds={"duckdb"},
    pool=WRITER_POOL,
)
def decp_records(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """stg_decp_records: one row per usable DECP record of every parsed file (all versions).
    Only files not parsed before are read; unreadable files are quarantined with their reason."""
    paths = warehouse_db.paths()
    with warehouse_db.connect() as con:
        outcome = parse_pending_files(con, paths, context.log.info)
        rows = con.execute("select count(*) from stg_decp_records").fetchone()[0]
        rejects = con.execute("select count(*) from ingest_rejects").fetchone()[0]
        sample = preview(
            con,
            "select relative_path, format, status, records_read, records_rejected, status_reason "
            "from ingest_files order by ingest_seq desc",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "files_parsed_now": outcome["parsed"],
            "files_quarantined_now": outcome["quarantined"],
            "files_unsupported_now": outcome["unsupported"],
            "rejected_records_total": rejects,
            "latest_files": sample,
        }
    )


class SireneLookupConfig(dg.Config):
    limit: int = 2000  # API calls per run: a large backlog is spread over the daily runs
    max_per_second: float = 5.0  # the public API allows 7 per second per address


@dg.asset(group_name="staging", deps=[decp_records], kinds={"python", "duckdb"}, pool=WRITER_POOL)
def buyer_sirene_lookup(
    context: dg.AssetExecutionContext, config: SireneLookupConfig, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """Buyers the SIREN prefix does not place, looked up once each in the public SIRENE search
    API (rate-limited); every answer is cached in sirene_cache. Needs the network: part of the
    pnad_update job, not of the offline refresh."""
    with warehouse_db.connect() as con:
        pending = buyers_to_locate(con)
        counts = sirene.lookup_sirets(
            con,
            pending,
            max_per_second=config.max_per_second,
            limit=config.limit,
            log=context.log.info,
        )
        cached = con.execute("select count(*) from sirene_cache").fetchone()[0]
    if counts["failed"]:
        context.log.warning(f"{counts['failed']} SIRENE lookups failed; they are retried next run")
    return dg.MaterializeResult(
        metadata={"pending_before": len(pending), "cache_rows": cached, **counts}
    )
