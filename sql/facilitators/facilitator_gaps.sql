-- The two gaps between the facilitators' follow-up and the DECP (domain guide §6).
-- facilitator_gap_underdeclared: followed marchés linked to a DECP contract that declares no
--   social consideration (status 'no' or 'unknown'): the clause exists but is not declared.
--   Grain: one row per linked marché.
-- facilitator_gap_unfollowed: DECP contracts declaring a social clause or a reservation that no
--   facilitator follows, among the buyers facilitators do follow (same SIREN) and notified since
--   a year before the earliest export period: where a facilitator could have been involved.
--   Grain: one row per contract.
-- Source: facilitator_followed_marches, facilitator_decp_links, facilitator_hours_worked, contracts.
create or replace table facilitator_gap_underdeclared as
select
    links.uid,
    followed.marche_key,
    followed.facilitator,
    followed.marche_id,
    contracts.buyer_siret,
    contracts.buyer_name,
    contracts.objet,
    contracts.notification_date,
    contracts.current_amount,
    contracts.social_status,
    followed.clause_category,
    followed.hours_planned,
    (select sum(hours.hours_worked) from facilitator_hours_worked as hours
     where hours.marche_key = followed.marche_key
       and hours.file_id in (select file_id from facilitator_files where status = 'active'))
        as hours_worked,
    links.method as link_method,
    links.confidence as link_confidence,
    contracts.buyer_departement_code,
    contracts.buyer_region_code
from facilitator_decp_links as links
join facilitator_followed_marches as followed using (marche_key)
join contracts on contracts.uid = links.uid
where contracts.social_status <> 'yes';

create or replace table facilitator_gap_unfollowed as
select
    contracts.uid,
    contracts.buyer_siret,
    contracts.buyer_name,
    contracts.objet,
    contracts.market_type,
    contracts.notification_date,
    contracts.current_amount,
    contracts.social_kinds,
    contracts.buyer_departement_code,
    contracts.buyer_region_code
from contracts
where contracts.in_pnad_scope
    and contracts.social_status = 'yes'
    and (list_contains(contracts.social_kinds, 'clause')
         or list_contains(contracts.social_kinds, 'reserve'))
    and not contracts.followed_by_facilitator
    and left(contracts.buyer_siret, 9) in (
        select left(buyer_siret, 9) from facilitator_followed_marches
        where buyer_siret is not null)
    and contracts.notification_date >= (
        select min(period_start) - interval 1 year from facilitator_files
        where status = 'active');
