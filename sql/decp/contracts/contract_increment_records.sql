-- contract_increment_records (temporary table): the staged records an incremental build of the
-- contracts reads again: every record of the base_uids it touches.
-- Grain: one row per staged record (file_id, position) with its base_uid. Source:
-- stg_decp_records, contract_build_inputs (the files the last build read), contracts.
-- Touched: the base_uids of the records of files parsed since the last build, and of the
-- contracts notified after the last build's day ($last_day) and not after today (their date
-- plausibility reads current_date). Every record of a touched base_uid is read again, old or new:
-- versions, the kept one and lots sharing an id are all decided within a base_uid.
create or replace temp table contract_increment_records as
with staged as (
    select file_id, position, regexp_replace(buyer_id, '\s', '', 'g') || contract_id as base_uid
    from stg_decp_records
),
touched as (
    select base_uid from staged
    where file_id not in (select file_id from contract_build_inputs)
    union
    select base_uid from contracts
    where notification_date > cast($last_day as date) and notification_date <= current_date
)
select file_id, position, base_uid
from staged
semi join touched using (base_uid);
