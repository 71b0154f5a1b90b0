-- silent_buyers: buyers that published contracts in a year and nothing since — a low share can
-- hide buyers who publish nothing at all.
-- Grain: one row per year of silence (the year after the buyer's last publication, from 2025) x
--   buyer (SIRET). Source: contracts in_pnad_scope and contract_first_publications (when each
--   contract was first published), buyer_names.
-- Mode de calcul : a buyer is silent in year Y when it first published at least one contract in
--   Y - 1 and none since (up to today); contracts_previous_year = its contracts first published in
--   Y - 1 (what is missing from Y if it still buys as much); is_provisional: Y is the current year
--   (the buyer may still publish).
create or replace table silent_buyers as
with publications as (
    select c.buyer_siret, c.buyer_category, c.buyer_region_code, c.buyer_departement_code,
        p.first_publication_date, c.notification_date
    from contracts as c
    join contract_first_publications as p using (uid)
    where c.in_pnad_scope and c.buyer_siret is not null and p.first_publication_date is not null
),
by_buyer as (
    select
        buyer_siret,
        any_value(buyer_category) as buyer_category,
        arg_max(buyer_region_code, first_publication_date) as buyer_region_code,
        arg_max(buyer_departement_code, first_publication_date) as buyer_departement_code,
        max(first_publication_date) as last_publication_date,
        max(notification_date) as last_notification_date
    from publications
    group by buyer_siret
),
previous_year as (
    select buyer_siret, year(first_publication_date) as year, count(*) as contracts
    from publications
    group by all
)
select
    year(b.last_publication_date) + 1 as year,
    b.buyer_siret,
    n.buyer_name,
    b.buyer_category,
    b.buyer_region_code,
    b.buyer_departement_code,
    p.contracts as contracts_previous_year,
    b.last_publication_date,
    b.last_notification_date,
    year(b.last_publication_date) + 1 >= year(current_date) as is_provisional
from by_buyer as b
join previous_year as p
    on p.buyer_siret = b.buyer_siret and p.year = year(b.last_publication_date)
left join buyer_names as n on n.buyer_siret = b.buyer_siret
where year(b.last_publication_date) + 1 between 2025 and year(current_date)
order by year, b.buyer_region_code, b.buyer_departement_code, p.contracts desc, b.buyer_siret;
