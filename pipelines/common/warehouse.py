"""The working DuckDB database: opening it, installing the project's macros, building each layer.

Each ``build_*`` function is what one Dagster asset runs; tests call them directly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache

import duckdb

from pipelines.common.paths import REFERENCE_DIR, SQL_DIR, PnadPaths
from pipelines.common.sql import (
    checkpoint_after_bulk_write,
    run_sql,
    sql_text,
    string_literal,
    table_count,
)
from pipelines.reference import sirene

MACROS = (
    "macros/spelling_key",
    "macros/decp_list",
    "macros/siret_is_valid",
    "macros/siren_departement_code",
    "macros/place_departement_code",
    "macros/tabular_text",
    "macros/tabular_list",
    "macros/list_each_once",
    "macros/tabular_holders",
    "macros/amount_quality",
    "macros/buyer_category",
    "macros/legal_category_buyer_category",
    "macros/territory_level",
    "macros/territory_code",
    "macros/french_number",
    "macros/french_date",
    "macros/yes_no",
)


# The working database's file format. DuckDB's default (v0.10.2, readable by every 1.x release)
# lacks the newer string compression: writing 2 M contracts took 12 s instead of 8, in a file a
# quarter larger. Only the pipeline opens the working database (analysts read the published one,
# written in the default format), so it uses the newer format. A file made in an older format is
# rewritten once in this one (_upgrade_storage).
WORK_DB_STORAGE_VERSION = "v1.3.0"


class DatabaseBusyError(RuntimeError):
    """Another process holds the working database (DuckDB has a single writer)."""


def _open(paths: PnadPaths) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(
            str(paths.work_db), config={"storage_compatibility_version": WORK_DB_STORAGE_VERSION}
        )
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseBusyError(
                f"the working database {paths.work_db} is in use by another process "
                "(a pipeline run is probably in progress); try again when it has finished"
            ) from error
        raise


def _version_key(version: str) -> tuple[int, ...]:
    """'v1.3.0+' -> (1, 3, 0)."""
    return tuple(int(part) for part in version.strip("v+").split(".") if part.isdigit())


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The file format of the connection's database, e.g. 'v1.3.0+'."""
    return con.execute(
        "select tags['storage_version'] from duckdb_databases() "
        "where database_name = current_database()"
    ).fetchone()[0]


