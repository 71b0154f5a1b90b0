"""What readers get after each run: the national dashboard (a static HTML site under
``PNAD_HOME/reports/``) and the analysts' database ``PNAD_HOME/pnad.duckdb``, replaced
atomically. Logic: ``pipelines/publishing/dashboard.py``, ``pipelines/publishing/database.py``."""

from datetime import timedelta

import dagster as dg

from assets._wiring import OWNERS, WRITER_POOL, code_references
from assets.resources import PnadDuckDBResource
from pipelines.common import derived
from pipelines.indicators.after_2025 import AFTER_2025_TABLES
from pipelines.publishing import publications
from pipelines.publishing.dashboard import write_site
from pipelines.publishing.database import PUBLISHED_TABLES, publish_database
from pipelines.service.settings import service_settings_or_defaults

GROUP = "publishing"
FRESHNESS = service_settings_or_defaults()[0].freshness
# Published data is late, then stale, after so many hours without a successful refresh.
PUBLISHED_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=FRESHNESS.fail_after_hours),
    warn_window=timedelta(hours=FRESHNESS.warn_after_hours),
)
INDICATORS = [
    "pnad_shares",
    "pnad_shares_monthly",
    "pnad_breakdowns",
    "buyer_shares",
    *AFTER_2025_TABLES,
]


@dg.asset(
    group_name=GROUP,
    deps=[*INDICATORS, "opportunities"],
    kinds={"html"},
    pool=WRITER_POOL,
    owners=OWNERS,
    metadata=code_references(write_site),
    freshness_policy=PUBLISHED_FRESHNESS,
)
def pnad_dashboard(
    context: dg.AssetExecutionContext, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """PNAD_HOME/reports/: index.html (France), one page per région and per département,
    methode.html; each chart with its data table; plotly.js embedded once in index.html (no
    CDN), inline SVG charts elsewhere; opens from the file system."""
    paths = duckdb.paths()
    folder = publications.start(paths, publications.new_version(context.run.run_id))
    with duckdb.get_connection() as con:
        if derived.changed(con, paths, "publication") is None and publications.current(paths):
            # the pages readers see were made from the same inputs, code and day: kept (linked)
            publications.copy_current_site(paths, folder)
            return dg.MaterializeResult(
                metadata={"skipped": True, "reason": "nothing new since the current pages"}
            )
        site = write_site(con, paths, folder=folder)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(site.index)),
            "pages": site.pages,
            "outline_map": site.outlines,
        }
    )


class PublishConfig(dg.Config):
    allow_shrink: bool = False  # publish even if far fewer contracts than last time


@dg.asset(
    group_name=GROUP,
    # every published table, and the dashboard (published in the same run)
    deps=[*PUBLISHED_TABLES, "pnad_dashboard"],
    kinds={"duckdb"},
    pool=WRITER_POOL,
    owners=OWNERS,
    metadata=code_references(publish_database),
    freshness_policy=PUBLISHED_FRESHNESS,
)
def published_database(
    context: dg.AssetExecutionContext, config: PublishConfig, duckdb: PnadDuckDBResource
) -> dg.MaterializeResult:
    """PNAD_HOME/pnad.duckdb: the stable views analysts query (columns exactly those of the data
    dictionary), written beside the old file and renamed over it. Refuses a run with fewer
    than half the contracts of the last publication unless allow_shrink is set."""
    paths = duckdb.paths()
    with duckdb.get_connection() as con:
        fingerprint = derived.derived_fingerprint(con, paths)
        derived.forget(con, "publication")  # until this publication is made current
        counts = publish_database(
            con,
            paths,
            run_id=context.run.run_id,
            allow_shrink=config.allow_shrink,
            site=publications.staged(paths, context.run.run_id),
        )
        derived.mark_done(con, "publication", fingerprint)
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
