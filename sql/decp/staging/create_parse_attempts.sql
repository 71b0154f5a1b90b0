-- ingest_parse_attempts: the files whose parsing started and has not ended, one row per file.
-- Grain: one row per file (file_id of ingest_files). Written by decp_ingest.parse_pending_files:
-- a row is added (attempts + 1, committed) before a batch is read and removed once the batch
-- ends, well or with an error. A row left behind means the process died while reading the file
-- (a crash inside the reader, a kill): on the next runs such a file is read alone, and a file
-- that stopped the process twice is quarantined, so that one file cannot stop every later run.
create table if not exists ingest_parse_attempts (
    file_id varchar primary key,
    attempts integer not null,
    last_started_at timestamp not null
);
