"""Core layer: one row per contract, deduplicated, with flags and territory; record accounting."""

import dagster as dg

from assets.common import WRITER_POOL, preview
from assets.reference import reference_tables
from assets.staging import buyer_sirene_lookup, decp_records
from pipelines.decp.contracts import build_contracts, contract_plausibility
from pipelines.resources import PnadWarehouse


@dg.asset(
    group_name="core",
    deps=[decp_records, reference_tables, buyer_sirene_lookup],
    kinds={"duckdb"},
    pool=WRITER_POOL,
)
def contracts(warehouse_db: PnadWarehouse) -> dg.MaterializeResult:
    """contracts (one row per uid), with contract_versions, contract_modifications,
    contract_holders, contract_subcontracting and ingest_accounting. SQL: sql/decp/contracts/*.sql.
    Rebuilt whole from staging: the same input always gives the same tables."""
    with warehouse_db.connect() as con:
        counts = build_contracts(con)
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
            "holders": counts["contract_holders"],
            "subcontracting_acts": counts["contract_subcontracting"],
            "rebuilt": bool(counts["rebuilt"]),
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


REJECT_SHARE_WARN = 0.05  # a source losing more than 5 % of its records deserves a look
IMPLAUSIBLE_SHARE_WARN = 0.02


@dg.asset_check(asset=contracts)
def check_drift_schema(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """Keys and enumerated values the DECP schemas do not define (table schema_drift).
    Threshold: none unknown (WARN: drift is reported, records are still used)."""
    with warehouse_db.connect() as con:
        counts = dict(
            con.execute(
                "select kind, sum(occurrences)::bigint from schema_drift group by kind"
            ).fetchall()
        )
        top = preview(con, "select kind, field, value, occurrences from schema_drift")
    unknown = counts.get("unknown_key", 0) + counts.get("unknown_value", 0)
    return dg.AssetCheckResult(
        passed=unknown == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{counts.get('unknown_key', 0)} unknown keys, "
            f"{counts.get('unknown_value', 0)} unknown values, "
            f"{counts.get('variant_spelling', 0)} variant spellings, "
            f"{counts.get('unrecognised_consideration', 0)} unrecognised considerations "
            "(threshold: 0 unknown)"
        ),
        metadata={**{k: int(v) for k, v in counts.items()}, "most_frequent": top},
    )


@dg.asset_check(asset=contracts)
def check_validity_reject_share(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """Share of records rejected, per source. Threshold: 5 % (WARN)."""
    with warehouse_db.connect() as con:
        rows = con.execute(
            "select source, sum(records_read)::bigint, sum(rejected)::bigint "
            "from ingest_accounting group by source order by source"
        ).fetchall()
    worst = [
        f"{source}: {rejected}/{read} ({rejected / read:.1%})"
        for source, read, rejected in rows
        if read and rejected / read > REJECT_SHARE_WARN
    ]
    return dg.AssetCheckResult(
        passed=not worst,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            "sources above 5 % rejects: " + "; ".join(worst)
            if worst
            else f"every source under 5 % rejects ({len(rows)} sources)"
        ),
        metadata={f"rejected_{source}": int(rejected) for source, _, rejected in rows},
    )


@dg.asset_check(asset=contracts)
def check_plausibility_amounts_dates(warehouse_db: PnadWarehouse) -> dg.AssetCheckResult:
    """Contracts with an implausible amount (initial or current), a missing or out-of-range
    notification date, data published or a modification dated before the notification, or a
    duration outside 1-600 months (sql/decp/checks/contract_plausibility.sql).
    Threshold: 2 % of contracts for each issue (WARN)."""
    with warehouse_db.connect() as con:
        issues = contract_plausibility(con)
    above = {issue: share for issue, (_, share) in issues.items() if share > IMPLAUSIBLE_SHARE_WARN}
    counted = ", ".join(f"{issue} {count}" for issue, (count, _) in issues.items() if count)
    return dg.AssetCheckResult(
        passed=not above,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            (
                "above 2 % of contracts: "
                + "; ".join(f"{issue} {share:.1%}" for issue, share in above.items())
                if above
                else "every issue under 2 % of contracts"
            )
            + (f" ({counted})" if counted else "")
        ),
        metadata={issue: count for issue, (count, _) in issues.items()},
    )
