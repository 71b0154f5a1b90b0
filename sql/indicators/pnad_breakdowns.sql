-- pnad_breakdowns: the PNAD shares cut by market type, buyer category and procedure.
-- Grain: one row per year x level (national | region | departement) x territory_code x
-- dimension (market_type | buyer_category | procedure) x category. Scope: all contracts
-- (marchés + concessions), as the headline.
-- Unité : nombre de contrats. Source des données : table contracts (in_pnad_scope).
-- Mode de calcul : as pnad_shares, within each category. market_type comes from the CPV division
--   (45 travaux; 03-44 and 48 fournitures; 50-98 services; 'non renseigné' without a usable CPV);
--   buyer_category from the buyer's SIREN (see macro buyer_category); procedure as published,
--   spelling variants folded onto the official value ('autre' when it matches none).
--   For every (year, level, territory, dimension), the categories add up to the pnad_shares row.
create or replace table pnad_breakdowns as
with procedures as (
    select spelling_key, value from decp_enum_values where field = 'procedure'
),
in_scope as (
    select
        c.notification_year as year,
        c.buyer_region_code,
        c.buyer_departement_code,
        c.social_status,
        c.environmental_status,
        unnest([
            {'dimension': 'market_type', 'category': coalesce(c.market_type, 'non renseigné')},
            {'dimension': 'buyer_category', 'category': c.buyer_category},
            {'dimension': 'procedure', 'category': case
                when c.procedure is null or trim(c.procedure) = '' then 'non renseigné'
                else coalesce(p.value, 'autre') end}
        ]) as cut
    from contracts as c
    left join procedures as p on p.spelling_key = spelling_key(c.procedure)
    where c.in_pnad_scope
),
counted as (
    select
        year,
        cut.dimension as dimension,
        cut.category as category,
        territory_level(grouping(buyer_region_code), grouping(buyer_departement_code)) as level,
        territory_code(grouping(buyer_region_code), grouping(buyer_departement_code),
                       buyer_region_code, buyer_departement_code) as territory_code,
        count(*) as contracts,
        count(*) filter (where social_status = 'yes') as social_yes,
        count(*) filter (where social_status in ('yes', 'no')) as social_declared,
        count(*) filter (where environmental_status = 'yes') as environmental_yes,
        count(*) filter (where environmental_status in ('yes', 'no')) as environmental_declared
    from in_scope
    group by grouping sets (
        (year, cut.dimension, cut.category),
        (year, cut.dimension, cut.category, buyer_region_code),
        (year, cut.dimension, cut.category, buyer_departement_code)
    )
)
select
    year, level, territory_code, dimension, category, contracts, social_yes, social_declared,
    environmental_yes, environmental_declared,
    social_yes / contracts as social_share,
    social_declared / contracts as social_completeness,
    environmental_yes / contracts as environmental_share,
    environmental_declared / contracts as environmental_completeness
from counted
order by year, level, territory_code, dimension, contracts desc;
