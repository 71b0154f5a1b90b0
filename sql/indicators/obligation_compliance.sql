-- obligation_compliance: how the contracts notified since the 2026 obligations came into force
-- comply with them, by month and territory, and by buyer category and market type.
-- Grain: one row per obligation x month (NULL = every month since the entry into force) x level
--   (national | region | departement) x territory_code x dimension (total | buyer_category |
--   market_type) x category. Months are only cut for dimension 'total'.
-- Unité : nombre de contrats. Source des données : contract_obligations (contracts in_pnad_scope),
--   notified on or after the obligation's entry into force (ref_obligation_rules): those notified
--   before were launched before, so none is subject.
-- Mode de calcul :
--   subject / undetermined / not_subject: contracts in each obligation state;
--   compliance_share = subject contracts that comply / subject contracts (a subject contract that
--     declared nothing counts as not complying, as in the PNAD headline);
--   compliance_share_declared = compliant / (compliant + non_compliant);
--   compliance_completeness = subject contracts that declared (yes or no) / subject contracts;
--   undetermined is shown beside every share: those contracts may be subject, they are not in it;
--   undetermined_compliant says how many of them would comply.
--   Territory: the buyer's; unplaced contracts form the NULL territory rows.
create or replace table obligation_compliance as
with entry as (
    select obligation, cast(value as date) as entry_date
    from ref_obligation_rules where rule = 'entry_into_force'
),
by_obligation as (
    select
        o.uid, o.month, o.buyer_region_code, o.buyer_departement_code, o.buyer_category,
        coalesce(o.market_type, 'inconnu') as market_type, e.obligation,
        case when e.obligation = 'social' then o.social_obligation
             else o.environmental_obligation end as state,
        case when e.obligation = 'social' then o.social_compliance
             else o.environmental_compliance end as compliance
    from contract_obligations as o
    join entry as e on o.notification_date >= e.entry_date
),
counted as (
    select
        obligation,
        month,
        territory_level(grouping(buyer_region_code), grouping(buyer_departement_code)) as level,
        territory_code(grouping(buyer_region_code), grouping(buyer_departement_code),
                       buyer_region_code, buyer_departement_code) as territory_code,
        case when grouping(buyer_category) = 0 then 'buyer_category'
             when grouping(market_type) = 0 then 'market_type' else 'total' end as dimension,
        case when grouping(buyer_category) = 0 then buyer_category
             when grouping(market_type) = 0 then market_type end as category,
        count(*) as contracts,
        count(*) filter (where state = 'subject') as subject,
        count(*) filter (where state = 'undetermined') as undetermined,
        count(*) filter (where state = 'not_subject') as not_subject,
        count(*) filter (where state = 'subject' and compliance = 'compliant') as compliant,
        count(*) filter (where state = 'subject' and compliance = 'non_compliant')
            as non_compliant,
        count(*) filter (where state = 'subject' and compliance = 'unknown') as compliance_unknown,
        count(*) filter (where state = 'undetermined' and compliance = 'compliant')
            as undetermined_compliant
    from by_obligation
    group by grouping sets (
        (obligation), (obligation, buyer_region_code), (obligation, buyer_departement_code),
        (obligation, month), (obligation, month, buyer_region_code),
        (obligation, month, buyer_departement_code),
        (obligation, buyer_category), (obligation, buyer_region_code, buyer_category),
        (obligation, buyer_departement_code, buyer_category),
        (obligation, market_type), (obligation, buyer_region_code, market_type),
        (obligation, buyer_departement_code, market_type)
    )
)
select
    obligation, month, level, territory_code, dimension, category, contracts, subject,
    undetermined, not_subject, compliant, non_compliant, compliance_unknown,
    undetermined_compliant,
    compliant / nullif(subject, 0) as compliance_share,
    compliant / nullif(compliant + non_compliant, 0) as compliance_share_declared,
    (compliant + non_compliant) / nullif(subject, 0) as compliance_completeness,
    -- the rows of every month since the entry into force hold its provisional last months
    coalesce(month, current_date) >= (date_trunc('month', current_date) - interval 3 month)::date
        as is_provisional
from counted
order by obligation, level, territory_code, dimension, category, month nulls first;
