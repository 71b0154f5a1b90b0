-- opportunities: recent labour-intensive contracts notified without a social consideration — the
-- coordinators' list of where a clause could have been.
-- Grain: one row per contract. Source: contracts (in_pnad_scope), ref_labour_intensive_cpv.
-- Selection: CPV in a labour-intensive family (works, cleaning, green spaces, waste, catering:
--   the longest matching prefix gives the sector); current amount at least $min_amount EUR HT
--   with a usable amount; notified in the $months months up to the latest notification date in
--   the data; social_status 'no' (declared without) or 'unknown' (not declared), both listed,
--   the status says which.
create or replace table opportunities as
with latest as (
    select max(notification_date) as latest_date from contracts where in_pnad_scope
),
sectors as (
    select
        c.uid,
        arg_max(l.sector, length(l.cpv_prefix)) as sector
    from contracts as c
    join ref_labour_intensive_cpv as l on starts_with(c.cpv_code, l.cpv_prefix)
    group by c.uid
)
select
    c.uid, c.notification_date, c.buyer_siret, c.buyer_name, c.buyer_category,
    c.buyer_departement_code, c.buyer_region_code, c.objet, c.cpv_code, s.sector,
    c.market_type, c.procedure, c.current_amount, c.social_status, c.environmental_status
from contracts as c
join sectors as s using (uid)
cross join latest
where c.in_pnad_scope
  and c.social_status <> 'yes'
  and c.amount_quality = 'ok'
  and c.current_amount >= $min_amount
  and c.notification_date > latest.latest_date - to_months(cast($months as integer))
order by c.buyer_region_code, c.buyer_departement_code, c.current_amount desc;
