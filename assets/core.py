"""Core layer: one row per contract, deduplicated, with flags and territory; record accounting."""

import dagster as dg

from assets.common import WRITER_POOL, preview
from assets.reference import reference_tables
from assets.staging import decp_records
from pipelines.lib import warehouse
from pipelines.resources import PnadWarehouse


@dg.asset(
    group_name="core", deps=[decp_records, reference_tables], kinds={"duckdb"}, pool=WRITER_POOL
)
def contracts(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """contracts (one row per uid), with contract_versions, contract_modifications and
    ingest_accounting. SQL: sql/core/*.sql. Rebuilt whole from staging: the same input always
    gives the same tables."""
    with warehouse_db.connect() as con:
        counts = warehouse.build_contracts(con)
        statuses = dict(
            con.execute(
                "select social_status, count(*) from contracts where in_pnad_scope group by 1"
            ).fetchall()
        )
        sample = preview(
            con,
            "select uid, kind, notification_date, market_type, current_amount, social_status, "
            "environmental_status, buyer_departement_code from contracts order by uid",
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["contracts"],
            "versions_read": counts["contract_versions"],
            "modifications": counts["contract_modifications"],
            "in_scope_social_yes": statuses.get("yes", 0),
            "in_scope_social_no": statuses.get("no", 0),
            "in_scope_social_unknown": statuses.get("unknown", 0),
            "preview": sample,
        }
    )


@dg.asset_check(asset=contracts, blocking=True)
def check_uniqueness_uid(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """Each uid (buyer SIRET + contract id) appears once in contracts. Threshold: 0 duplicates."""
    with warehouse_db.connect() as con:
        duplicated = con.execute(
            "select count(*) from (select uid from contracts group by uid having count(*) > 1)"
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=duplicated == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{duplicated} uid(s) appear more than once (threshold: 0)",
        metadata={"duplicated_uids": duplicated},
    )


@dg.asset_check(asset=contracts, blocking=True)
def check_accounting_records(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """For every parsed file, records read = loaded + merged duplicates + rejected.
    Threshold: every file balances."""
    with warehouse_db.connect() as con:
        read, loaded, duplicates, rejected, unbalanced = con.execute(
            "select coalesce(sum(records_read), 0), coalesce(sum(loaded), 0), "
            "coalesce(sum(duplicates), 0), coalesce(sum(rejected), 0), "
            "count(*) filter (where not balanced) from ingest_accounting"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=unbalanced == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"read {read} = loaded {loaded} + duplicates {duplicates} + rejected {rejected}; "
            f"{unbalanced} file(s) do not balance (threshold: 0)"
        ),
        metadata={
            "records_read": read,
            "loaded": loaded,
            "duplicates": duplicates,
            "rejected": rejected,
            "unbalanced_files": unbalanced,
        },
    )
