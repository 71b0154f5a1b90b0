"""The contract model: one row per contract (deduplicated, current values, considerations,
territory), with its publications, modifications, holders and subcontracting acts, the
accounting of every record read and the schema drift; and the checks on them.
Logic: ``pipelines/decp/contracts.py``; SQL: ``sql/decp/contracts/``, ``sql/decp/checks/``."""

import dagster as dg

from assets._wiring import WRITER_POOL, preview, table_spec
from assets.reference import REFERENCE_TABLES
from assets.resources import PnadDuckDBResource
from pipelines.decp.contracts import CONTRACT_MODEL, build_contracts, contract_plausibility

GROUP = "decp"
UPSTREAM = ["decp_records", "buyer_sirene_lookup", *REFERENCE_TABLES]
# Each table of the model, with the SQL that computes it (the files of CONTRACT_MODEL it needs).
MODEL_TABLES = {
    "contracts": [name for name in CONTRACT_MODEL],
    "contract_sources": ["decp/contracts/contract_versions"],
    "contract_modifications": ["decp/contracts/contract_modifications"],
    "contract_holders": ["decp/contracts/contract_holders"],
    "contract_subcontracting": ["decp/contracts/contract_subcontracting"],
    "ingest_accounting": ["decp/contracts/ingest_accounting"],
    "schema_drift": ["decp/contracts/schema_drift"],
}
REJECT_SHARE_WARN = 0.05  # a source losing more than 5 % of its records deserves a look
IMPLAUSIBLE_SHARE_WARN = 0.02


@dg.multi_asset(
    name="contract_model",
    specs=[
        table_spec(name, deps=UPSTREAM, sql=sql, logic=build_contracts, group=GROUP)
        for name, sql in MODEL_TABLES.items()
    ],
    pool=WRITER_POOL,
)
def contract_model(duckdb: PnadDuckDBResource):
    """The staged records deduplicated into contracts and their companion tables, and every
    record read accounted for. Rebuilt from staging (in full, or only the contracts new files
    touch): the same input always gives the same tables."""
    with duckdb.get_connection() as con:
        counts = build_contracts(con)
        statuses = dict(
            con.execute(
                "select social_status, count(*) from contracts where in_pnad_scope group by 1"
            ).fetchall()
        )
        rows = dict(
            con.execute(
                "select 'ingest_accounting', count(*) from ingest_accounting union all "
                "select 'schema_drift', count(*) from schema_drift"
            ).fetchall()
        )
        sample = preview(
            con,
            "select uid, kind, notification_date, market_type, current_amount, social_status, "
            "environmental_status, buyer_departement_code from contracts order by uid",
        )
    yield dg.MaterializeResult(
        asset_key="contracts",
        metadata={
            "dagster/row_count": counts["contracts"],
            "rebuilt": bool(counts["rebuilt"]),
            "incremental": bool(counts["incremental"]),
            "in_scope_social_yes": statuses.get("yes", 0),
            "in_scope_social_no": statuses.get("no", 0),
            "in_scope_social_unknown": statuses.get("unknown", 0),
            "preview": sample,
        },
    )
    rows |= {
        "contract_sources": counts["contract_versions"],
        "contract_modifications": counts["contract_modifications"],
        "contract_holders": counts["contract_holders"],
        "contract_subcontracting": counts["contract_subcontracting"],
    }
    for name in MODEL_TABLES:
        if name != "contracts":
            yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": rows[name]})


@dg.asset_check(asset="contracts", blocking=True)
def check_uniqueness_uid(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Each uid (buyer SIRET + contract id) appears once in contracts. Threshold: 0 duplicates."""
    with duckdb.get_connection() as con:
        duplicated = con.execute(
            "select count(*) from (select uid from contracts group by uid having count(*) > 1)"
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=duplicated == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{duplicated} uid(s) appear more than once (threshold: 0)",
        metadata={"duplicated_uids": duplicated},
    )


@dg.asset_check(asset="ingest_accounting", blocking=True)
def check_accounting_records(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """For every parsed file, records read = loaded + merged duplicates + rejected.
    Threshold: every file balances."""
    with duckdb.get_connection() as con:
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


@dg.asset_check(asset="schema_drift")
def check_drift_schema(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Keys and enumerated values the DECP schemas do not define (table schema_drift).
    Threshold: none unknown (WARN: drift is reported, records are still used)."""
    with duckdb.get_connection() as con:
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


@dg.asset_check(asset="ingest_accounting")
def check_validity_reject_share(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Share of records rejected, per source. Threshold: 5 % (WARN)."""
    with duckdb.get_connection() as con:
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


@dg.asset_check(asset="contracts")
def check_plausibility_amounts_dates(duckdb: PnadDuckDBResource) -> dg.AssetCheckResult:
    """Contracts with an implausible amount (initial or current), a missing or out-of-range
    notification date, data published or a modification dated before the notification, or a
    duration outside 1-600 months (sql/decp/checks/contract_plausibility.sql).
    Threshold: 2 % of contracts for each issue (WARN)."""
    with duckdb.get_connection() as con:
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
