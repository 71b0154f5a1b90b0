-- ingest_parse_attempts: the files whose parsing stopped the process, one row per file.
-- Grain: one row per file (file_id of ingest_files). Written by pipelines/decp/parsing.py:
-- a row is added (attempts + 1, committed) before a batch is read and removed once the batch
-- ends, well or with an error. A row left behind means the process died while reading the file
-- (a crash inside the reader, a kill by the OOM killer or a timeout): on the next run such a
-- file is read alone in a child process with bounded memory and time (set_aside.py) before it
-- is read here; only a file that stops that child, alone, is set aside (set_aside_at, with the
-- reason in French, also in ingest_files.status_reason), and `pnad retry` reads it again.
create table if not exists ingest_parse_attempts (
    file_id varchar primary key,
    attempts integer not null,
    last_started_at timestamp not null,
    set_aside_at timestamp,               -- when reading it alone failed: set aside
    set_aside_reason varchar              -- why (French), as ingest_files.status_reason
);
-- a working database made before set_aside_at existed
alter table ingest_parse_attempts add column if not exists set_aside_at timestamp;
alter table ingest_parse_attempts add column if not exists set_aside_reason varchar;
