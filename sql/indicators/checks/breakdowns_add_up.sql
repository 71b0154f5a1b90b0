-- Consistency of pnad_breakdowns: for every (year, level, territory, dimension), the categories add
-- up to the pnad_shares row of scope 'all', for every count.
-- Grain: one row per mismatch; an empty result passes.
with sums as (
    select
        year, level, territory_code, dimension,
        sum(contracts) as contracts,
        sum(social_yes) as social_yes,
        sum(social_declared) as social_declared,
        sum(environmental_yes) as environmental_yes,
        sum(environmental_declared) as environmental_declared
    from pnad_breakdowns
    group by year, level, territory_code, dimension
)
select sums.year, sums.level, sums.territory_code, sums.dimension, sums.contracts, s.contracts
from sums
left join pnad_shares as s
    on s.scope = 'all' and s.year = sums.year and s.level = sums.level
    and s.territory_code is not distinct from sums.territory_code
where (sums.contracts, sums.social_yes, sums.social_declared, sums.environmental_yes,
       sums.environmental_declared)
      is distinct from
      (s.contracts, s.social_yes, s.social_declared, s.environmental_yes, s.environmental_declared);
