-- Consistency of pnad_shares: for every scope and year, the sums of the région rows (unplaced
-- included) and of the département rows equal the national row, for every count.
-- Grain: one row per (scope, year, level) whose sums differ; an empty result passes.
with sums as (
    select
        scope, year, level,
        sum(contracts) as contracts,
        sum(social_yes) as social_yes,
        sum(social_declared) as social_declared,
        sum(environmental_yes) as environmental_yes,
        sum(environmental_declared) as environmental_declared
    from pnad_shares
    group by scope, year, level
)
select part.scope, part.year, part.level, part.contracts, national.contracts as national_contracts
from sums as part
join sums as national
    on national.scope = part.scope and national.year = part.year and national.level = 'national'
where part.level <> 'national'
    and (part.contracts, part.social_yes, part.social_declared, part.environmental_yes,
         part.environmental_declared)
        is distinct from
        (national.contracts, national.social_yes, national.social_declared,
         national.environmental_yes, national.environmental_declared);
