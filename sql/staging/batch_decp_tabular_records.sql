-- The contracts of one tabular DECP file (decp-processing parquet/CSV, data.economie.gouv.fr
-- exports, analysts' partial extracts), in the shape of batch_records (temporary table).
-- Grain: one row per contract (file_id, uid) — a tabular file has one row per contract x holder x
-- modification; source_rows says how many rows were folded into the record.
-- Source: the temporary table tabular_rows, built by the caller with a fixed column set (columns
-- missing from the file are NULL there, so a partial extract gives unknowns, not errors).
-- Initial values come from the row of the lowest modification id (0 = initial data); later
-- modification ids become modifications with their absolute amount and duration.
create or replace temp table batch_records as
with cleaned as (
    select
        file_id,
        row_number,
        tabular_text(contract_id) as contract_id,
        case when regexp_full_match(tabular_text(buyer_id), '[0-9]{1,14}')
             then lpad(tabular_text(buyer_id), 14, '0')  -- integer columns lose leading zeros
             else tabular_text(buyer_id) end as buyer_id,
        tabular_text(buyer_name) as buyer_name,
        tabular_text(nature) as nature,
        tabular_text(objet) as objet,
        tabular_text(cpv_code) as cpv_code,
        tabular_text(procedure) as procedure,
        tabular_text(duration_months) as duration_months_text,
        left(tabular_text(notification_date), 10) as notification_date_text,
        left(tabular_text(publication_date), 10) as publication_date_text,
        tabular_text(amount) as amount_text,
        case
            when spelling_key(tabular_text(place_type_code)) in ('code postal', 'code commune')
                and regexp_full_match(tabular_text(place_code), '[0-9]{4}')
                then lpad(tabular_text(place_code), 5, '0')  -- 1000 was 01000
            when spelling_key(tabular_text(place_type_code)) = 'code departement'
                and regexp_full_match(tabular_text(place_code), '[0-9]')
                then lpad(tabular_text(place_code), 2, '0')
            else tabular_text(place_code)
        end as place_code,
        tabular_text(place_type_code) as place_type_code,
        tabular_text(framework_id) as framework_id,
        tabular_list(social) as social_raw,
        tabular_list(environmental) as environmental_raw,
        tabular_text(holder_id) as holder_id,
        coalesce(try_cast(tabular_text(modification_id) as integer), 0) as modification_id,
        tabular_text(modification_amount) as modification_amount
    from tabular_rows
),
keyed as (
    select
        *,
        coalesce(regexp_replace(buyer_id, '\s', '', 'g') || contract_id, '#row' || row_number)
            as record_key
    from cleaned
),
initial_rows as (
    select * from keyed
    qualify row_number() over (partition by file_id, record_key
                               order by modification_id, row_number) = 1
),
modification_rows as (
    select
        file_id,
        record_key,
        modification_id,
        any_value(coalesce(modification_amount, amount_text)) as montant,
        any_value(duration_months_text) as duree_mois,
        any_value(notification_date_text) as modification_date,
        any_value(publication_date_text) as modification_publication_date
    from keyed
    where modification_id > 0
    group by file_id, record_key, modification_id
),
modification_lists as (
    select
        file_id,
        record_key,
        to_json(list(json_object(
            'id', modification_id,
            'montant', montant,
            'dureeMois', duree_mois,
            'dateNotificationModification', modification_date,
            'datePublicationDonneesModification', modification_publication_date
        ) order by modification_id)) as modifications
    from modification_rows
    group by file_id, record_key
),
record_sizes as (
    select
        file_id,
        record_key,
        count(*) as source_rows,
        max(publication_date_text) as latest_publication_date_text,
        to_json(list(distinct holder_id) filter (where holder_id is not null)) as holders
    from keyed
    group by file_id, record_key
)
select
    initial_rows.file_id,
    initial_rows.row_number as position,
    'marche' as record_kind,
    'decp-tabular' as format_version,
    'OBJECT' as record_json_type,
    initial_rows.contract_id,
    initial_rows.buyer_id,
    initial_rows.buyer_name,
    initial_rows.nature,
    initial_rows.objet,
    initial_rows.cpv_code,
    initial_rows.procedure,
    initial_rows.duration_months_text,
    initial_rows.notification_date_text,
    record_sizes.latest_publication_date_text as publication_date_text,
    initial_rows.amount_text,
    initial_rows.place_code,
    initial_rows.place_type_code,
    initial_rows.framework_id,
    initial_rows.social_raw,
    initial_rows.environmental_raw,
    record_sizes.holders,
    initial_rows.holder_id as first_holder_id,
    modification_lists.modifications,
    record_sizes.source_rows,
    null::varchar[] as record_keys,
    left(concat_ws(' | ', initial_rows.contract_id, initial_rows.buyer_id, initial_rows.objet),
         300) as raw_excerpt
from initial_rows
join record_sizes using (file_id, record_key)
left join modification_lists using (file_id, record_key);
