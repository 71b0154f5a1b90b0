-- The malformed rows of a tabular CSV file, counted as read and rejected in the batch's running
-- totals (batch_file_counts, see insert_batch_counts.sql), so that records read = loaded +
-- duplicates + rejected still holds for the file.
-- Grain: one row for the file (none when no row was malformed). Source: tabular_malformed_rows.
insert into batch_file_counts (file_id, records_read, records_rejected)
select $file_id, count(*), count(*)
from tabular_malformed_rows
having count(*) > 0;
