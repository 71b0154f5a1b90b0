"""Reports layer: the national dashboard, a static HTML site under PNAD_HOME/reports/."""

import dagster as dg

from assets.common import WRITER_POOL
from assets.indicators import (
    buyer_shares,
    opportunities,
    pnad_breakdowns,
    pnad_shares,
    pnad_shares_monthly,
)
from pipelines.publishing.dashboard import write_site
from pipelines.resources import PnadWarehouse


@dg.asset(
    group_name="reports",
    deps=[pnad_shares, pnad_shares_monthly, pnad_breakdowns, buyer_shares, opportunities],
    kinds={"html"},
    pool=WRITER_POOL,
)
def pnad_dashboard(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """PNAD_HOME/reports/: index.html (France), one page per région and per département,
    methode.html; each chart with its data table; plotly.js embedded once in index.html (no
    CDN), inline SVG charts elsewhere; opens from the file system."""
    with warehouse_db.connect() as con:
        site = write_site(con, warehouse_db.paths())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(site.index)),
            "pages": site.pages,
            "outline_map": site.outlines,
        }
    )
