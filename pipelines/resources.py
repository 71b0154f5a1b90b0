"""Dagster resources: the one data root and its working DuckDB database."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from pipelines.common import warehouse
from pipelines.common.paths import PnadPaths


class PnadWarehouse(dg.ConfigurableResource):
    """The data root (``PNAD_HOME``) and a connection to its working database.

    ``home`` empty means: ``$PNAD_HOME``, else ``<project>/data``, resolved when a run starts.
    """

    home: str = ""

    def paths(self) -> PnadPaths:
        return PnadPaths.resolve(self.home or None).ensure()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.paths()) as con:
            yield con
