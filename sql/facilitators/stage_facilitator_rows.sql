-- stg_facilitator_rows: one export's rows, typed and checked, before they reach the canonical
-- tables. Grain: one row per data row of the export (all sheets), with its line number.
-- Source: the text table facilitator_upload (columns already mapped to canonical names and the
-- participant pseudonymised; see pipelines/facilitators/pseudonyms.py) and facilitator_upload_values
-- (the export's own value mapping). Variables: facilitator_name.
-- Rules: numbers and dates as French spreadsheets write them (macros french_number,
-- french_date); coded values through the export's mapping, then facilitator_vocabulary;
-- reject_reason is the first rule a row breaks (NULL: the row is loaded).
-- stg_facilitator_hours: the hours of each loaded row by the calendar year they were worked:
-- the row's period when it has one, else the work contract's dates, split pro rata of days.
create or replace temp table stg_facilitator_value_map as
select field, spelling_key(spelling) as spelling, any_value(value) as value
from facilitator_upload_values
group by all
union all
select vocabulary.field, vocabulary.spelling, vocabulary.value
from facilitator_vocabulary as vocabulary
where not exists (
    select 1 from facilitator_upload_values as own
    where own.field = vocabulary.field and spelling_key(own.spelling) = vocabulary.spelling
);

create or replace temp table stg_facilitator_rows as
with source as (
    select
        *,
        row_number() over () as row_id,
        coalesce(facilitator, getvariable('facilitator_name')) as row_facilitator
    from facilitator_upload
),

-- the publics of a line, from a list column ("DELD, RSA"), as canonical values
publics as (
    select listed.row_id, list(distinct map.value order by map.value) as public_values
    from (
        select row_id, spelling_key(unnest(regexp_split_to_array(publics, '[,;/+|]'))) as spelling
        from source
        where publics is not null
    ) as listed
    join stg_facilitator_value_map as map
        on map.field = 'public' and map.spelling = trim(listed.spelling)
    group by listed.row_id
),

coded as (
    select
        source.*,
        modality_map.value as modality_value,
        contract_type_map.value as contract_type_value,
        market_type_map.value as market_type_value,
        clause_category_map.value as clause_category_value,
        buyer_type_map.value as buyer_type_value,
        publics.public_values,
        french_number(hours_worked) as hours_worked_value,
        french_number(hours_planned) as hours_planned_value,
        french_number(amount) as amount_value,
        french_date(notification_date) as notification_date_value,
        french_date(contract_start) as contract_start_value,
        french_date(contract_end) as contract_end_value,
        -- a period cell: a year (2024), a month (2024-03 or 03/2024) or a date (its month)
        case
            when regexp_full_match(trim(period), '[0-9]{4}') then make_date(trim(period)::int, 1, 1)
            when regexp_full_match(trim(period), '[0-9]{4}-[0-9]{1,2}')
                then try_strptime(trim(period) || '-01', '%Y-%m-%d')::date
            when regexp_full_match(trim(period), '[0-9]{1,2}/[0-9]{4}')
                then try_strptime('01/' || trim(period), '%d/%m/%Y')::date
            else date_trunc('month', french_date(period))::date
        end as period_cell_start,
        case
            when regexp_full_match(trim(period), '[0-9]{4}') then make_date(trim(period)::int, 12, 31)
        end as period_cell_year_end,
        french_date(period_start) as period_start_value,
        french_date(period_end) as period_end_value
    from source
    left join publics using (row_id)
    left join stg_facilitator_value_map as modality_map
        on modality_map.field = 'modality' and modality_map.spelling = spelling_key(source.modality)
    left join stg_facilitator_value_map as contract_type_map
        on contract_type_map.field = 'contract_type'
        and contract_type_map.spelling = spelling_key(source.contract_type)
    left join stg_facilitator_value_map as market_type_map
        on market_type_map.field = 'market_type'
        and market_type_map.spelling = spelling_key(source.market_type)
    left join stg_facilitator_value_map as clause_category_map
        on clause_category_map.field = 'clause_category'
        and clause_category_map.spelling = spelling_key(source.clause_category)
    left join stg_facilitator_value_map as buyer_type_map
        on buyer_type_map.field = 'buyer_type'
        and buyer_type_map.spelling = spelling_key(source.buyer_type)
),

attributed as (
    select
        coded.*,
        coalesce(period_start_value, period_cell_start, contract_start_value) as hours_start,
        coalesce(
            period_end_value,
            period_cell_year_end,
            last_day(period_cell_start),
            case when period_start_value is null and period_cell_start is null
                 then coalesce(contract_end_value, contract_start_value) end
        ) as hours_end,
        case
            when period_start_value is not null or period_cell_start is not null then 'period'
            when contract_end_value is not null then 'contract_dates'
            when contract_start_value is not null then 'contract_start'
        end as attribution,
        -- NULL on lines that say nothing of the operation (a sheet of hours only)
        md5(row_facilitator || '|' || coalesce(operation_id, operation_name, buyer_siret,
            buyer_name)) as operation_key,
        md5(row_facilitator || '|' || coalesce(
            'id:' || upper(trim(marche_id)),
            'decp:' || upper(trim(decp_id)),
            'op:' || coalesce(operation_id, operation_name, '') || '|' || spelling_key(marche_object)
        )) as marche_key
    from coded
),

checked as (
    select
        attributed.*,
        case
            when is_total_row then 'ligne de total (non chargée)'
            when marche_id is null and decp_id is null and marche_object is null
                 and operation_id is null
                then 'marché non identifié (ni numéro, ni objet, ni opération)'
            when hours_planned is not null and hours_planned_value is null
                then 'heures prévues illisibles : «' || hours_planned || '»'
            when hours_planned_value < 0 then 'heures prévues négatives : ' || hours_planned
            when amount is not null and amount_value is null
                then 'montant illisible : «' || amount || '»'
            when notification_date is not null and notification_date_value is null
                then 'date de notification illisible : «' || notification_date || '»'
            when sheet_kind = 'marches' then null
            when participant_key is null then 'participant non identifié (ni identifiant ni nom)'
            when hours_worked is null then 'heures réalisées manquantes'
            when hours_worked_value is null
                then 'heures réalisées illisibles : «' || hours_worked || '»'
            when hours_worked_value < 0 then 'heures réalisées négatives : ' || hours_worked
            when hours_worked_value > 2500
                then 'heures réalisées invraisemblables (plus de 2 500 h sur une ligne) : '
                    || hours_worked
            when contract_start is not null and contract_start_value is null
                then 'date de début illisible : «' || contract_start || '»'
            when contract_end is not null and contract_end_value is null
                then 'date de fin illisible : «' || contract_end || '»'
            when contract_end_value < contract_start_value
                then 'fin du contrat avant son début (' || contract_start || ' > '
                    || contract_end || ')'
            when period is not null and period_cell_start is null
                then 'période illisible : «' || period || '»'
            when (period_start is not null and period_start_value is null)
                 or (period_end is not null and period_end_value is null)
                then 'période illisible : «' || coalesce(period_start, '') || ' – '
                    || coalesce(period_end, '') || '»'
            when hours_end < hours_start then 'fin de période avant son début'
            when modality is not null and modality_value is null
                then 'modalité inconnue : «' || modality || '»'
            when contract_type is not null and contract_type_value is null
                then 'type de contrat inconnu : «' || contract_type || '»'
            when hours_start is null
                then 'aucune date pour rattacher les heures à une année (ni période ni dates de contrat)'
        end as reject_reason,
        md5(marche_key || '|' || coalesce(participant_key, '') || '|'
            || coalesce(contract_start_value::varchar, '') || '|'
            || coalesce(employer_siret, spelling_key(employer_name), '') || '|'
            || coalesce(contract_type_value, '')) as work_contract_key,
        -- what an analyst needs to find the line again; never a personal column
        concat_ws('; ',
            'marché=' || marche_id, 'objet=' || left(marche_object, 60),
            'entreprise=' || employer_name, 'modalité=' || modality,
            'contrat=' || contract_type, 'début=' || contract_start, 'fin=' || contract_end,
            'période=' || coalesce(period, period_start), 'heures=' || hours_worked,
            'heures prévues=' || hours_planned) as excerpt
    from attributed
)

select * from checked;

create or replace temp table stg_facilitator_hours as
with loaded as (
    select * from stg_facilitator_rows
    where reject_reason is null and sheet_kind = 'participants'
),

years as (
    select
        loaded.*,
        unnest(range(year(hours_start), year(hours_end) + 1)) as year
    from loaded
)

select
    sheet,
    line_number,
    work_contract_key,
    marche_key,
    participant_key,
    year::integer as year,
    hours_worked_value * (
        least(hours_end, make_date(year::int, 12, 31))
        - greatest(hours_start, make_date(year::int, 1, 1)) + 1
    ) / (hours_end - hours_start + 1) as hours_worked,
    attribution,
    hours_start as period_start,
    hours_end as period_end
from years;