def _upgrade_storage(paths: PnadPaths) -> None:
    """Rewrite a working database made in an older file format in WORK_DB_STORAGE_VERSION: every
    table copied into a new file beside it, which then replaces it (a crash leaves the old one)."""
    partial = paths.work_db.with_name(f".{paths.work_db.name}.upgrade-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        with duckdb.connect() as con:
            # ATTACH takes no bound parameter: the paths are the project's own, quoted.
            con.execute(f"attach {string_literal(str(paths.work_db))} as old_format (read_only)")
            con.execute(
                f"attach {string_literal(str(partial))} as new_format "
                f"(storage_version {string_literal(WORK_DB_STORAGE_VERSION)})"
            )
            con.execute("copy from database old_format to new_format")
            con.execute("detach new_format")
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, paths.work_db)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def connect(paths: PnadPaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working database with the project's macros and bookkeeping tables in place."""
    paths.ensure()
    con = _open(paths)
    if _version_key(storage_version(con)) < _version_key(WORK_DB_STORAGE_VERSION):
        con.execute("checkpoint")  # everything in the file, nothing left in the write-ahead log
        con.close()
        _upgrade_storage(paths)
        con = _open(paths)
    try:
        con.execute("set enable_progress_bar = false")
        # Bounded memory whatever the input size; DuckDB spills to disk beyond it.
        con.execute(
            "set memory_limit = $limit", {"limit": os.environ.get("PNAD_DUCKDB_MEMORY", "2GB")}
        )
        con.execute("set temp_directory = $dir", {"dir": str(paths.work_db.parent / "spill")})
        # A checkpoint after each committed batch rewrote the growing tables again and again (half
        # the parse time at 1 M records): the steps that write a lot checkpoint once, at their end
        # (checkpoint_after_bulk_write). Committed data is safe in the write-ahead log meanwhile.
        con.execute("set checkpoint_threshold = '4GB'")
        for macro in MACROS:
            run_sql(con, macro)
        _migrate(con, paths)
        run_sql(con, "decp/staging/create_ingest_tables")
        run_sql(con, "facilitators/create_facilitator_tables")
        sirene.ensure_cache_table(con)  # contracts.sql reads it, even when empty
        yield con
    finally:
        con.close()


# Tables rebuilt from the raw files when the staging layout changes (a new release): the raw
# files are kept, so re-parsing them loses nothing. download_manifest (history) is kept.
REBUILT_ON_LAYOUT_CHANGE = (
    "stg_decp_records",
    "ingest_rejects",
    "ingest_unknown_keys",
    "ingest_files",
    "build_state",
)


# Staging layouts (digests of create_ingest_tables.sql, as _migrate computes them) of earlier
# releases that are migrated, not reset: the columns stg_decp_records gained since are added
# (STAGED_COLUMNS_ADDED), and every file still under raw/ is parsed again to fill them. A file
# no longer there keeps its records (the new fields unknown) instead of vanishing with a reset.
# - 9f00f423ea1bf291: before the actes de sous-traitance (subcontracting);
# - bd1722962cac8e12: before tabular holders' names and types and tabular acts;
# - cafac9bc0c865efe: before techniques, execution modalities and publisher.
MIGRATED_LAYOUTS = ("9f00f423ea1bf291", "bd1722962cac8e12", "cafac9bc0c865efe")
# Digests of earlier create_ingest_tables.sql texts whose tables are those of the current one
# (only a comment changed): recorded as the current layout, nothing parsed again.
SAME_LAYOUTS = ("0323cd81c69a06f0",)
# stg_decp_records columns added since the oldest of MIGRATED_LAYOUTS (fixed names and types).
STAGED_COLUMNS_ADDED = {
    "subcontracting": "json",
    "techniques_raw": "varchar[]",
    "execution_modalities_raw": "varchar[]",
    "publisher": "varchar",
}


def _migrate(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> None:
    """Bring the staging tables to the current layout: a layout of MIGRATED_LAYOUTS by adding
    the columns it lacks and parsing its files again, any other by resetting the derived
    bookkeeping (every file parsed again)."""
    layout = hashlib.sha256(sql_text("decp/staging/create_ingest_tables").encode()).hexdigest()[:16]
    con.execute(
        "create table if not exists warehouse_meta (key varchar primary key, value varchar)"
    )
    row = con.execute("select value from warehouse_meta where key = 'staging_layout'").fetchone()
    if row and row[0] == layout:
        return
    if row and row[0] in SAME_LAYOUTS:  # only the comments changed: nothing to do
        con.execute(
            "update warehouse_meta set value = $layout where key = 'staging_layout'",
            {"layout": layout},
        )
        return
    con.execute("begin transaction")
    try:
        if row and row[0] in MIGRATED_LAYOUTS and _has_table(con, "stg_decp_records"):
            for column, column_type in STAGED_COLUMNS_ADDED.items():
                con.execute(  # noqa: S608 - fixed names and types
                    f"alter table stg_decp_records add column if not exists {column} {column_type}"
                )
            _parse_again(con, paths)
        else:
            for table in REBUILT_ON_LAYOUT_CHANGE:
                con.execute(f"drop table if exists {table}")  # noqa: S608 - fixed names
        con.execute(
            "insert or replace into warehouse_meta values ('staging_layout', $layout)",
            {"layout": layout},
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _parse_again(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> None:
    """Mark the parsed files as to be parsed again (their staged records, rejects and unknown
    keys removed), so that the next run stages what the current release reads in them; the next
    contract build is a full one. A file no longer under raw/ keeps its records as they were.
    Runs in _migrate's transaction."""
    candidates = con.execute(
        "select file_id, relative_path from ingest_files where status = 'parsed'"
    ).fetchall()
    ids = [file_id for file_id, relative in candidates if (paths.home / relative).is_file()]
    for table in ("stg_decp_records", "ingest_rejects", "ingest_unknown_keys"):
        con.execute(
            f"delete from {table} where file_id in (select unnest($ids))",  # noqa: S608 - fixed names
            {"ids": ids},
        )
    con.execute(
        "update ingest_files set status = 'registered', status_reason = null, records_read = null, "
        "records_rejected = null, parsed_at = null where file_id in (select unnest($ids))",
        {"ids": ids},
    )
    # the increment would see no new file: the contracts must be built again in full
    con.execute("delete from build_state where step in ('contracts', 'contracts_increment')")


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the working database's main schema holds this table."""
    (count,) = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = $table",
        {"table": table},
    ).fetchone()
    return count > 0


# Built-in reference tables: SQL file under sql/reference/ -> CSV under pipelines/reference/.
REFERENCE_TABLES = {
    "ref_departements": "departements.csv",
    "ref_regions": "regions.csv",
    "consideration_vocabulary": "consideration_vocabulary.csv",
    "decp_enum_values": "decp_enum_values.csv",
    "decp_record_keys": "decp_record_keys.csv",
    "ref_oecp_series": "oecp_national_series.csv",
    "ref_labour_intensive_cpv": "labour_intensive_cpv.csv",
    "ref_postal_code_exceptions": "postal_code_exceptions.csv",
    "facilitator_vocabulary": "facilitator_vocabulary.csv",
}


def build_reference(
    con: duckdb.DuckDBPyConnection, paths: PnadPaths | None = None
) -> dict[str, int]:
    """Load the reference tables: the built-in ones (territories, vocabularies, national
    series), then the INSEE communes and the La Poste postal codes when they were downloaded
    (reference_downloads) — else the built-in postal-code exceptions stay, and
    reference_status says which was used and why."""
    for table, csv_name in REFERENCE_TABLES.items():
        run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    run_sql(con, "reference/reference_status")
    landed = downloaded_references(con, paths) if paths else {}
    communes = landed.get("cog_communes")
    postal = landed.get("laposte_postal_codes")
    _use_reference(
        con,
        "ref_communes",
        "reference/ref_communes",
        communes,
        "reference/ref_communes_empty",
        "commune table not downloaded: territories use the built-in départements",
    )
    _use_reference(
        con,
        "ref_postal_code_exceptions",
        "reference/ref_postal_code_exceptions_laposte",
        postal,
        None,
        "La Poste table not downloaded: built-in exceptions (La Poste 2023-12 x "
        "INSEE COG 2025) used",
    )
    _record_outlines(con, paths)
    return {table: table_count(con, table) for table in (*REFERENCE_TABLES, "ref_communes")}


def _record_outlines(con: duckdb.DuckDBPyConnection, paths: PnadPaths | None) -> None:
    """The dashboard's map: real outlines when a file is installed, else the tile grid."""
    target = paths.home / "ref" / "departements.geojson" if paths else None
    if target is not None and target.is_file():
        con.execute(
            "insert into reference_status values ('departement_outlines', 'downloaded', "
            "'ref/departements.geojson', $sha, $at, null, null)",
            {
                "sha": hashlib.sha256(target.read_bytes()).hexdigest(),
                "at": datetime.fromtimestamp(target.stat().st_mtime),
            },
        )
        return
    con.execute(
        "insert into reference_status values ('departement_outlines', 'built-in', null, null, "
        "null, null, 'département outlines not downloaded: the dashboard draws a tile grid')"
    )


def downloaded_references(con: duckdb.DuckDBPyConnection, paths: PnadPaths) -> dict[str, dict]:
    """The latest landed file of each reference source that is still on disk."""
    rows = con.execute(
        "select source, relative_path, sha256, fetched_at from download_manifest "
        "where relative_path like 'ref/%' and outcome in ('downloaded', 'unchanged') "
        "qualify row_number() over (partition by source order by fetched_at desc) = 1"
    ).fetchall()
    return {
        source: {"path": paths.home / relative, "file": relative, "sha256": sha, "at": at}
        for source, relative, sha, at in rows
        if (paths.home / relative).is_file()
    }


def _use_reference(
    con: duckdb.DuckDBPyConnection,
    table: str,
    sql_name: str,
    landed: dict | None,
    fallback_sql: str | None,
    fallback_note: str,
) -> None:
    """Build ``table`` from the downloaded file; on a missing or unreadable file keep (or
    build) the built-in one; record which in reference_status."""
    problem = fallback_note
    if landed:
        try:
            run_sql(con, sql_name, {"path": str(landed["path"])})
            rows = table_count(con, table)
            if rows:
                con.execute(
                    "insert into reference_status values ($table, 'downloaded', $file, $sha, "
                    "$at, $rows, null)",
                    {
                        "table": table,
                        "file": landed["file"],
                        "sha": landed["sha256"],
                        "at": landed["at"],
                        "rows": rows,
                    },
                )
                return
            problem = f"downloaded file {landed['file']} gave no row: built-in table used"
        except duckdb.Error as error:
            problem = (
                f"downloaded file {landed['file']} unreadable "
                f"({str(error).splitlines()[0][:160]}): built-in table used"
            )
        csv_name = REFERENCE_TABLES.get(table)
        if csv_name:  # put the built-in table back
            run_sql(con, f"reference/{table}", {"path": str(REFERENCE_DIR / csv_name)})
    if fallback_sql:
        run_sql(con, fallback_sql)
    con.execute(
        "insert into reference_status values ($table, 'built-in', null, null, null, $rows, $note)",
        {"table": table, "rows": table_count(con, table), "note": problem},
    )


@cache
def logic_version() -> str:
    """A digest of the SQL and reference files: a new release rebuilds the derived tables."""
    digest = hashlib.sha256()
    for path in sorted(SQL_DIR.rglob("*.sql")) + sorted(REFERENCE_DIR.glob("*.csv")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def inputs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the derived tables are built from: the logic version, the files read (with their
    status) and the SIRENE answers."""
    # every file and its status: a quarantined file changes what is published (ingest_files)
    files, content = con.execute(
        "select count(*), coalesce(md5(string_agg(file_id || status, ',' order by file_id)), '') "
        "from ingest_files"
    ).fetchone()
    # buyers located by SIRENE since the last build change the territories
    located = con.execute("select count(*) from sirene_cache").fetchone()[0]
    return f"{logic_version()}:{files}:{content}:{located}"


def facilitator_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The facilitators' exports loaded and their status (a new or replaced export changes the
    published hours and the facilitator confirmation of contracts)."""
    return con.execute(
        "select count(*) || ':' || coalesce(md5(string_agg(file_id || status, ',' "
        "order by file_id)), '') from facilitator_files"
    ).fetchone()[0]


def is_built_from(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> bool:
    row = con.execute(
        "select fingerprint from build_state where step = $step", {"step": step}
    ).fetchone()
    return row is not None and row[0] == fingerprint


def _mark_built(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> None:
    con.execute(
        "insert or replace into build_state values ($step, $fingerprint, now())",
        {"step": step, "fingerprint": fingerprint},
    )


# The contract model in build order: each file creates the table (or, for the per-value lookups,
# the temporary table) of its name.
CONTRACT_MODEL = (
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
            _mark_built(con, "contracts", fingerprint)
            _mark_built(con, "contracts_increment", _increment_basis(con))
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
    date plausibility reads current_date). Their records are run through the same SQL files as
    a full build, against only those records: per base_uid, the result is the same.
    """
    row = con.execute("select fingerprint from build_state where step = 'contracts_increment'")
    previous = row.fetchone()
    if previous is None or not _has_table(con, "contract_build_inputs"):
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


def build_shares(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> int:
    """Compute the PNAD shares table from contracts (skipped when contracts did not change, but
    always recomputed in a new year: is_provisional depends on today's date)."""
    fingerprint = f"{inputs_fingerprint(con)}:{date.today().year}"
    if force or not is_built_from(con, "shares", fingerprint):
        con.execute("begin transaction")
        try:
            run_sql(con, "indicators/pnad_shares")
            _mark_built(con, "shares", fingerprint)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return table_count(con, "pnad_shares")


def contract_plausibility(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float]]:
    """Implausible amounts, dates and durations (sql/decp/checks/contract_plausibility.sql): issue ->
    (contracts showing it, their share of all contracts)."""
    return {
        issue: (int(count), float(share or 0.0))
        for issue, count, _, share in run_sql(con, "decp/checks/contract_plausibility").fetchall()
    }


def buyers_to_locate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Buyer SIRETs neither the SIREN prefix nor the SIRENE cache place yet, largest first."""
    return [row[0] for row in run_sql(con, "decp/contracts/buyers_to_locate").fetchall()]


# Indicator tables rebuilt whole from contracts, each by sql/indicators/<name>.sql creating the
# table of the same name: pnad_shares_monthly, pnad_breakdowns, buyer_shares, opportunities.
def build_indicator(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> int:
    """Run sql/indicators/<name>.sql; returns the row count of the table it creates."""
    run_sql(con, f"indicators/{name}", params)
    return table_count(con, name)
