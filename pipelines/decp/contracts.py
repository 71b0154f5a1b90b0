"""The contract model: the staged records deduplicated into one row per contract, with its
versions, modifications, holders and subcontracting acts, and every record read accounted for.
Built whole, or for the contracts new files touch only (an increment). SQL:
``sql/decp/contracts/`` in the order of CONTRACT_MODEL; checks in ``sql/decp/checks/``."""

from __future__ import annotations

import duckdb

from pipelines.common.sql import checkpoint_after_bulk_write, run_sql, table_count
from pipelines.common.warehouse import (
    has_table,
    inputs_fingerprint,
    is_built_from,
    logic_version,
    mark_built,
)

# The contract model in build order: each file creates the table (or, for the per-value lookups,
# the temporary table) of its name.
CONTRACT_MODEL = (
    "decp/contracts/contract_identities",
    "decp/contracts/contract_versions",
    "decp/contracts/contract_modifications",
    "decp/contracts/contract_holders",
    "decp/contracts/contract_subcontracting",
    "decp/contracts/consideration_declarations",
    "decp/contracts/enum_lists",
    "decp/contracts/contract_buyers",
    "decp/contracts/contract_places",
    "decp/contracts/contracts",
)


CONTRACT_TABLES = (
    "contract_versions",
    "contract_modifications",
    "contract_holders",
    "contract_subcontracting",
    "contracts",
)


# Tables keyed by uid only (no base_uid): an increment finds their touched rows through
# contract_versions.
UID_KEYED_CONTRACT_TABLES = (
    "contract_modifications",
    "contract_holders",
    "contract_subcontracting",
)


# New staged records beyond this share of all of them: a full rebuild costs about as much.
INCREMENT_MAX_SHARE = 0.1


INCREMENT_DB = "contract_increment"


