-- Record the outcome of parsing the current batch on each file's ingest_files row.
-- Grain: one row per file of the batch. records_read counts every record found in the file,
-- usable or not; records_rejected those sent to ingest_rejects (summed over the parts the file
-- was read in: batch_file_counts, insert_batch_counts.sql).
-- A tabular file folds several rows into one record: counts are in rows (source_rows).
update ingest_files
set status = 'parsed',
    format = $format,
    status_reason = null,
    records_read = (
        select cast(coalesce(sum(c.records_read), 0) as bigint) from batch_file_counts c
        where c.file_id = ingest_files.file_id),
    records_rejected = (
        select cast(coalesce(sum(c.records_rejected), 0) as bigint) from batch_file_counts c
        where c.file_id = ingest_files.file_id),
    parsed_at = now()
where file_id in (select file_id from batch_files)
  and file_id not in (select file_id from batch_unreadable);
