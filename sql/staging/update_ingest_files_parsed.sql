-- Record the outcome of parsing the current batch on each file's ingest_files row.
-- Grain: one row per file of the batch. records_read counts every record found in the file,
-- usable or not; records_rejected those sent to ingest_rejects.
-- A tabular file folds several rows into one record: counts are in rows (source_rows).
update ingest_files
set status = 'parsed',
    format = $format,
    status_reason = null,
    records_read = (
        select coalesce(sum(b.source_rows), 0) from batch_records b
        where b.file_id = ingest_files.file_id),
    records_rejected = (
        select coalesce(sum(b.source_rows), 0) from batch_records b
        where b.file_id = ingest_files.file_id
          and (b.record_json_type <> 'OBJECT' or b.contract_id is null or b.buyer_id is null)),
    parsed_at = now()
where file_id in (select file_id from batch_files)
  and file_id not in (select file_id from batch_unreadable);
