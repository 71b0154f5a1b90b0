-- obligation_noncompliant: the coordinators' list — contracts subject to a 2026 obligation that
-- do not show they comply (a required consideration missing, or nothing declared).
-- Grain: one row per contract x obligation. Source: contract_obligations (subject contracts whose
-- compliance is non_compliant or unknown), buyer_names.
-- missing: the requirement groups not met (condition_execution, critere_attribution); an
--   exception the law allows (art. L2112-2-1) does not show in the DECP: a contract here is one
--   to look at, not an established breach.
create or replace table obligation_noncompliant as
with listed as (
    select o.*, 'environmental' as obligation, o.environmental_compliance as compliance,
        o.environmental_missing as missing, o.environmental_obligation_certainty as certainty
    from contract_obligations as o
    where o.environmental_obligation = 'subject' and o.environmental_compliance <> 'compliant'
    union all
    select o.*, 'social', o.social_compliance, o.social_missing, o.social_obligation_certainty
    from contract_obligations as o
    where o.social_obligation = 'subject' and o.social_compliance <> 'compliant'
)
select
    l.obligation, l.uid, l.notification_date, l.buyer_siret, n.buyer_name, l.buyer_category,
    l.buyer_region_code, l.buyer_departement_code, l.objet, l.nature, l.procedure,
    l.market_type, l.initial_amount, l.compliance, l.missing, l.certainty,
    l.launch_earliest, l.launch_latest,
    case when l.obligation = 'social' then l.social_status else l.environmental_status end
        as declared_status,
    case when l.obligation = 'social' then l.social_kinds else l.environmental_kinds end
        as declared_kinds
from listed as l
left join buyer_names as n using (buyer_siret)
order by l.buyer_region_code, l.buyer_departement_code, l.notification_date desc, l.uid,
    l.obligation;
