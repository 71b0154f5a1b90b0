-- reference_status: where each reference table came from this run — downloaded (with its date
-- and SHA-256) or built into the project (with the reason), so every output can say it.
-- Grain: one row per reference table. Filled by pipelines/reference/tables.py build_reference.
create or replace table reference_status (
    reference varchar,
    origin varchar,          -- downloaded | built-in
    file varchar,            -- the landed file, relative to PNAD_HOME
    sha256 varchar,
    fetched_at timestamp,
    rows bigint,
    note varchar
);
