"""Reference data: territories, vocabularies and national series built into the project, and the
current INSEE commune and La Poste postal-code tables when they can be downloaded.
Logic: ``pipelines/reference/``; SQL: ``sql/reference/``."""

import dagster as dg

from assets._wiring import OWNERS, WRITER_POOL, table_spec
from assets.resources import PnadDuckDBResource
from pipelines.common.formatting import OUTCOMES_FR
from pipelines.decp.sources import fetch_sources, load_sources
from pipelines.reference.outlines import install_departement_outlines
from pipelines.reference.tables import build_reference

GROUP = "reference"


@dg.asset(group_name=GROUP, kinds={"python", "duckdb"}, pool=WRITER_POOL, owners=OWNERS)
def reference_downloads(
    context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """The [reference.*] sources of sources.toml (INSEE COG communes, La Poste postal codes)
    fetched into PNAD_HOME/ref/<name>/ with the DECP downloader (conditional GET, atomic
    writes, quarantine); every attempt in download_manifest. Failing is not an error: the
    built-in tables are used instead (reference_status says so)."""
    paths = duckdb.paths()
    sources = load_sources(paths, section="reference")
    with duckdb.get_connection() as con:
        outcomes = fetch_sources(con, paths, sources, context.log.info, landing=paths.home / "ref")
        outlines = install_departement_outlines(con, paths)
    for source, result in outcomes:
        if result.outcome in ("failed", "quarantined"):
            context.log.warning(
                f"{source.name} : {OUTCOMES_FR.get(result.outcome, result.outcome)} : "
                f"{result.reason} ; la table intégrée au projet est utilisée"
            )
    if outlines is None:
        context.log.warning(
            "pas de contours de départements utilisables : le tableau de bord dessine sa "
            "grille de tuiles"
        )
    return dg.MaterializeResult(
        metadata={source.name: result.outcome for source, result in outcomes}
    )


REFERENCE_TABLES = {
    "ref_departements": "reference/ref_departements",
    "ref_regions": "reference/ref_regions",
    "ref_communes": "reference/ref_communes",
    "ref_oecp_series": "reference/ref_oecp_series",
    "reference_status": "reference/reference_status",
    "ref_obligation_rules": "reference/ref_obligation_rules",
    "ref_eu_thresholds": "reference/ref_eu_thresholds",
    "ref_threshold_buyer_types": "reference/ref_threshold_buyer_types",
}


@dg.multi_asset(
    name="reference_tables",
    specs=[
        table_spec(
            name, deps=["reference_downloads"], sql=[sql], logic=build_reference, group=GROUP
        )
        for name, sql in REFERENCE_TABLES.items()
    ],
    pool=WRITER_POOL,
)
def reference_tables(context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource):
    """ref_departements, ref_regions, vocabularies and series from the project's CSV files;
    ref_communes and ref_postal_code_exceptions from the downloaded INSEE and La Poste files
    when there are, else built-in (reference_status records which, with the reason)."""
    with duckdb.get_connection() as con:
        counts = build_reference(con, duckdb.paths())
        status = con.execute("select reference, origin, note from reference_status").fetchall()
        attempted = con.execute(
            "select count(*) from download_manifest where relative_path like 'ref/%' "
            "or source in ('cog_communes', 'laposte_postal_codes', 'departement_outlines')"
        ).fetchone()[0]
    # a warning when a download was tried and failed; offline runs (demo, refresh) just say it
    log = context.log.warning if attempted else context.log.info
    for reference, origin, note in status:
        if origin == "built-in":
            log(f"{reference} : {note}")
    origins = {reference: origin for reference, origin, _ in status}
    for name in REFERENCE_TABLES:
        rows = counts.get(name, len(status) if name == "reference_status" else None)
        metadata = {"dagster/row_count": rows} if rows is not None else {}
        if name in origins:
            metadata["origin"] = origins[name]
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
