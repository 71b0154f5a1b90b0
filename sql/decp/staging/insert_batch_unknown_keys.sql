-- Top-level keys of the current part's records that no DECP schema defines (schema drift), added
-- to the batch's running totals (temporary table batch_unknown_keys; see insert_batch_counts.sql).
-- Grain: one row per (file, key) with the number of records carrying it. Source: batch_records
-- (JSON and XML records; tabular files have fixed columns, record_keys NULL), decp_record_keys.
insert into batch_unknown_keys (file_id, record_key, records)
select file_id, record_key, count(*) as records
from (select file_id, unnest(record_keys) as record_key from batch_records)
where record_key not in (select record_key from decp_record_keys)
group by file_id, record_key;
