-- pnad_shares: progress toward the PNAD 2022-2025 targets, by notification year, territory and
-- scope (variant).
-- Grain: one row per scope x year x level (national | region | departement) x territory_code.
-- Unité : nombre de contrats (un marché, un lot publié avec son propre id, ou une concession).
-- Source des données : DECP (format 2022 pour les contrats notifiés à partir du 1er janvier 2024),
--   table contracts, contrats in_pnad_scope (date de notification plausible, hors enregistrements
--   de test de plateforme).
-- Mode de calcul :
--   social_share = contrats déclarant au moins une considération sociale / tous les contrats
--     (headline: an undeclared contract counts as "no", as the public explorers do);
--   social_share_declared = contrats "oui" / contrats ayant déclaré oui ou non;
--   social_completeness = contrats ayant déclaré / tous les contrats; same for environmental.
--   Targets: 30 % social, 100 % environmental; gap = target - share, in percentage points.
--   social_share_by_amount: the same share weighted by current amount, over contracts whose
--     amount is usable (amount_quality 'ok', i.e. not missing, negative, a 0/1 placeholder or a
--     1e10+ sentinel) and below 1 000 000 000 EUR (accord-cadre ceilings); amount_coverage says
--     which share of the contracts that is. A secondary view, never the headline.
--   social_clause / social_critere / social_reserve (and environmental_clause / _critere): contracts
--     declaring that kind; a contract may declare several, so they do not add up to social_yes.
--   Scopes: all (marchés + concessions, the headline); marches; marches_hors_subsequents
--     (without marchés subséquents, counted with their accord-cadre); oecp_basis (marchés of at
--     least 90 000 EUR HT initial amount, comparable in definition, not in source, with the
--     OECP series 2019-2023); hors_defense (without marchés de défense ou de sécurité).
--   Territory: the buyer's (buyer_departement_code / buyer_region_code); contracts that could not
--     be placed form a row with territory_code NULL, so national = sum of régions + unplaced.
--   is_provisional: the current year (buyers have two months to publish).
create or replace table pnad_shares as
with in_scope as (
    select
        notification_year as year,
        buyer_region_code,
        buyer_departement_code,
        social_status,
        environmental_status,
        social_kinds,
        environmental_kinds,
        case when amount_quality = 'ok' and current_amount < 1e9 then current_amount end
            as usable_amount,
        unnest([
            'all',
            case when kind = 'marche' then 'marches' end,
            case when kind = 'marche' and not is_subsequent_contract
                 then 'marches_hors_subsequents' end,
            case when kind = 'marche' and amount_quality = 'ok' and initial_amount >= 90000
                 then 'oecp_basis' end,
            case when coalesce(spelling_key(nature), '') <> 'marche de defense ou de securite'
                 then 'hors_defense' end
        ]) as scope
    from contracts
    where in_pnad_scope
),
counted as (
    select
        scope,
        year,
        territory_level(grouping(buyer_region_code), grouping(buyer_departement_code)) as level,
        territory_code(grouping(buyer_region_code), grouping(buyer_departement_code),
                       buyer_region_code, buyer_departement_code) as territory_code,
        count(*) as contracts,
        count(*) filter (where social_status = 'yes') as social_yes,
        count(*) filter (where social_status in ('yes', 'no')) as social_declared,
        count(*) filter (where environmental_status = 'yes') as environmental_yes,
        count(*) filter (where environmental_status in ('yes', 'no')) as environmental_declared,
        -- by kind: clause = execution condition, critère = award criterion, réservé
        count(*) filter (where list_contains(social_kinds, 'clause')) as social_clause,
        count(*) filter (where list_contains(social_kinds, 'critere')) as social_critere,
        count(*) filter (where list_contains(social_kinds, 'reserve')) as social_reserve,
        count(*) filter (where list_contains(environmental_kinds, 'clause'))
            as environmental_clause,
        count(*) filter (where list_contains(environmental_kinds, 'critere'))
            as environmental_critere,
        count(usable_amount) as contracts_with_usable_amount,
        -- amounts summed to the cent in DECIMAL: a sum of doubles depends on row order, and the
        -- same contracts must give the same share whichever run or file order produced them
        sum(usable_amount::decimal(38, 2)) as usable_amount,
        sum(usable_amount::decimal(38, 2)) filter (where social_status = 'yes')
            as social_yes_amount,
        sum(usable_amount::decimal(38, 2)) filter (where environmental_status = 'yes')
            as environmental_yes_amount
    from in_scope
    where scope is not null
    group by grouping sets (
        (scope, year), (scope, year, buyer_region_code), (scope, year, buyer_departement_code)
    )
)
select
    counted.scope,
    counted.year,
    counted.level,
    counted.territory_code,
    case
        when counted.level = 'national' then 'France'
        when counted.level = 'region' then coalesce(ref_regions.region_name, 'Non localisé')
        else coalesce(ref_departements.departement_name, 'Non localisé')
    end as territory_name,
    counted.contracts,
    counted.social_yes,
    counted.social_declared,
    counted.environmental_yes,
    counted.environmental_declared,
    counted.social_clause,
    counted.social_critere,
    counted.social_reserve,
    counted.environmental_clause,
    counted.environmental_critere,
    counted.social_yes / counted.contracts as social_share,
    counted.social_yes / nullif(counted.social_declared, 0) as social_share_declared,
    counted.social_declared / counted.contracts as social_completeness,
    counted.environmental_yes / counted.contracts as environmental_share,
    counted.environmental_yes / nullif(counted.environmental_declared, 0)
        as environmental_share_declared,
    counted.environmental_declared / counted.contracts as environmental_completeness,
    0.30::double as social_target,
    1.00::double as environmental_target,
    round(100 * (0.30 - counted.social_yes / counted.contracts), 1) as social_gap_points,
    round(100 * (1.00 - counted.environmental_yes / counted.contracts), 1)
        as environmental_gap_points,
    (coalesce(counted.social_yes_amount, 0) / nullif(counted.usable_amount, 0))::double
        as social_share_by_amount,
    (coalesce(counted.environmental_yes_amount, 0) / nullif(counted.usable_amount, 0))::double
        as environmental_share_by_amount,
    counted.contracts_with_usable_amount / counted.contracts as amount_coverage,
    counted.year >= year(current_date) as is_provisional
from counted
left join ref_regions
    on counted.level = 'region' and ref_regions.region_code = counted.territory_code
left join ref_departements
    on counted.level = 'departement'
    and ref_departements.departement_code = counted.territory_code
order by counted.scope, counted.year, counted.level, counted.territory_code;
