-- The malformed rows of a tabular CSV file (too many or too few fields, bad quoting), kept for
-- analysts in ingest_rejects with DuckDB's reason and the row's text.
-- Grain: one row per malformed row. Source: the temporary table tabular_malformed_rows, filled
-- when the file is converted (decp_ingest._define_tabular_rows, from read_csv's rejects table).
-- position: the row's line in the file (the header is line 1): the row has no place among the
-- rows read.
insert into ingest_rejects (file_id, position, reason, raw_excerpt)
select $file_id, line, reason, raw_excerpt
from tabular_malformed_rows;
