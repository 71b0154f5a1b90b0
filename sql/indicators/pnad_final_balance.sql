-- pnad_final_balance: the final balance of the PNAD 2022-2025 — did each territory reach the 2025
-- targets (30 % social, 100 % environmental)?
-- Grain: one row per level (national | region | departement) x territory_code with contracts
--   notified in $final_year (2025) or the year before.
-- Unité : nombre de contrats. Source des données : pnad_shares (scope 'all': marchés and
--   concessions in the PNAD scope), contract_first_publications.
-- Mode de calcul :
--   the $final_year shares against the targets (reached = share >= target), the gap in points
--   (target - share), the progress since $final_year - 1 in points, completeness beside;
--   final_from: the day after the publication deadline of the last contract of the year (buyers
--   have two months after notification to publish: contracts notified on 31 December are due by
--   the last day of February) — before it the figure is provisional (is_provisional);
--   published_after_final_from: contracts of $final_year first published after that day (late
--   publications that still moved the "final" figure); latest_first_publication: the latest.
create or replace table pnad_final_balance as
with final_year as (
    select * from pnad_shares where scope = 'all' and year = $final_year
),
previous_year as (
    select * from pnad_shares where scope = 'all' and year = $final_year - 1
),
deadline as (
    select (make_date($final_year + 1, 3, 1)) as final_from
),
late as (
    select
        territory_level(grouping(c.buyer_region_code), grouping(c.buyer_departement_code))
            as level,
        territory_code(grouping(c.buyer_region_code), grouping(c.buyer_departement_code),
                       c.buyer_region_code, c.buyer_departement_code) as territory_code,
        count(*) filter (where p.first_publication_date >= d.final_from)
            as published_after_final_from,
        max(p.first_publication_date) as latest_first_publication
    from contracts as c
    join contract_first_publications as p using (uid)
    cross join deadline as d
    where c.in_pnad_scope and c.notification_year = $final_year
    group by grouping sets ((), (c.buyer_region_code), (c.buyer_departement_code))
)
select
    coalesce(f.level, p.level) as level,
    coalesce(f.territory_code, p.territory_code) as territory_code,
    coalesce(f.territory_name, p.territory_name) as territory_name,
    $final_year::integer as final_year,
    coalesce(f.contracts, 0) as contracts,
    f.social_share,
    f.social_completeness,
    f.social_share >= f.social_target as social_target_reached,
    f.social_gap_points,
    round(100 * (f.social_share - p.social_share), 1) as social_progress_points,
    f.environmental_share,
    f.environmental_completeness,
    f.environmental_share >= f.environmental_target as environmental_target_reached,
    f.environmental_gap_points,
    round(100 * (f.environmental_share - p.environmental_share), 1)
        as environmental_progress_points,
    p.contracts as previous_contracts,
    p.social_share as previous_social_share,
    p.environmental_share as previous_environmental_share,
    0.30::double as social_target,
    1.00::double as environmental_target,
    d.final_from,
    current_date < d.final_from as is_provisional,
    coalesce(l.published_after_final_from, 0) as published_after_final_from,
    l.latest_first_publication
from final_year as f
full join previous_year as p
    on p.level = f.level and p.territory_code is not distinct from f.territory_code
cross join deadline as d
left join late as l
    on l.level = coalesce(f.level, p.level)
    and l.territory_code is not distinct from coalesce(f.territory_code, p.territory_code)
order by level, territory_code;
