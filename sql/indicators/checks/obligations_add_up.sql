-- Consistency of the 2026 obligations (for a blocking check on contract_obligations and
-- obligation_compliance): every contract in the PNAD scope has one row of contract_obligations;
-- each obligation's states are subject, not_subject or undetermined (never empty); in
-- obligation_compliance, subject + undetermined + not_subject = contracts, compliant +
-- non_compliant + compliance_unknown = subject, and the région and département rows (unplaced
-- included) add up to the national row.
-- Grain: one row per problem found (what, where); an empty result passes.
with scope as (
    select count(*) as contracts from contracts where in_pnad_scope
),
rows_per_contract as (
    select 'contract_obligations rows <> contracts in scope' as problem,
        cast(count(*) as varchar) as detail
    from contract_obligations
    having count(*) <> (select contracts from scope)
        or count(distinct uid) <> count(*)
),
states as (
    select 'obligation state outside subject/not_subject/undetermined', uid
    from contract_obligations
    where environmental_obligation not in ('subject', 'not_subject', 'undetermined')
        or social_obligation not in ('subject', 'not_subject', 'undetermined')
        or environmental_obligation is null or social_obligation is null
),
counts as (
    select 'obligation_compliance counts do not add up',
        concat_ws(' ', obligation, level, territory_code, dimension, category, month)
    from obligation_compliance
    where subject + undetermined + not_subject <> contracts
        or compliant + non_compliant + compliance_unknown <> subject
),
sums as (
    select obligation, month, level, dimension, category,
        sum(contracts) as contracts, sum(subject) as subject,
        sum(undetermined) as undetermined, sum(compliant) as compliant
    from obligation_compliance
    group by all
),
parts as (
    select 'regions or departements do not add up to France',
        concat_ws(' ', part.obligation, part.level, part.dimension, part.category, part.month)
    from sums as part
    join sums as national
        on national.obligation = part.obligation and national.level = 'national'
        and national.month is not distinct from part.month
        and national.dimension = part.dimension
        and national.category is not distinct from part.category
    where part.level <> 'national'
        and (part.contracts, part.subject, part.undetermined, part.compliant) is distinct from
            (national.contracts, national.subject, national.undetermined, national.compliant)
)
select * from rows_per_contract
union all select * from states
union all select * from counts
union all select * from parts;
