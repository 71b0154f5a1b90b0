-- Load one staged export (stg_facilitator_rows, stg_facilitator_hours) into the canonical
-- tables, in the caller's transaction. Variables: file_id, file_name, facilitator_name,
-- period_start, period_end, layout, sheets, ignored_columns, replaced (file_ids the new export
-- replaces: same facilitator, period covered by the new one).
-- Within one export, a marché's or an operation's attributes repeat on every participant line:
-- they are taken once (max over the lines), never added; planned hours included.
update facilitator_files
set status = 'replaced', replaced_by = getvariable('file_id')
where list_contains(getvariable('replaced')::varchar[], file_id);

delete from facilitator_operations where list_contains(getvariable('replaced')::varchar[], file_id);
delete from facilitator_marches where list_contains(getvariable('replaced')::varchar[], file_id);
delete from facilitator_work_contracts where list_contains(getvariable('replaced')::varchar[], file_id);
delete from facilitator_hours_worked where list_contains(getvariable('replaced')::varchar[], file_id);
delete from facilitator_unrecognised_values
where list_contains(getvariable('replaced')::varchar[], file_id);

insert into facilitator_operations
select
    getvariable('file_id'),
    operation_key,
    max(row_facilitator),
    max(operation_id),
    max(operation_name),
    max(buyer_siret),
    max(buyer_name),
    max(buyer_type_value),
    -- '75', 'Paris (75)', '2a', '971', 1 (Excel number for Ain) -> a département code (zero_pad:
    -- lpad would cut '971' to '97')
    max(nullif(zero_pad(upper(regexp_extract(departement_code,
        '(2[AaBb]|97[1-8]|[0-9]{1,2})(?:[^0-9]|$)', 1)), 2), '00'))
from stg_facilitator_rows
where reject_reason is null and operation_key is not null
group by operation_key;

insert into facilitator_marches
select
    getvariable('file_id'),
    marche_key,
    max(operation_key),
    max(row_facilitator),
    max(marche_id),
    max(decp_id),
    max(marche_object),
    max(market_type_value),
    max(sector),
    max(clause_category_value),
    max(notification_date_value),
    max(amount_value),
    max(hours_planned_value)
from stg_facilitator_rows
where reject_reason is null
group by marche_key;

insert into facilitator_work_contracts
select
    getvariable('file_id'),
    work_contract_key,
    max(marche_key),
    max(participant_key),
    max(employer_siret),
    max(employer_name),
    max(modality_value),
    max(contract_type_value),
    max(contract_start_value),
    max(contract_end_value),
    bool_or(case when public_deld is null and publics is null then null
        else coalesce(yes_no(public_deld), false) or coalesce(list_contains(public_values, 'deld'), false) end),
    bool_or(case when public_rsa is null and publics is null then null
        else coalesce(yes_no(public_rsa), false) or coalesce(list_contains(public_values, 'rsa'), false) end),
    bool_or(case when public_th is null and publics is null then null
        else coalesce(yes_no(public_th), false) or coalesce(list_contains(public_values, 'th'), false) end),
    bool_or(case when public_jeune is null and publics is null then null
        else coalesce(yes_no(public_jeune), false) or coalesce(list_contains(public_values, 'jeune'), false) end),
    bool_or(case when public_senior is null and publics is null then null
        else coalesce(yes_no(public_senior), false) or coalesce(list_contains(public_values, 'senior'), false) end),
    bool_or(case when public_qpv is null and publics is null then null
        else coalesce(yes_no(public_qpv), false) or coalesce(list_contains(public_values, 'qpv'), false) end),
    bool_or(case when public_iae is null and publics is null then null
        else coalesce(yes_no(public_iae), false) or coalesce(list_contains(public_values, 'iae'), false) end),
    bool_or(case when public_geiq is null and publics is null then null
        else coalesce(yes_no(public_geiq), false) or coalesce(list_contains(public_values, 'geiq'), false) end),
    max(exit_situation)
from stg_facilitator_rows
where reject_reason is null and sheet_kind = 'participants'
group by work_contract_key;

insert into facilitator_hours_worked
select
    getvariable('file_id'), sheet, line_number, work_contract_key, marche_key, participant_key,
    year, hours_worked, attribution
from stg_facilitator_hours;

insert into facilitator_unrecognised_values
with unknown as (
    select 'market_type' as field, market_type as value from stg_facilitator_rows
    where reject_reason is null and market_type is not null and market_type_value is null
    union all
    select 'clause_category', clause_category from stg_facilitator_rows
    where reject_reason is null and clause_category is not null and clause_category_value is null
    union all
    select 'buyer_type', buyer_type from stg_facilitator_rows
    where reject_reason is null and buyer_type is not null and buyer_type_value is null
    union all
    select 'public', trim(unnest(regexp_split_to_array(publics, '[,;/+|]')))
    from stg_facilitator_rows
    where reject_reason is null and publics is not null
)
select getvariable('file_id'), field, value, count(*)
from unknown
where value <> ''
    and (field <> 'public' or spelling_key(value) not in (
        select spelling from stg_facilitator_value_map where field = 'public'))
group by field, value;

insert into facilitator_rejects
select getvariable('file_id'), getvariable('file_name'), sheet, line_number, reject_reason, excerpt
from stg_facilitator_rows
where reject_reason is not null;

insert into facilitator_files
select
    getvariable('file_id'),
    getvariable('file_name'),
    getvariable('facilitator_name'),
    getvariable('period_start')::date,
    getvariable('period_end')::date,
    getvariable('layout'),
    getvariable('sheets'),
    getvariable('ignored_columns')::varchar[],
    count(*),
    count(*) filter (where reject_reason is null),
    count(*) filter (where reject_reason is not null),
    (select coalesce(sum(hours_worked), 0) from stg_facilitator_hours),
    'active',
    null,
    getvariable('replaced')::varchar[],
    now()
from stg_facilitator_rows;
