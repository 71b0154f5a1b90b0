-- buyer_shares: each buyer's progress toward the targets, year by year — the "who lags" list.
-- Grain: one row per buyer (SIRET) x notification year. Scope: all contracts in_pnad_scope.
-- Unité : nombre de contrats. Source des données : table contracts.
-- Mode de calcul : shares and completeness as in pnad_shares; gap = target - share in points;
--   social_trend_points = this year's social share - the previous year's, in points (NULL when
--   the buyer had no contract the previous year). Few contracts make a share fragile: filter on
--   `contracts` before ranking buyers.
create or replace table buyer_shares as
with counted as (
    select
        buyer_siret,
        notification_year as year,
        any_value(buyer_name) as buyer_name,
        any_value(buyer_category) as buyer_category,
        any_value(buyer_departement_code) as buyer_departement_code,
        any_value(buyer_region_code) as buyer_region_code,
        count(*) as contracts,
        count(*) filter (where social_status = 'yes') as social_yes,
        count(*) filter (where social_status in ('yes', 'no')) as social_declared,
        count(*) filter (where environmental_status = 'yes') as environmental_yes,
        count(*) filter (where environmental_status in ('yes', 'no')) as environmental_declared
    from contracts
    where in_pnad_scope
    group by buyer_siret, notification_year
),
shares as (
    select
        *,
        social_yes / contracts as social_share,
        social_declared / contracts as social_completeness,
        environmental_yes / contracts as environmental_share,
        environmental_declared / contracts as environmental_completeness
    from counted
)
select
    s.*,
    round(100 * (0.30 - s.social_share), 1) as social_gap_points,
    round(100 * (1.00 - s.environmental_share), 1) as environmental_gap_points,
    round(100 * (s.social_share - previous.social_share), 1) as social_trend_points,
    round(100 * (s.environmental_share - previous.environmental_share), 1)
        as environmental_trend_points
from shares as s
left join shares as previous
    on previous.buyer_siret = s.buyer_siret and previous.year = s.year - 1
order by s.year, s.buyer_siret;
