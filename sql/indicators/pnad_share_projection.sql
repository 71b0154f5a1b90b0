-- pnad_share_projection: where each territory's shares of the current year are heading — a
-- projection to 31 December from the months observed, with its uncertainty. A projection, never
-- an observed value: pages draw it hollow and say so.
-- Grain: one row per level (national | region | departement) x territory_code x consideration
--   (social | environmental), for the year of $today, when at least one complete month of it has
--   contracts.
-- Unité : part des contrats. Source des données : pnad_shares_monthly (scope 'all').
-- Mode de calcul :
--   observed: the complete months of the year (before the month of $today) with contracts;
--     observed_share = contracts with the consideration / contracts over those months.
--   remaining months: the month of $today to December (remaining_months), each expected to have
--     the average number of contracts of the elapsed months (expected_remaining_contracts).
--   method 'linear_trend' (3 observed months or more): an ordinary least-squares line of the
--     monthly share on the month number, evaluated at the mean remaining month (clipped to
--     0-100 %); method 'flat' (1 or 2 months): the observed share carries on.
--   projected_share = (observed yes + remaining share x expected remaining contracts) /
--     (observed contracts + expected remaining contracts).
--   Uncertainty (90 %): linear_trend: the prediction error of the mean of the remaining months,
--     s² (1/k + 1/n + (mean remaining month - mean observed month)² / Sxx), s² the residual
--     variance of the monthly shares around the line (n - 2 degrees of freedom), k remaining
--     months, n observed months; flat: the binomial variance of the observed share,
--     p (1 - p) / observed contracts; either scaled by the remaining contracts' weight in the
--     year, times 1.645; projected_low / projected_high clipped to 0-100 %.
create or replace table pnad_share_projection as
with calendar as (
    select
        year(cast($today as date)) as year,
        month(cast($today as date)) as current_month
),
observed as (
    select m.level, m.territory_code, month(m.month) as x, m.contracts, k.consideration,
        case when k.consideration = 'social' then m.social_yes else m.environmental_yes end
            as yes
    from pnad_shares_monthly as m
    cross join calendar as c
    cross join (values ('social'), ('environmental')) as k(consideration)
    where year(m.month) = c.year and month(m.month) < c.current_month and m.contracts > 0
),
fit as (
    select
        level, territory_code, consideration,
        count(*) as observed_months,
        sum(contracts)::bigint as observed_contracts,
        sum(yes) as observed_yes,
        avg(x) as mean_month,
        regr_sxx(yes / contracts, x) as sxx,
        regr_slope(yes / contracts, x) as slope,
        regr_intercept(yes / contracts, x) as intercept
    from observed
    group by all
),
residuals as (
    select o.level, o.territory_code, o.consideration,
        sum(power(o.yes / o.contracts - (f.intercept + f.slope * o.x), 2)) as sse
    from observed as o
    join fit as f using (level, territory_code, consideration)
    group by all
),
projected as (
    select
        f.*,
        c.year,
        13 - c.current_month as remaining_months,
        (c.current_month + 12) / 2.0 as mean_remaining_month,
        f.observed_contracts / (c.current_month - 1.0) * (13 - c.current_month)
            as expected_remaining_contracts,
        f.observed_yes / f.observed_contracts as observed_share,
        case when f.observed_months >= 3 then 'linear_trend' else 'flat' end as method,
        case when f.observed_months >= 3 then r.sse / (f.observed_months - 2) end
            as residual_variance
    from fit as f
    join residuals as r using (level, territory_code, consideration)
    cross join calendar as c
),
shared as (
    select
        *,
        case when method = 'linear_trend'
             then least(1.0, greatest(0.0, intercept + slope * mean_remaining_month))
             else observed_share end as remaining_share,
        expected_remaining_contracts / (observed_contracts + expected_remaining_contracts)
            as remaining_weight,
        case when method = 'linear_trend'
             then residual_variance * (1.0 / remaining_months + 1.0 / observed_months
                  + power(mean_remaining_month - mean_month, 2) / nullif(sxx, 0))
             else observed_share * (1 - observed_share) / observed_contracts
        end as remaining_share_variance
    from projected
),
final as (
    select
        *,
        (observed_yes + remaining_share * expected_remaining_contracts)
            / (observed_contracts + expected_remaining_contracts) as projected_share,
        1.645 * remaining_weight * sqrt(coalesce(remaining_share_variance, 0)) as margin
    from shared
)
select
    f.year, f.level, f.territory_code,
    case when f.level = 'national' then 'France'
         when f.level = 'region' then coalesce(r.region_name, 'Non localisé')
         else coalesce(d.departement_name, 'Non localisé') end as territory_name,
    f.consideration,
    case when f.consideration = 'social' then 0.30 else 1.00 end::double as target,
    f.method, f.observed_months, f.observed_contracts, f.observed_share,
    f.remaining_months, f.expected_remaining_contracts, f.remaining_share,
    f.projected_share,
    greatest(0.0, f.projected_share - f.margin) as projected_low,
    least(1.0, f.projected_share + f.margin) as projected_high,
    f.slope as monthly_trend,
    cast($today as date) as projected_on
from final as f
left join ref_regions as r on f.level = 'region' and r.region_code = f.territory_code
left join ref_departements as d
    on f.level = 'departement' and d.departement_code = f.territory_code
order by f.level, f.territory_code, f.consideration;
