-- buyer_publication_delays: how late each buyer publishes its contracts — what weakens the shares
-- beside them (a contract published late is missing from the latest months for a while).
-- Grain: one row per buyer (SIRET) x notification year. Source: contracts in_pnad_scope,
--   contract_first_publications, buyer_names.
-- Unité : nombre de contrats. Mode de calcul : late = first published more than two months after
--   notification (the publication deadline); late_share = late / contracts with both dates;
--   median and maximum delay in days; without_publication_date: contracts with no usable date.
create or replace table buyer_publication_delays as
with delays as (
    select c.buyer_siret, c.notification_year as year, c.buyer_category, c.buyer_region_code,
        c.buyer_departement_code, p.late, p.publication_delay_days
    from contracts as c
    join contract_first_publications as p using (uid)
    where c.in_pnad_scope and c.buyer_siret is not null
),
counted as (
    select
        buyer_siret, year,
        any_value(buyer_category) as buyer_category,
        any_value(buyer_region_code) as buyer_region_code,
        any_value(buyer_departement_code) as buyer_departement_code,
        count(*) as contracts,
        count(late) as with_publication_date,
        count(*) filter (where late) as published_late,
        median(publication_delay_days) as median_delay_days,
        max(publication_delay_days) as max_delay_days
    from delays
    group by buyer_siret, year
)
select
    c.buyer_siret, c.year, n.buyer_name, c.buyer_category, c.buyer_region_code,
    c.buyer_departement_code, c.contracts, c.published_late,
    c.contracts - c.with_publication_date as without_publication_date,
    c.published_late / nullif(c.with_publication_date, 0) as late_share,
    c.median_delay_days, c.max_delay_days
from counted as c
left join buyer_names as n using (buyer_siret)
order by c.year, c.buyer_siret;
