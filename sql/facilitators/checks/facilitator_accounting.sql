-- Accounting of the facilitators' exports: for every export, lines read = loaded + rejected,
-- and for every active export, the hours recorded at load = the hours in facilitator_hours_worked
-- (to the hundredth of an hour: pro-rata splits are not exact in binary).
-- Grain: one row per export that does not reconcile; an empty result passes.
select files.file_name, files.rows_read, files.rows_loaded, files.rows_rejected,
    files.hours_worked, stored.hours_worked as stored_hours
from facilitator_files as files
left join (
    select file_id, sum(hours_worked) as hours_worked
    from facilitator_hours_worked group by file_id
) as stored using (file_id)
where files.rows_read <> files.rows_loaded + files.rows_rejected
    or (files.status = 'active'
        and abs(files.hours_worked - coalesce(stored.hours_worked, 0)) > 0.01);
