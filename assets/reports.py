"""Reports layer: the national dashboard (one self-contained HTML page)."""

import dagster as dg

from assets.common import WRITER_POOL
from assets.indicators import (
    buyer_shares,
    opportunities,
    pnad_breakdowns,
    pnad_shares,
    pnad_shares_monthly,
)
from pipelines.lib.dashboard import write_dashboard
from pipelines.resources import PnadWarehouse


@dg.asset(
    group_name="reports",
    deps=[pnad_shares, pnad_shares_monthly, pnad_breakdowns, buyer_shares, opportunities],
    kinds={"html"},
    pool=WRITER_POOL,
)
def pnad_dashboard(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """PNAD_HOME/reports/index.html: national and per-year shares, régions and départements,
    each chart with its data table; plotly.js embedded once, works offline."""
    paths = warehouse_db.paths()
    with warehouse_db.connect() as con:
        target = write_dashboard(con, paths.dashboard_html)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), "bytes": target.stat().st_size}
    )
