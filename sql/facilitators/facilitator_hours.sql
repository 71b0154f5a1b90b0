-- facilitator_hours: insertion hours and what they stand for, by the year the hours were worked
-- and territory. Grain: one row per year x level (national | region | departement) x
-- territory_code ('FR' for national; NULL for marchés that could not be placed, so national =
-- sum of régions + unplaced for hours, planned hours and marchés).
-- Unité : heures ; ETP = heures / 1 600 ; personnes, contrats de travail, marchés, acheteurs,
--   entreprises en nombres distincts.
-- Source des données : exports des facilitateurs (ABC Clauses, tableurs) actifs — un export
--   remplacé par un export corrigé ne compte plus — facilitator_hours_worked (heures par année),
--   facilitator_followed_marches (marché, acheteur, territoire), facilitator_work_contracts.
-- Mode de calcul :
--   hours_worked: hours worked during the year (a line spanning years is split pro rata of days);
--   etp = hours_worked / 1 600;
--   marches: marchés active in the year (hours worked in the year, or notified in the year) —
--     never added across years (a marché spans years);
--   hours_planned: planned hours of those marchés (over their whole life, each counted once —
--     also when two facilitators follow the same DECP contract: it is one marché);
--   completion_rate = hours worked on those marchés up to the end of the year / hours_planned;
--   participants: distinct persons (pseudonyms) with hours in the year; work_contracts: distinct
--     work contracts with hours in the year; buyers: distinct maîtres d'ouvrage (SIRET, else
--     name) of the active marchés; companies: distinct employers with hours in the year;
--   hours_worked_previous_year and hours_worked_change (relative) for year-on-year change;
--   is_small_aggregate: fewer than $min_participants participants — reports show such a row's
--     people counts as "secret" (personal data: never a figure about one or two people);
--   is_provisional: the current year (its hours are still being worked and exported).
--   Territory: the marché's (export, else buyer SIREN, else its linked DECP contract's buyer).
create or replace table facilitator_hours as
with active_hours as (
    select hours.*
    from facilitator_hours_worked as hours
    where hours.file_id in (select file_id from facilitator_files where status = 'active')
),

marches as (
    select
        followed.marche_key,
        -- one DECP contract followed by two facilitators is one marché: its planned hours once
        coalesce('decp:' || links.uid, followed.marche_key) as contract_key,
        followed.hours_planned,
        year(followed.notification_date) as notification_year,
        coalesce(followed.buyer_siret, spelling_key(followed.buyer_name)) as buyer_key,
        coalesce(followed.departement_code, contracts.buyer_departement_code)
            as departement_code,
        coalesce(followed.region_code, contracts.buyer_region_code) as region_code
    from facilitator_followed_marches as followed
    left join facilitator_decp_links as links using (marche_key)
    left join contracts on contracts.uid = links.uid
),

marche_years as (
    select marche_key, year from active_hours
    union
    select marche_key, notification_year from marches where notification_year is not null
),

marche_activity as (
    select
        marche_years.year,
        marches.*,
        (select sum(h.hours_worked) from active_hours as h
         where h.marche_key = marche_years.marche_key and h.year = marche_years.year)
            as hours_worked,
        (select sum(h.hours_worked) from active_hours as h
         where h.marche_key = marche_years.marche_key and h.year <= marche_years.year)
            as hours_worked_to_date,
        row_number() over (
            partition by marche_years.year, marches.contract_key order by marches.marche_key
        ) = 1 as counts_planned
    from marche_years
    join marches using (marche_key)
),

by_marche as (
    select
        year,
        territory_level(grouping(region_code), grouping(departement_code)) as level,
        territory_code(grouping(region_code), grouping(departement_code),
                       region_code, departement_code) as territory_code,
        coalesce(sum(hours_worked), 0) as hours_worked,
        sum(hours_planned) filter (where counts_planned) as hours_planned,
        sum(hours_worked_to_date) filter (where hours_planned > 0) as hours_to_date_planned,
        count(distinct contract_key) as marches,
        count(distinct buyer_key) as buyers
    from marche_activity
    group by grouping sets ((year), (year, region_code), (year, departement_code))
),

by_person as (
    select
        active_hours.year,
        territory_level(grouping(marches.region_code), grouping(marches.departement_code))
            as level,
        territory_code(grouping(marches.region_code), grouping(marches.departement_code),
                       marches.region_code, marches.departement_code) as territory_code,
        count(distinct active_hours.participant_key) as participants,
        count(distinct active_hours.work_contract_key) as work_contracts,
        count(distinct coalesce(work.employer_siret, spelling_key(work.employer_name)))
            as companies
    from active_hours
    join marches using (marche_key)
    left join (
        select distinct work_contract_key, employer_siret, employer_name
        from facilitator_work_contracts
    ) as work using (work_contract_key)
    group by grouping sets (
        (active_hours.year),
        (active_hours.year, marches.region_code),
        (active_hours.year, marches.departement_code)
    )
),

combined as (
    select
        by_marche.*,
        coalesce(by_person.participants, 0) as participants,
        coalesce(by_person.work_contracts, 0) as work_contracts,
        coalesce(by_person.companies, 0) as companies
    from by_marche
    left join by_person
        on by_person.year = by_marche.year
        and by_person.level = by_marche.level
        and by_person.territory_code is not distinct from by_marche.territory_code
)

select
    combined.year,
    combined.level,
    combined.territory_code,
    case
        when combined.level = 'national' then 'France'
        when combined.level = 'region' then coalesce(ref_regions.region_name, 'Non localisé')
        else coalesce(ref_departements.departement_name, 'Non localisé')
    end as territory_name,
    combined.hours_worked,
    combined.hours_worked / 1600 as etp,
    combined.hours_planned,
    combined.hours_to_date_planned / nullif(combined.hours_planned, 0) as completion_rate,
    combined.participants,
    combined.work_contracts,
    combined.marches,
    combined.buyers,
    combined.companies,
    previous.hours_worked as hours_worked_previous_year,
    combined.hours_worked / nullif(previous.hours_worked, 0) - 1 as hours_worked_change,
    combined.participants < $min_participants as is_small_aggregate,
    -- the current year is still being worked (and exported): its change is not a full year's
    combined.year >= year(current_date) as is_provisional
from combined
left join combined as previous
    on previous.year = combined.year - 1
    and previous.level = combined.level
    and previous.territory_code is not distinct from combined.territory_code
left join ref_regions
    on combined.level = 'region' and ref_regions.region_code = combined.territory_code
left join ref_departements
    on combined.level = 'departement'
    and ref_departements.departement_code = combined.territory_code
order by combined.year, combined.level, combined.territory_code;
