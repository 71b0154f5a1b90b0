-- territory_year_to_date: the PNAD shares of a coordinators' report's year, counted up to the
-- end of the reported month, for the territory, its départements (for a région) and France.
-- Grain: one row per level x territory_code.
-- Unité : nombre de contrats. Source des données : the published view pnad_shares_monthly
--   (scope 'all': marchés and concessions in the PNAD scope, by month of notification).
-- Mode de calcul : sums of the monthly counts for the months of $year before $end, then the
--   same shares as pnad_shares (social_share = contracts declaring a social consideration /
--   all contracts; completeness = contracts that declared yes or no / all; gap = target - share
--   in percentage points, targets 30 % and 100 %). A report for June says what was known of
--   January-June, whatever was notified later. is_provisional is the year's flag in
--   pnad_shares, the one the dashboard shows: a report of June of the current year marks the
--   year provisional as the dashboard does, though its own months are no longer provisional.
with months as (
    select monthly.*
    from pnad_shares_monthly as monthly
    left join ref_departements as departement
        on monthly.level = 'departement' and departement.departement_code = monthly.territory_code
    where year(monthly.month) = $year
        and monthly.month < $end
        and (
            monthly.level = 'national'
            or (monthly.level = $level and monthly.territory_code = $code)
            or ($level = 'region' and monthly.level = 'departement'
                and departement.region_code = $code)
        )
),

summed as (
    select
        level,
        territory_code,
        sum(contracts) as contracts,
        sum(social_yes) as social_yes,
        sum(social_declared) as social_declared,
        sum(environmental_yes) as environmental_yes,
        sum(environmental_declared) as environmental_declared
    from months
    group by level, territory_code
)

select
    $year as year,
    summed.level,
    summed.territory_code,
    case
        when summed.level = 'national' then 'France'
        when summed.level = 'region' then ref_regions.region_name
        else ref_departements.departement_name
    end as territory_name,
    summed.contracts,
    summed.social_yes / summed.contracts as social_share,
    summed.social_declared / summed.contracts as social_completeness,
    round(100 * (0.30 - summed.social_yes / summed.contracts), 1) as social_gap_points,
    summed.environmental_yes / summed.contracts as environmental_share,
    summed.environmental_declared / summed.contracts as environmental_completeness,
    round(100 * (1.00 - summed.environmental_yes / summed.contracts), 1)
        as environmental_gap_points,
    coalesce(yearly.is_provisional, false) as is_provisional
from summed
left join pnad_shares as yearly
    on yearly.scope = 'all' and yearly.year = $year and yearly.level = summed.level
    and yearly.territory_code is not distinct from summed.territory_code
left join ref_regions on summed.level = 'region' and ref_regions.region_code = summed.territory_code
left join ref_departements
    on summed.level = 'departement' and ref_departements.departement_code = summed.territory_code
order by summed.level, summed.social_yes / summed.contracts desc, summed.territory_code;
