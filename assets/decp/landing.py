"""DECP files landed: the enabled sources downloaded into ``PNAD_HOME/raw/<source>/``, every data
file under ``raw/`` registered once by checksum, and a sensor that starts a refresh when files
land. Logic: ``pipelines/decp/sources.py``, ``pipelines/decp/landing.py``."""

import dagster as dg

from assets import jobs
from assets._wiring import OWNERS, WRITER_POOL, table_spec
from assets.resources import PnadDuckDBResource
from pipelines.common.formatting import OUTCOMES_FR
from pipelines.common.paths import PnadPaths
from pipelines.decp.landing import arrived_since, is_data_file, register_raw_files
from pipelines.decp.sources import fetch_sources, load_sources

GROUP = "decp"


@dg.multi_asset(
    name="decp_downloads",
    specs=[
        dg.AssetSpec(
            "decp_downloads",
            description="The files of the enabled sources of sources.toml, under "
            "PNAD_HOME/raw/<source>/ (conditional GET, published checksums, quarantine of bad "
            "bodies). One source failing does not stop the others.",
            group_name=GROUP,
            kinds={"python", "file"},
            owners=OWNERS,
        ),
        table_spec("download_manifest", logic=fetch_sources, group=GROUP),
    ],
    pool=WRITER_POOL,
)
def decp_downloads(context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource):
    paths = duckdb.paths()
    sources = load_sources(paths)
    with duckdb.get_connection() as con:
        outcomes = fetch_sources(con, paths, sources, context.log.info)
        attempts = con.execute("select count(*) from download_manifest").fetchone()[0]
    counts: dict[str, int] = {}
    for _, result in outcomes:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    for source, result in outcomes:
        if result.outcome in ("failed", "quarantined"):
            context.log.warning(
                f"{source.name} : {OUTCOMES_FR.get(result.outcome, result.outcome)} : "
                f"{result.reason}"
            )
    yield dg.MaterializeResult(
        asset_key="decp_downloads",
        metadata={
            "enabled_sources": sum(s.enabled for s in sources),
            **{f"files_{outcome}": n for outcome, n in sorted(counts.items())},
        },
    )
    yield dg.MaterializeResult(
        asset_key="download_manifest", metadata={"dagster/row_count": attempts}
    )


@dg.asset(
    group_name=GROUP,
    deps=["decp_downloads"],
    kinds={"python", "duckdb"},
    pool=WRITER_POOL,
    owners=OWNERS,
)
def decp_raw_files(
    context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """Every data file under PNAD_HOME/raw/ recorded in ingest_files (SHA-256, size, source).
    Files already registered are not read again."""
    paths = duckdb.paths()
    with duckdb.get_connection() as con:
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


@dg.sensor(
    job=jobs.pnad_refresh_job,
    minimum_interval_seconds=300,
    description="Starts a refresh when files are added to PNAD_HOME/raw/.",
    default_status=dg.DefaultSensorStatus(jobs.AUTOMATION.value),
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    # files removed (old releases pruned by the refresh itself) start nothing
    arrival = arrived_since(PnadPaths.resolve().raw, is_data_file, context.cursor)
    if arrival is None:
        return dg.SkipReason("aucun fichier nouveau sous raw/")
    context.update_cursor(str(arrival))
    return dg.RunRequest(run_key=f"raw:{arrival}")
