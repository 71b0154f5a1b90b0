-- What the current part of a batch read, added to the batch's running totals (temporary tables
-- batch_file_counts and batch_unknown_keys, created empty by the caller for each batch): a large
-- file is read in several parts, and its counts are recorded once, when the batch is done
-- (update_ingest_files_parsed.sql, insert_ingest_unknown_keys.sql).
-- Grain: one row per file of the part (counts), one per file and unknown key (keys).
-- Counts are in source rows: a tabular file folds several rows into one record (source_rows).
insert into batch_file_counts (file_id, records_read, records_rejected)
select
    file_id,
    sum(source_rows) as records_read,
    coalesce(sum(source_rows) filter (
        where record_json_type <> 'OBJECT' or contract_id is null or buyer_id is null), 0)
        as records_rejected
from batch_records
group by file_id;
