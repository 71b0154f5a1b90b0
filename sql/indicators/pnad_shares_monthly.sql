-- pnad_shares_monthly: the PNAD shares by month of notification, for trends.
-- Grain: one row per month x level (national | region | departement) x territory_code.
-- Scope: all contracts in_pnad_scope (marchés + concessions), as the headline.
-- Unité : nombre de contrats. Source des données : table contracts.
-- Mode de calcul : as pnad_shares, within the month. is_provisional: the current month and the
--   three before it — the last three complete months, as the pages say (buyers have two months
--   to publish, and late publications keep the latest months filling in).
create or replace table pnad_shares_monthly as
with in_scope as (
    select
        date_trunc('month', notification_date)::date as month,
        buyer_region_code,
        buyer_departement_code,
        social_status,
        environmental_status
    from contracts
    where in_pnad_scope
),
counted as (
    select
        month,
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
        (month), (month, buyer_region_code), (month, buyer_departement_code)
    )
)
select
    month, level, territory_code, contracts, social_yes, social_declared, environmental_yes,
    environmental_declared,
    social_yes / contracts as social_share,
    social_declared / contracts as social_completeness,
    environmental_yes / contracts as environmental_share,
    environmental_declared / contracts as environmental_completeness,
    month >= (date_trunc('month', current_date) - interval 3 month)::date as is_provisional
from counted
order by month, level, territory_code;
