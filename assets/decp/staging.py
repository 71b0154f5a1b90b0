"""DECP records staged: the records of every new raw file (fields as text, rejects set aside,
unreadable files quarantined with their reason), and the buyers located through SIRENE.
Logic: ``pipelines/decp/parsing.py``, ``pipelines/reference/sirene.py``; SQL:
``sql/decp/staging/``."""

import dagster as dg

from assets._wiring import OWNERS, WRITER_POOL, preview, table_spec
from assets.reference import REFERENCE_TABLES
from assets.resources import PnadDuckDBResource
from pipelines.decp.contracts import buyers_to_locate
from pipelines.decp.parsing import parse_pending_files
from pipelines.decp.releases import apply_releases
from pipelines.reference import sirene

GROUP = "decp"
STAGING_SQL = [
    "decp/staging/batch_decp_json_records",
    "decp/staging/insert_stg_decp_records",
    "decp/staging/batch_decp_tabular_records",
    "decp/staging/insert_stg_decp_tabular_records",
]


@dg.multi_asset(
    name="decp_records",
    specs=[
        dg.AssetSpec(
            "decp_records",
            deps=["decp_raw_files", *REFERENCE_TABLES],
            description="stg_decp_records: one row per usable DECP record of every parsed file "
            "(all versions). Only files not parsed before are read.",
            metadata={"dagster/table_name": "stg_decp_records"},
            group_name=GROUP,
            kinds={"duckdb"},
            owners=OWNERS,
        ),
        *(
            table_spec(
                name,
                deps=["decp_raw_files"],
                sql=STAGING_SQL,
                logic=parse_pending_files,
                group=GROUP,
            )
            for name in ("ingest_files", "ingest_rejects")
        ),
        table_spec(
            "source_releases",
            deps=["decp_raw_files"],
            sql=["decp/staging/create_source_releases", "decp/staging/release_contract_changes"],
            logic=apply_releases,
            group=GROUP,
        ),
    ],
    pool=WRITER_POOL,
)
def decp_records(context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource):
    paths = duckdb.paths()
    with duckdb.get_connection() as con:
        outcome = parse_pending_files(con, paths, context.log.info)
        rows, files, rejects = con.execute(
            "select (select count(*) from stg_decp_records), (select count(*) from ingest_files), "
            "(select count(*) from ingest_rejects)"
        ).fetchone()
        sample = preview(
            con,
            "select relative_path, format, status, records_read, records_rejected, status_reason "
            "from ingest_files order by ingest_seq desc",
        )
        releases = con.execute("select count(*) from source_releases").fetchone()[0]
        latest_releases = preview(
            con,
            "select source, received_at, outcome, records, contracts, added, removed, reason "
            "from source_releases order by received_at desc",
        )
    yield dg.MaterializeResult(
        asset_key="decp_records",
        metadata={
            "dagster/row_count": rows,
            "files_parsed_now": outcome["parsed"],
            "files_quarantined_now": outcome["quarantined"],
            "files_unsupported_now": outcome["unsupported"],
            # snapshot sources: releases put in use (the previous one's records left) or set
            # aside now, and the contracts the sources withdrew
            "snapshot_releases_in_use_now": outcome["releases_in_use"],
            "snapshot_releases_quarantined_now": outcome["releases_quarantined"],
            "contracts_removed_by_sources_now": outcome["contracts_removed"],
            "raw_release_files_pruned_now": outcome["raw_files_pruned"],
        },
    )
    yield dg.MaterializeResult(
        asset_key="ingest_files", metadata={"dagster/row_count": files, "latest_files": sample}
    )
    yield dg.MaterializeResult(asset_key="ingest_rejects", metadata={"dagster/row_count": rejects})
    yield dg.MaterializeResult(
        asset_key="source_releases",
        metadata={"dagster/row_count": releases, "latest_releases": latest_releases},
    )


class SireneLookupConfig(dg.Config):
    limit: int = 2000  # API calls per run: a large backlog is spread over the daily runs
    max_per_second: float = 5.0  # the public API allows 7 per second per address


@dg.asset(
    group_name=GROUP,
    deps=["decp_records"],
    kinds={"python", "duckdb"},
    pool=WRITER_POOL,
    owners=OWNERS,
)
def buyer_sirene_lookup(
    context: dg.AssetExecutionContext, config: SireneLookupConfig, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """Buyers the SIREN prefix does not place, looked up once each in the public SIRENE search
    API (rate-limited); every answer is cached in sirene_cache. Needs the network: part of the
    pnad_update job, not of the offline refresh."""
    with duckdb.get_connection() as con:
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
        context.log.warning(
            f"{counts['failed']} recherche(s) SIRENE en échec ; reprises à la prochaine exécution"
        )
    return dg.MaterializeResult(
        metadata={"pending_before": len(pending), "cache_rows": cached, **counts}
    )