def build_contracts(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> dict[str, int]:
    """Deduplicate the staged records into contracts and account for every record read.

    Skipped (``rebuilt`` = 0) when nothing was parsed since the last build: a no-op run is fast.
    When the last build read the same logic, SIRENE answers and files, and only new files came
    since (a new daily file), only the contracts those files touch are computed again
    (``incremental`` = 1): the same tables as a full rebuild, in a fraction of the time.
    """
    fingerprint = inputs_fingerprint(con)
    if not force and is_built_from(con, "contracts", fingerprint):
        return {**_contract_counts(con), "rebuilt": 0, "incremental": 0}
    increment = not force and _prepare_increment(con)
    try:
        if not increment:
            # A full build writes each table in its own transaction: one transaction holding
            # millions of uncommitted rows ran out of memory or spilled (twice slower at 2 M).
            # The build is recorded as done only at the end: an interrupted one is redone in full
            # at the next run (no increment on top of it), and readers use the published database.
            con.execute(
                "delete from build_state where step in ('contracts', 'contracts_increment')"
            )
            for name in CONTRACT_MODEL:
                run_sql(con, name)
        con.execute("begin transaction")
        try:
            if increment:
                _apply_increment(con)
            run_sql(con, "decp/contracts/ingest_accounting")
            run_sql(con, "decp/contracts/schema_drift")
            mark_built(con, "contracts", fingerprint)
            mark_built(con, "contracts_increment", _increment_basis(con))
            con.execute(
                "create or replace table contract_build_inputs as "
                "select file_id, status from ingest_files"
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    finally:
        if increment:
            con.execute(f"detach database if exists {INCREMENT_DB}")  # noqa: S608 - fixed name
    checkpoint_after_bulk_write(con)
    return {**_contract_counts(con), "rebuilt": 1, "incremental": int(increment)}


def _contract_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: table_count(con, table) for table in CONTRACT_TABLES}


def _increment_basis(con: duckdb.DuckDBPyConnection) -> str:
    """What an increment must share with the last build: the logic, the SIRENE answers (they
    place buyers of every contract); and the day, for contracts.sql reads current_date."""
    located = con.execute("select count(*) from sirene_cache").fetchone()[0]
    today = con.execute("select current_date::varchar").fetchone()[0]
    return f"{logic_version()}:{located}|{today}"


def _prepare_increment(con: duckdb.DuckDBPyConnection) -> bool:
    """Compute the contracts the files parsed since the last build touch, into the in-memory
    database INCREMENT_DB; False when a full rebuild is needed instead.

    An increment needs: the last build's logic and SIRENE answers; every file it read still
    there with the same status (only new files since); few new records. Touched are the
    base_uids of the new records, and the contracts notified since the last build's day (the
    date plausibility reads current_date), with their families (ids equal up to trailing
    '#<digits>', which a shared id's uids must not take). Their records are run through the same
    SQL files as a full build, against only those records: per family, the result is the same.
    """
    row = con.execute("select fingerprint from build_state where step = 'contracts_increment'")
    previous = row.fetchone()
    if previous is None or not has_table(con, "contract_build_inputs"):
        return False
    basis, _, last_day = previous[0].partition("|")
    current_basis, _, today = _increment_basis(con).partition("|")
    if basis != current_basis or today < last_day:
        return False
    changed, new_records, all_records = con.execute(
        "select "
        "  (select count(*) from contract_build_inputs as b "
        "   where not exists (select 1 from ingest_files as f "
        "                     where f.file_id = b.file_id and f.status = b.status)), "
        "  (select count(*) from stg_decp_records where file_id not in "
        "   (select file_id from contract_build_inputs)), "
        "  (select count(*) from stg_decp_records)"
    ).fetchone()
    if changed or new_records > INCREMENT_MAX_SHARE * all_records:
        return False
    run_sql(con, "decp/contracts/contract_increment_records", {"last_day": last_day})
    database = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach ':memory:' as {INCREMENT_DB}")  # noqa: S608 - fixed name
    try:
        # The model's SQL files, unchanged, write into INCREMENT_DB and read, through the search
        # path, its stg_decp_records (the touched records only), then the working database.
        con.execute(
            f"create view {INCREMENT_DB}.main.stg_decp_records as "  # noqa: S608 - fixed names
            f'select r.* from "{database}".main.stg_decp_records as r '
            "semi join contract_increment_records as s using (file_id, position)"
        )
        con.execute(f"use {INCREMENT_DB}")  # noqa: S608 - fixed name
        con.execute("set search_path = $path", {"path": f'{INCREMENT_DB}.main,"{database}".main'})
        try:
            for name in CONTRACT_MODEL:
                run_sql(con, name)
        finally:
            con.execute(f'use "{database}"')
            con.execute("reset search_path")
    except Exception:
        con.execute(f"detach database if exists {INCREMENT_DB}")  # noqa: S608 - fixed name
        raise
    return True


def _apply_increment(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the touched contracts' rows with the increment's (in the open transaction)."""
    for table in UID_KEYED_CONTRACT_TABLES:
        con.execute(
            f"delete from {table} where uid in (select uid from contract_versions "  # noqa: S608
            "where base_uid in (select base_uid from contract_increment_records))"
        )
    for table in ("contracts", "contract_versions"):
        con.execute(
            f"delete from {table} "  # noqa: S608 - fixed names
            "where base_uid in (select base_uid from contract_increment_records)"
        )
    for table in CONTRACT_TABLES:
        con.execute(
            f"insert into {table} by name select * from {INCREMENT_DB}.main.{table}"  # noqa: S608
        )


def contract_plausibility(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float]]:
    """Implausible amounts, dates and durations (sql/decp/checks/contract_plausibility.sql):
    issue -> (contracts showing it, their share of all contracts)."""
    return {
        issue: (int(count), float(share or 0.0))
        for issue, count, _, share in run_sql(con, "decp/checks/contract_plausibility").fetchall()
    }


def buyers_to_locate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Buyer SIRETs neither the SIREN prefix nor the SIRENE cache place yet, largest first."""
    return [row[0] for row in run_sql(con, "decp/contracts/buyers_to_locate").fetchall()]
