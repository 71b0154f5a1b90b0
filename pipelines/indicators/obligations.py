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
from pipelines.common.warehouse import has_table, is_built_from, logic_version, mark_built

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


# The columns of contracts an obligation row is computed from (the contract's own, and an
# accord-cadre's for the marchés subséquents that name it).
OBLIGATION_INPUTS = (
    "in_pnad_scope", "kind", "contract_id", "buyer_siret", "buyer_name", "buyer_category",
    "buyer_region_code", "buyer_departement_code", "nature", "procedure", "market_type", "objet",
    "framework_id", "is_subsequent_contract", "notification_date", "initial_amount",
    "amount_quality", "social_status", "social_kinds", "environmental_status",
    "environmental_kinds",
)  # fmt: skip
# Contracts touched beyond this share of all of them: computing them all costs about as much.
INCREMENT_MAX_SHARE = 0.1


def build_contract_obligations(
    con: duckdb.DuckDBPyConnection, lags: ConsultationLags | None = None
) -> int:
    """contract_obligations from contracts and the rule tables, with the consultation lags of
    the settings (written to obligation_consultation_lags, which the SQL reads; the NULL
    procedure row is the default). Returns the number of contracts.

    Computed again only for the contracts whose inputs changed since the last build (and the
    marchés subséquents of those that are accords-cadres) when the rules, the lags and the SQL
    are the same as then and few contracts changed; else for all. Either way the table is the
    same. ``obligation_build`` (a temporary table) says which was done and for how many."""
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
    columns = ", ".join(OBLIGATION_INPUTS)
    con.execute(
        "create or replace temp table obligation_inputs_now as "  # noqa: S608 - fixed names
        f"select uid, buyer_siret, contract_id, hash({columns}) as inputs from contracts"
    )
    basis = _basis(con)
    touched = _touched(con, basis)
    run_sql(con, "indicators/contract_obligations", {"all_contracts": touched is None})
    if touched is None:
        con.execute("drop table if exists contract_obligations")
        con.execute("alter table contract_obligations_computed rename to contract_obligations")
    else:
        con.execute(
            "delete from contract_obligations "
            "where uid in (select uid from obligation_uids_to_compute)"
        )
        con.execute("insert into contract_obligations select * from contract_obligations_computed")
        con.execute("drop table contract_obligations_computed")
    con.execute("create or replace table contract_obligation_inputs as from obligation_inputs_now")
    mark_built(con, "contract_obligations_basis", basis)
    con.execute(
        "create or replace temp table obligation_build as "
        "select $whole as whole, $computed::bigint as computed",
        {"whole": touched is None, "computed": touched},
    )
    return table_count(con, "contract_obligations")


def _basis(con: duckdb.DuckDBPyConnection) -> str:
    """What every obligation row depends on besides its contracts: the SQL and reference files,
    the rule tables as loaded, the consultation lags."""
    tables = ("ref_obligation_rules", "ref_eu_thresholds", "ref_threshold_buyer_types")
    sums = [
        con.execute(f"select count(*), sum(hash(t)) from {table} as t").fetchone()  # noqa: S608
        for table in (*tables, "obligation_consultation_lags")
    ]
    return f"{logic_version()}:{sums}"


def _touched(con: duckdb.DuckDBPyConnection, basis: str) -> int | None:
    """The contracts to compute again into the temporary table obligation_uids_to_compute, and
    how many they are; None when all are to be computed (first build, other basis, too many
    changed)."""
    con.execute("create or replace temp table obligation_uids_to_compute (uid varchar)")
    if not (
        is_built_from(con, "contract_obligations_basis", basis)
        and has_table(con, "contract_obligations")
        and has_table(con, "contract_obligation_inputs")
    ):
        return None
    # changed: inputs differ, new or gone; then the subséquents naming a changed contract as
    # their accord-cadre (by its buyer and id, before or after the change)
    con.execute(
        "insert into obligation_uids_to_compute "
        "with changed as ("
        "  select uid, now.buyer_siret as buyer_now, now.contract_id as id_now, "
        "    before.buyer_siret as buyer_before, before.contract_id as id_before "
        "  from obligation_inputs_now as now "
        "  full join contract_obligation_inputs as before using (uid) "
        "  where now.inputs is distinct from before.inputs"
        ") "
        "select uid from changed "
        "union select s.uid from contracts as s join changed as c "
        "  on s.buyer_siret = c.buyer_now and s.framework_id = c.id_now "
        "  where s.is_subsequent_contract "
        "union select s.uid from contracts as s join changed as c "
        "  on s.buyer_siret = c.buyer_before and s.framework_id = c.id_before "
        "  where s.is_subsequent_contract"
    )
    touched, contracts = con.execute(
        "select (select count(*) from obligation_uids_to_compute), (select count(*) from contracts)"
    ).fetchone()
    if touched > INCREMENT_MAX_SHARE * contracts:
        return None
    return touched
