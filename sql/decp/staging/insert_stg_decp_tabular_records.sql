-- The usable contracts of one tabular DECP file whose initial row lies between $first_row and
-- $last_row, every field as text, into stg_decp_records (all versions, before deduplication).
-- Grain: one row per contract (file_id, position = its initial row). Usable: a contract id and a
-- buyer id; the others are in batch_records (batch_decp_tabular_records.sql), which sorts them
-- into ingest_rejects.
-- Source: tabular_contract_folds (tabular_contract_folds.sql) for what the contract's rows give
-- together (holders, modifications, acts of subcontracting, latest publication date),
-- tabular_row_keys (tabular_row_keys.sql) for its key, and the temporary table macro
-- tabular_rows($path) for the fields of its initial row, cleaned here only (tabular_text,
-- tabular_list).
insert into stg_decp_records by name
with part as (
    select keys.row_number, keys.contract_id, keys.buyer_id, keys.holder_id, folds.*
    from tabular_contract_folds as folds
    join tabular_row_keys as keys on keys.row_number = folds.initial_row_number
    where folds.initial_row_number between $first_row and $last_row
      and keys.contract_id is not null and keys.buyer_id is not null
),
initial_rows as (
    select
        r.row_number,
        tabular_text(r.buyer_name) as buyer_name,
        tabular_text(r.nature) as nature,
        tabular_text(r.objet) as objet,
        tabular_text(r.cpv_code) as cpv_code,
        tabular_text(r.procedure) as procedure,
        tabular_text(r.duration_months) as duration_months_text,
        left(tabular_text(r.notification_date), 10) as notification_date_text,
        tabular_text(r.amount) as amount_text,
        case
            when spelling_key(tabular_text(r.place_type_code)) in ('code postal', 'code commune')
                and regexp_full_match(tabular_text(r.place_code), '[0-9]{4}')
                then zero_pad(tabular_text(r.place_code), 5)  -- 1000 was 01000
            when spelling_key(tabular_text(r.place_type_code)) = 'code departement'
                and regexp_full_match(tabular_text(r.place_code), '[0-9]')
                then zero_pad(tabular_text(r.place_code), 2)
            else tabular_text(r.place_code)
        end as place_code,
        tabular_text(r.place_type_code) as place_type_code,
        tabular_text(r.framework_id) as framework_id,
        tabular_list(r.social) as social_raw,
        tabular_list(r.environmental) as environmental_raw,
        tabular_list(r.techniques) as techniques_raw,
        tabular_list(r.execution_modalities) as execution_modalities_raw,
        tabular_text(r.publisher) as publisher
    from tabular_rows($path) as r
    where r.row_number between $first_row and $last_row
      and r.row_number in (select row_number from part)
)
select
    cast($file_id as varchar) as file_id,
    part.row_number as position,
    'marche' as record_kind,
    'decp-tabular' as format_version,
    part.contract_id,
    part.buyer_id,
    initial_rows.buyer_name,
    initial_rows.nature,
    initial_rows.objet,
    initial_rows.cpv_code,
    initial_rows.procedure,
    initial_rows.duration_months_text,
    initial_rows.notification_date_text,
    part.latest_publication_date_text as publication_date_text,
    initial_rows.amount_text,
    initial_rows.place_code,
    initial_rows.place_type_code,
    initial_rows.framework_id,
    initial_rows.social_raw,
    initial_rows.environmental_raw,
    initial_rows.techniques_raw,
    initial_rows.execution_modalities_raw,
    initial_rows.publisher,
    part.holders,
    part.holder_id as first_holder_id,
    part.modifications,
    part.source_rows,
    part.subcontracting
from initial_rows
join part using (row_number);
