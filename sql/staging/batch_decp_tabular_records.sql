-- The contracts of one tabular DECP file (decp-processing parquet/CSV, data.economie.gouv.fr
-- exports, analysts' partial extracts) whose initial row lies between $first_row and $last_row,
-- in the shape of batch_records (temporary table): a large file is read in parts, so that memory
-- follows the part, not the file.
-- Grain: one row per contract (file_id, uid) — a tabular file has one row per contract x holder x
-- modification; source_rows says how many rows were folded into the record.
-- Source: tabular_contract_folds (tabular_contract_folds.sql) for what the contract's rows give
-- together, tabular_row_keys and the temporary table macro tabular_rows($path) for the fields of
-- its initial row.
create or replace temp table batch_records as
with initial_rows as (
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
                then lpad(tabular_text(r.place_code), 5, '0')  -- 1000 was 01000
            when spelling_key(tabular_text(r.place_type_code)) = 'code departement'
                and regexp_full_match(tabular_text(r.place_code), '[0-9]')
                then lpad(tabular_text(r.place_code), 2, '0')
            else tabular_text(r.place_code)
        end as place_code,
        tabular_text(r.place_type_code) as place_type_code,
        tabular_text(r.framework_id) as framework_id,
        tabular_list(r.social) as social_raw,
        tabular_list(r.environmental) as environmental_raw
    from tabular_rows($path) as r
    where r.row_number between $first_row and $last_row
      and r.row_number in (
          select initial_row_number from tabular_contract_folds
          where initial_row_number between $first_row and $last_row)
)
select
    cast($file_id as varchar) as file_id,
    initial_rows.row_number as position,
    'marche' as record_kind,
    'decp-tabular' as format_version,
    'OBJECT' as record_json_type,
    keys.contract_id,
    keys.buyer_id,
    initial_rows.buyer_name,
    initial_rows.nature,
    initial_rows.objet,
    initial_rows.cpv_code,
    initial_rows.procedure,
    initial_rows.duration_months_text,
    initial_rows.notification_date_text,
    folds.latest_publication_date_text as publication_date_text,
    initial_rows.amount_text,
    initial_rows.place_code,
    initial_rows.place_type_code,
    initial_rows.framework_id,
    initial_rows.social_raw,
    initial_rows.environmental_raw,
    folds.holders,
    keys.holder_id as first_holder_id,
    folds.modifications,
    folds.source_rows,
    null::varchar[] as record_keys,
    -- only a rejected record needs its excerpt (insert_ingest_rejects.sql)
    case when keys.contract_id is null or keys.buyer_id is null
         then left(concat_ws(' | ', keys.contract_id, keys.buyer_id, initial_rows.objet), 300)
    end as raw_excerpt
from initial_rows
join (
    select * from tabular_row_keys where row_number between $first_row and $last_row
) as keys using (row_number)
join (
    select * from tabular_contract_folds
    where initial_row_number between $first_row and $last_row
) as folds on folds.initial_row_number = initial_rows.row_number;
