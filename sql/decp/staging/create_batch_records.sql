-- batch_records: the records of the batch (or the part of a large file) being read, every field as
-- text, before they are sorted into stg_decp_records and ingest_rejects. Temporary: one batch.
-- Grain: one row per record per file. Filled by batch_decp_json_records.sql (JSON and XML files);
-- tabular files give it only what sorting and counting their records needs
-- (batch_decp_tabular_records.sql).
-- The columns of stg_decp_records, and what sorting the records needs besides.
create or replace temp table batch_records as
select
    null::boolean as has_root,            -- false: a document without "marches" (no record)
    null::varchar as record_json_type,    -- OBJECT for a usable record
    null::varchar[] as record_keys,       -- top-level keys, for the schema-drift census
    null::varchar as raw_excerpt,         -- first 300 characters, for a rejected record
    *
from stg_decp_records
limit 0;
