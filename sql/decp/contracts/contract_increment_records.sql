-- contract_increment_records (temporary table): the staged records an incremental build of the
-- contracts reads again: every record of the id families it touches.
-- Grain: one row per staged record (file_id, position) with its base_uid. Source:
-- stg_decp_records, contract_build_inputs (the files the last build read), contracts.
-- Touched: the base_uids of the records of files parsed since the last build, and of the
-- contracts notified after the last build's day ($last_day) and not after today (their date
-- plausibility reads current_date). Every record of a touched family is read again, old or new:
-- versions, the kept one and lots sharing an id are all decided within a base_uid, and the
-- suffix of a shared id's uids skips the published ids of the form <id>#<digits>
-- (contract_identities.sql): a family is the base_uids equal once trailing '#<digits>' are
-- removed ('FZ35', 'FZ35#1' and 'FZ35#1#2' are one family).
create or replace temp table contract_increment_records as
with staged as (
    select
        file_id,
        position,
        base_uid,
        case when contains(base_uid, '#') then regexp_replace(base_uid, '(#[0-9]+)+$', '')
             else base_uid end as family
    from (
        select file_id, position, contract_base_uid(buyer_id, contract_id) as base_uid
        from stg_decp_records
    )
),
touched as (
    select family from staged
    where file_id not in (select file_id from contract_build_inputs)
    union
    select family from staged
    semi join (
        select base_uid from contracts
        where notification_date > cast($last_day as date) and notification_date <= current_date
    ) as recent using (base_uid)
)
select file_id, position, base_uid
from staged
semi join touched using (family);
