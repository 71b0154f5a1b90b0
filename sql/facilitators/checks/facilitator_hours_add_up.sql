-- Consistency of facilitator_hours: for every year, the hours of the région rows (unplaced
-- included) and of the département rows equal the national row, which equals the hours of the
-- active exports for that year. Same for planned hours and marchés across levels.
-- Grain: one row per (year, level) that differs; an empty result passes.
with sums as (
    select year, level, sum(hours_worked) as hours_worked,
        sum(coalesce(hours_planned, 0)) as hours_planned, sum(marches) as marches
    from facilitator_hours
    group by year, level
),

exported as (
    select year, sum(hours_worked) as hours_worked
    from facilitator_hours_worked
    where file_id in (select file_id from facilitator_files where status = 'active')
    group by year
)

select sums.year, sums.level, sums.hours_worked, national.hours_worked as national_hours,
    exported.hours_worked as exported_hours
from sums
join sums as national on national.year = sums.year and national.level = 'national'
left join exported on exported.year = sums.year
where abs(sums.hours_worked - national.hours_worked) > 0.01
    or abs(sums.hours_planned - national.hours_planned) > 0.01
    or sums.marches <> national.marches
    or abs(national.hours_worked - coalesce(exported.hours_worked, 0)) > 0.01;
