"""Reference layer: territories, vocabularies and national series built into the project, and
the current INSEE commune and La Poste postal-code tables when they can be downloaded."""

import dagster as dg

from assets.common import WRITER_POOL
from pipelines.decp.sources import fetch_sources, install_departement_outlines, load_sources
from pipelines.reference.tables import build_reference
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="reference", kinds={"python", "duckdb"}, pool=WRITER_POOL)
def reference_downloads(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """The [reference.*] sources of sources.toml (INSEE COG communes, La Poste postal codes)
    fetched into PNAD_HOME/ref/<name>/ with the DECP downloader (conditional GET, atomic
    writes, quarantine); every attempt in download_manifest. Failing is not an error: the
    built-in tables are used instead (reference_status says so)."""
    paths = warehouse_db.paths()
    sources = load_sources(paths, section="reference")
    with warehouse_db.connect() as con:
        outcomes = fetch_sources(con, paths, sources, context.log.info, landing=paths.home / "ref")
        outlines = install_departement_outlines(con, paths)
    for source, result in outcomes:
        if result.outcome in ("failed", "quarantined"):
            context.log.warning(
                f"{source.name}: {result.outcome}: {result.reason}; the built-in table is used"
            )
    if outlines is None:
        context.log.warning("no usable département outlines: the dashboard draws its tile grid")
    return dg.MaterializeResult(
        metadata={source.name: result.outcome for source, result in outcomes}
    )


@dg.asset(group_name="reference", deps=[reference_downloads], kinds={"duckdb"}, pool=WRITER_POOL)
def reference_tables(
    context: dg.AssetExecutionContext, warehouse_db: PnadWarehouse
) -> dg.MaterializeResult:
    """ref_departements, ref_regions, vocabularies and series from the project's CSV files;
    ref_communes and ref_postal_code_exceptions from the downloaded INSEE and La Poste files
    when there are, else built-in (reference_status records which, with the reason)."""
    with warehouse_db.connect() as con:
        counts = build_reference(con, warehouse_db.paths())
        status = con.execute("select reference, origin, note from reference_status").fetchall()
        attempted = con.execute(
            "select count(*) from download_manifest where relative_path like 'ref/%' "
            "or source in ('cog_communes', 'laposte_postal_codes', 'departement_outlines')"
        ).fetchone()[0]
    # a warning when a download was tried and failed; offline runs (demo, refresh) just say it
    log = context.log.warning if attempted else context.log.info
    for reference, origin, note in status:
        if origin == "built-in":
            log(f"{reference}: {note}")
    return dg.MaterializeResult(
        metadata={
            **{f"rows_{k}": v for k, v in counts.items()},
            **{f"origin_{reference}": origin for reference, origin, _ in status},
        }
    )
