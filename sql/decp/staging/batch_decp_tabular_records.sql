-- The contracts of one tabular DECP file (decp-processing parquet/CSV, data.economie.gouv.fr
-- exports, analysts' partial extracts) whose initial row lies between $first_row and $last_row,
-- as much as sorting and counting them needs (temporary table batch_records): the key, the
-- position, how many rows were folded into the record, and for a record that cannot be used,
-- its excerpt. A large file is read in parts, so that memory follows the part, not the file.
-- The usable records' fields go straight into stg_decp_records
-- (insert_stg_decp_tabular_records.sql): 2 M wide rows held in a temporary table first, then
-- copied, cost 2 s more at 3 M rows.
-- Grain: one row per contract (file_id, record_key) — a tabular file has one row per contract x
-- holder x modification; source_rows says how many rows were folded into the record.
-- Source: tabular_contract_folds (tabular_contract_folds.sql), tabular_row_keys
-- (tabular_row_keys.sql), and for the excerpt of a rejected record the temporary table macro
-- tabular_rows($path).
create or replace temp table batch_records as
with part as (
    select
        keys.row_number,
        keys.contract_id,
        keys.buyer_id,
        folds.source_rows,
        keys.contract_id is null or keys.buyer_id is null as rejected
    from tabular_contract_folds as folds
    join tabular_row_keys as keys on keys.row_number = folds.initial_row_number
    where folds.initial_row_number between $first_row and $last_row
),
rejected_objects as (
    select r.row_number, tabular_text(r.objet) as objet
    from tabular_rows($path) as r
    where r.row_number in (select row_number from part where rejected)
)
select
    cast($file_id as varchar) as file_id,
    part.row_number as position,
    'OBJECT' as record_json_type,
    part.contract_id,
    part.buyer_id,
    part.source_rows,
    null::varchar[] as record_keys,
    case when part.rejected
         then left(concat_ws(' | ', part.contract_id, part.buyer_id, rejected_objects.objet), 300)
    end as raw_excerpt
from part
left join rejected_objects using (row_number);
