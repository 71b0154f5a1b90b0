-- obligation_buyer_compliance: each buyer's contracts under the 2026 obligations — subject,
-- undetermined, complying — for the coordinators' "which buyers do not apply the law" view.
-- Grain: one row per obligation x buyer (SIRET). Scope: contracts notified on or after the
-- obligation's entry into force (contract_obligations, ref_obligation_rules).
-- Unité : nombre de contrats. Mode de calcul : as obligation_compliance, over the buyer's
--   contracts; the buyer's name from buyer_names.
create or replace table obligation_buyer_compliance as
with entry as (
    select obligation, cast(value as date) as entry_date
    from ref_obligation_rules where rule = 'entry_into_force'
),
by_obligation as (
    select
        o.buyer_siret, o.buyer_category, o.buyer_region_code, o.buyer_departement_code,
        e.obligation,
        case when e.obligation = 'social' then o.social_obligation
             else o.environmental_obligation end as state,
        case when e.obligation = 'social' then o.social_compliance
             else o.environmental_compliance end as compliance
    from contract_obligations as o
    join entry as e on o.notification_date >= e.entry_date
    where o.buyer_siret is not null
),
counted as (
    select
        obligation, buyer_siret,
        any_value(buyer_category) as buyer_category,
        any_value(buyer_region_code) as buyer_region_code,
        any_value(buyer_departement_code) as buyer_departement_code,
        count(*) as contracts,
        count(*) filter (where state = 'subject') as subject,
        count(*) filter (where state = 'undetermined') as undetermined,
        count(*) filter (where state = 'subject' and compliance = 'compliant') as compliant,
        count(*) filter (where state = 'subject' and compliance = 'non_compliant')
            as non_compliant,
        count(*) filter (where state = 'subject' and compliance = 'unknown') as compliance_unknown
    from by_obligation
    group by obligation, buyer_siret
)
select
    c.obligation, c.buyer_siret, n.buyer_name, c.buyer_category, c.buyer_region_code,
    c.buyer_departement_code, c.contracts, c.subject, c.undetermined, c.compliant,
    c.non_compliant, c.compliance_unknown,
    c.compliant / nullif(c.subject, 0) as compliance_share
from counted as c
left join buyer_names as n using (buyer_siret)
order by c.obligation, c.buyer_siret;
