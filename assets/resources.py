"""The resource every asset uses: the working DuckDB database of the data root (``PNAD_HOME``),
as a ``dagster-duckdb`` resource, and the in-process executor (DuckDB accepts one writer)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths
from pipelines.service.runs import worker_tags


class PnadDuckDBResource(DuckDBResource):
    """The working database ``<home>/work/pnad_work.duckdb``, opened the project's way: bounded
    memory (``PNAD_DUCKDB_MEMORY``), spill folder, the SQL macros and bookkeeping tables in
    place, an older file brought up to date (``pipelines/common/warehouse.py connect``).

    ``home`` empty means ``$PNAD_HOME``, else ``<project>/data``, resolved when a run starts.
    ``database`` is derived from it; setting it to anything else is refused (the data root's
    layout is fixed, see ``pipelines/common/paths.py``).
    """

    home: str = Field(default="", description="data root (PNAD_HOME); empty: from the environment")
    database: str = Field(
        default="", description="working database; empty: <home>/work/pnad_work.duckdb"
    )

    def paths(self) -> PnadPaths:
        paths = PnadPaths.resolve(self.home or None).ensure()
        if self.database and Path(self.database).resolve() != paths.work_db:
            raise ValueError(
                f"la base de travail est {paths.work_db} pour la racine {paths.home} ; "
                f"« database = {self.database} » ne peut pas la remplacer"
            )
        return paths

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # which process executes the run: a run whose process dies is failed, not left
        # "started" forever (pipelines/service/runs.py)
        if context.instance is not None and context.run is not None:
            context.instance.add_run_tags(context.run.run_id, worker_tags())

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.paths()) as con:
            yield con


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"duckdb": PnadDuckDBResource()},
        # Runs execute in one process: DuckDB accepts one writer, and the steps are short SQL.
        executor=dg.in_process_executor,
    )
