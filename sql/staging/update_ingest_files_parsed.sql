-- Record the outcome of parsing the current batch on each file's ingest_files row.
-- Grain: one row per file of the batch. records_read counts every record found in the file,
-- usable or not; records_rejected those sent to ingest_rejects.
update ingest_files
set status = 'parsed',
    format = 'decp-json',
    status_reason = null,
    records_read = (select count(*) from batch_records b where b.file_id = ingest_files.file_id),
    records_rejected = (
        select count(*) from ingest_rejects r
        where r.file_id = ingest_files.file_id and r.position is not null),
    parsed_at = now()
where file_id in (select file_id from batch_documents where marches is not null);
