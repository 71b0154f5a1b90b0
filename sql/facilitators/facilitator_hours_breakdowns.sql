-- facilitator_hours_breakdowns: insertion hours by year, territory and one dimension at a time.
-- Grain: one row per year x level (national | region) x territory_code x dimension x category.
-- Unité : heures ; ETP = heures / 1 600 ; personnes, contrats de travail, marchés distincts.
-- Source des données : facilitator_hours_worked (exports actifs), facilitator_followed_marches,
--   facilitator_work_contracts.
-- Mode de calcul : as facilitator_hours, split by
--   buyer_type, market_type, sector, clause_category (the marché's), modality, contract_type
--   (the work contract's): categories add up to the total ('non renseigné' when not given);
--   public (DELD, RSA, TH, jeune, senior, QPV, IAE, GEIQ): non-exclusive flags — a person may
--   be in several publics or none, so these rows do NOT add up to the total.
--   is_small_aggregate as in facilitator_hours ($min_participants).
create or replace table facilitator_hours_breakdowns as
with active_hours as (
    select hours.*
    from facilitator_hours_worked as hours
    where hours.file_id in (select file_id from facilitator_files where status = 'active')
),

work as (
    select
        work_contract_key,
        any_value(modality) as modality,
        any_value(contract_type) as contract_type,
        list_filter([
            case when bool_or(public_deld) then 'deld' end,
            case when bool_or(public_rsa) then 'rsa' end,
            case when bool_or(public_th) then 'th' end,
            case when bool_or(public_jeune) then 'jeune' end,
            case when bool_or(public_senior) then 'senior' end,
            case when bool_or(public_qpv) then 'qpv' end,
            case when bool_or(public_iae) then 'iae' end,
            case when bool_or(public_geiq) then 'geiq' end
        ], p -> p is not null) as publics
    from facilitator_work_contracts
    group by work_contract_key
),

lines as (
    select
        active_hours.year,
        active_hours.hours_worked,
        active_hours.participant_key,
        active_hours.work_contract_key,
        active_hours.marche_key,
        coalesce(followed.region_code, contracts.buyer_region_code) as region_code,
        unnest(list_concat([
            {'dimension': 'buyer_type', 'category': coalesce(followed.buyer_type, 'non renseigné')},
            {'dimension': 'market_type', 'category': coalesce(followed.market_type, 'non renseigné')},
            {'dimension': 'sector', 'category': coalesce(followed.sector, 'non renseigné')},
            {'dimension': 'clause_category',
             'category': coalesce(followed.clause_category, 'non renseigné')},
            {'dimension': 'modality', 'category': coalesce(work.modality, 'non renseigné')},
            {'dimension': 'contract_type', 'category': coalesce(work.contract_type, 'non renseigné')}
        ], list_transform(coalesce(work.publics, []),
            p -> {'dimension': 'public', 'category': p}))) as cut
    from active_hours
    join facilitator_followed_marches as followed using (marche_key)
    left join facilitator_decp_links as links using (marche_key)
    left join contracts on contracts.uid = links.uid
    left join work using (work_contract_key)
),

counted as (
    select
        year,
        case when grouping(region_code) = 1 then 'national' else 'region' end as level,
        case when grouping(region_code) = 1 then 'FR' else region_code end as territory_code,
        cut.dimension,
        cut.category,
        sum(hours_worked) as hours_worked,
        count(distinct participant_key) as participants,
        count(distinct work_contract_key) as work_contracts,
        count(distinct marche_key) as marches
    from lines
    group by grouping sets ((year, cut.dimension, cut.category),
                            (year, region_code, cut.dimension, cut.category))
)

select
    counted.year,
    counted.level,
    counted.territory_code,
    counted.dimension,
    counted.category,
    counted.hours_worked,
    counted.hours_worked / 1600 as etp,
    counted.participants,
    counted.work_contracts,
    counted.marches,
    previous.hours_worked as hours_worked_previous_year,
    counted.hours_worked / nullif(previous.hours_worked, 0) - 1 as hours_worked_change,
    counted.participants < $min_participants as is_small_aggregate
from counted
left join counted as previous
    on previous.year = counted.year - 1
    and previous.level = counted.level
    and previous.territory_code is not distinct from counted.territory_code
    and previous.dimension = counted.dimension
    and previous.category = counted.category
order by counted.year, counted.level, counted.territory_code, counted.dimension, counted.category;
