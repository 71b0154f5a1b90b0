"""The working DuckDB database: opening it (one writer, bounded memory, the project's macros
and bookkeeping tables in place), bringing an older file up to date, and what each derived table
was last built from (``build_state``), so that a step with nothing new is skipped."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import duckdb

from pipelines.common.paths import REFERENCE_DIR, SQL_DIR, PnadPaths
from pipelines.common.sql import run_sql, sql_text, string_literal
from pipelines.common.writer_lock import writer_lock

MACROS = (
    "macros/spelling_key",
    "macros/zero_pad",
    "macros/contract_base_uid",
    "macros/decp_list",
    "macros/json_unflatten",
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
    "macros/obligation_state",
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
                f"la base de travail {paths.work_db} est utilisée par un autre processus "
                "(sans doute un traitement en cours) ; réessayez quand il sera terminé"
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
    """Open the working database with the project's macros and bookkeeping tables in place,
    under the data root's writer lock (one writer at a time: a second one waits, see
    writer_lock.py)."""
    paths.ensure()
    with writer_lock(paths, "traitement pnad"):
        with _connect(paths) as con:
            yield con


@contextmanager
def _connect(paths: PnadPaths) -> Iterator[duckdb.DuckDBPyConnection]:
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
        # each step of a run opens the database: its macros and tables are created again only
        # when this release has not set them up yet, or one has gone since
        ready = _schema_ready(con)
        if not ready:
            for macro in MACROS:
                run_sql(con, macro)
        _migrate(con, paths)
        if not ready:
            run_sql(con, "decp/staging/create_ingest_tables")
            run_sql(con, "decp/staging/create_parse_attempts")
            run_sql(con, "decp/staging/create_source_releases")
            run_sql(con, "facilitators/create_facilitator_tables")
            run_sql(con, "reference/create_sirene_cache")  # contracts.sql reads it, even empty
            _record_schema(con)
        yield con
    finally:
        con.close()


def _schema_marker(con: duckdb.DuckDBPyConnection) -> str:
    """This release's SQL, and how many tables the database holds (listing the macros costs
    more than creating them)."""
    tables = con.execute("select count(*) from duckdb_tables() where not temporary").fetchone()[0]
    return f"{logic_version()}:{tables}"


def _schema_ready(con: duckdb.DuckDBPyConnection) -> bool:
    if not has_table(con, "warehouse_meta"):
        return False
    row = con.execute("select value from warehouse_meta where key = 'schema'").fetchone()
    return row is not None and row[0] == _schema_marker(con)


def _record_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert or replace into warehouse_meta values ('schema', $marker)",
        {"marker": _schema_marker(con)},
    )


# Tables rebuilt from the raw files when the staging layout changes (a new release): the raw
# files are kept, so re-parsing them loses nothing. download_manifest (history) is kept.
REBUILT_ON_LAYOUT_CHANGE = (
    "stg_decp_records",
    "ingest_rejects",
    "ingest_unknown_keys",
    "ingest_files",
    "build_state",
    "source_releases",  # refers to ingest_files: decided again from the raw files kept
)


# Staging layouts (digests of create_ingest_tables.sql, as _migrate computes them) of earlier
# releases that are migrated, not reset: the columns stg_decp_records gained since are added
# (STAGED_COLUMNS_ADDED), and every file still under raw/ is parsed again to fill them (or to
# stage what the release reads differently in them: create_ingest_tables.sql then says what).
# A file no longer there keeps its records (the new fields unknown) instead of vanishing with a
# reset.
# - 9f00f423ea1bf291: before the actes de sous-traitance (subcontracting);
# - bd1722962cac8e12: before tabular holders' names and types and tabular acts;
# - cafac9bc0c865efe: before techniques, execution modalities and publisher;
# - 25cdb28b2a967acb: the same columns, staged before dotted keys were read as nested fields
#   (flattened 2019 records were rejected), before a tabular file without modification ids had
#   its rows told apart by date, and before a repeated XML publication date gave the latest.
MIGRATED_LAYOUTS = (
    "9f00f423ea1bf291",
    "bd1722962cac8e12",
    "cafac9bc0c865efe",
    "25cdb28b2a967acb",
)


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
        if row and row[0] in MIGRATED_LAYOUTS and has_table(con, "stg_decp_records"):
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


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the working database's main schema holds this table."""
    (count,) = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = $table",
        {"table": table},
    ).fetchone()
    return count > 0


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


def mark_built(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str) -> None:
    con.execute(
        "insert or replace into build_state values ($step, $fingerprint, now())",
        {"step": step, "fingerprint": fingerprint},
    )
