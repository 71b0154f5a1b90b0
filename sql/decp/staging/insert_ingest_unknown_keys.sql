-- Top-level record keys no DECP schema defines (schema drift), per file of the batch once every
-- part is read. Grain: one row per (file, key) with the number of records carrying it.
-- Source: batch_unknown_keys (insert_batch_unknown_keys.sql).
insert into ingest_unknown_keys (file_id, record_key, records)
select file_id, record_key, cast(sum(records) as bigint) as records
from batch_unknown_keys
group by file_id, record_key;
