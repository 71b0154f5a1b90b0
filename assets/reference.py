"""Reference layer: built-in territories and the consideration vocabulary."""

import dagster as dg

from assets.common import WRITER_POOL
from pipelines.lib import warehouse
from pipelines.resources import PnadWarehouse


@dg.asset(group_name="reference", kinds={"duckdb"}, pool=WRITER_POOL)
def reference_tables(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """ref_departements, ref_regions and consideration_vocabulary, from the project's CSV files
    (INSEE COG 2025 and the DECP 2022 consideration values)."""
    with warehouse_db.connect() as con:
        counts = warehouse.build_reference(con)
    return dg.MaterializeResult(metadata={f"rows_{k}": v for k, v in counts.items()})
