"""One step of reading a batch of files, shared by the JSON and the tabular readers, and the
errors that mean "this file cannot be read"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

# Errors that mean "this file cannot be read"; any other DuckDB error is a bug and is raised.
FILE_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


class UnusableFileError(Exception):
    """The file's content cannot be used as DECP data (reason in the message)."""


@dataclass(frozen=True)
class Part:
    """One step of reading a batch: ``read`` fills batch_records, outside any transaction; then,
    in the transaction that stores the part, ``records_step`` adds its usable records to
    stg_decp_records (from batch_records, or for a tabular file straight from the file)."""

    read: Callable[[], None]
    records_step: str = "decp/staging/insert_stg_decp_records"
    params: dict | None = None
    # run first in the same transaction, with the same parameters (a CSV file's malformed rows)
    rejects_steps: tuple[str, ...] = ()
