"""The obligations in force since 21 August 2026 (loi Climat et Résilience, art. 35): which
contracts they apply to, whether they comply, and the compliance indicators.

The rules and their legal sources are reference tables (``pipelines/reference/
obligation_rules.csv``, ``eu_thresholds.csv``, ``threshold_buyer_types.csv``); the one setting, how
long before its notification a consultation is launched, by procedure, is
``pipelines/indicators/obligations.toml``, overridden by ``$PNAD_HOME/obligations.toml``.
SQL: ``sql/indicators/contract_obligations.sql``, ``obligation_compliance.sql``,
``obligation_noncompliant.sql``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, field_validator

from pipelines.common.paths import PnadPaths
from pipelines.common.settings import load_settings
from pipelines.common.sql import insert_rows, run_sql, table_count

SHIPPED = Path(__file__).with_name("obligations.toml")
Lag = tuple[int, int]


class ConsultationLags(BaseModel):
    """The ``[consultation_lag]`` table: [min_days, max_days] between a consultation's launch and
    the contract's notification, by procedure (as the DECP spell it), and for any other."""

    model_config = ConfigDict(extra="forbid")
    default_days: Lag
    by_procedure: dict[str, Lag] = {}

    @field_validator("default_days")
    @classmethod
    def _ordered(cls, value: Lag) -> Lag:
        return _check_lag(value)

    @field_validator("by_procedure")
    @classmethod
    def _each_ordered(cls, value: dict[str, Lag]) -> dict[str, Lag]:
        for lag in value.values():
            _check_lag(lag)
        return value


def _check_lag(lag: Lag) -> Lag:
    low, high = lag
    if not 0 <= low <= high <= 1000:
        raise ValueError(
            f"doit être [jours minimum, jours maximum] avec 0 <= minimum <= maximum <= 1000 "
            f"(reçu : [{low}, {high}])"
        )
    return lag


def load_consultation_lags(paths: PnadPaths | None = None) -> ConsultationLags:
    """The shipped lags, each key replaced by ``$PNAD_HOME/obligations.toml``'s when given."""
    override = (paths or PnadPaths.resolve()).home / "obligations.toml"
    return load_settings(ConsultationLags, SHIPPED, override, "consultation_lag")


def build_contract_obligations(
    con: duckdb.DuckDBPyConnection, lags: ConsultationLags | None = None
) -> int:
    """contract_obligations from contracts and the rule tables, with the consultation lags of
    the settings (written to obligation_consultation_lags, which the SQL reads; the NULL
    procedure row is the default). Returns the number of contracts."""
    lags = lags or load_consultation_lags()
    con.execute(
        "create or replace table obligation_consultation_lags "
        "(procedure_key varchar, procedure varchar, min_days integer, max_days integer)"
    )
    rows = [(None, None, *lags.default_days)]
    rows += [(procedure, procedure, *lag) for procedure, lag in lags.by_procedure.items()]
    insert_rows(
        con,
        "obligation_consultation_lags",
        ("procedure_key", "procedure", "min_days", "max_days"),
        rows,
    )
    # matched on the spelling key, as the DECP spell procedures many ways
    con.execute(
        "update obligation_consultation_lags set procedure_key = spelling_key(procedure) "
        "where procedure is not null"
    )
    run_sql(con, "indicators/contract_obligations")
    return table_count(con, "contract_obligations")
