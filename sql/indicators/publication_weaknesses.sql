-- publication_weaknesses: what weakens a territory's shares, beside them — contracts published
-- late, and buyers that published the year before and nothing since.
-- Grain: one row per year x level (national | region | departement) x territory_code.
-- Unité : nombre de contrats, nombre d'acheteurs. Source des données :
--   buyer_publication_delays (by notification year), silent_buyers (by year of silence).
-- Mode de calcul : late_share = contracts first published more than two months after
--   notification / contracts with both dates; silent_buyers = buyers silent in the year;
--   silent_buyers_previous_contracts = what they published the year before (contracts that may be
--   missing from the year). Territory: the buyer's; unplaced buyers form the NULL rows.
create or replace table publication_weaknesses as
with late as (
    select
        year,
        territory_level(grouping(buyer_region_code), grouping(buyer_departement_code)) as level,
        territory_code(grouping(buyer_region_code), grouping(buyer_departement_code),
                       buyer_region_code, buyer_departement_code) as territory_code,
        sum(contracts)::bigint as contracts,
        sum(contracts - without_publication_date)::bigint as with_publication_date,
        sum(published_late)::bigint as published_late
    from buyer_publication_delays
    group by grouping sets ((year), (year, buyer_region_code), (year, buyer_departement_code))
),
silent as (
    select
        year,
        territory_level(grouping(buyer_region_code), grouping(buyer_departement_code)) as level,
        territory_code(grouping(buyer_region_code), grouping(buyer_departement_code),
                       buyer_region_code, buyer_departement_code) as territory_code,
        count(*) as silent_buyers,
        sum(contracts_previous_year)::bigint as silent_buyers_previous_contracts
    from silent_buyers
    group by grouping sets ((year), (year, buyer_region_code), (year, buyer_departement_code))
)
select
    coalesce(l.year, s.year) as year,
    coalesce(l.level, s.level) as level,
    coalesce(l.territory_code, s.territory_code) as territory_code,
    coalesce(l.contracts, 0) as contracts,
    coalesce(l.published_late, 0) as published_late,
    l.published_late / nullif(l.with_publication_date, 0) as late_share,
    coalesce(s.silent_buyers, 0) as silent_buyers,
    coalesce(s.silent_buyers_previous_contracts, 0) as silent_buyers_previous_contracts,
    coalesce(l.year, s.year) >= year(current_date) as is_provisional
from late as l
full join silent as s
    on s.year = l.year and s.level = l.level and s.territory_code is not distinct from l.territory_code
order by year, level, territory_code;
