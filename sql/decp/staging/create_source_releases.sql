-- source_releases: each release of a snapshot source and what became of it.
-- Grain: one row per release file (file_id of ingest_files) of a source that publishes
-- "snapshot" in sources.toml (decp.parquet, a data.economie export, a ministry consolidation).
-- Written by pipelines/decp/releases.py once the file is parsed: a release that reads well
-- replaces the one in use of its stream (the resource republished: its landed name without the
-- content hash), whose staged records are removed; one that cannot be read or shrinks below the
-- source's shrink_guard is quarantined and the previous one stays in use. Kept across runs (the
-- history of every release); reset with ingest_files when the staging layout changes.
create table if not exists source_releases (
    file_id varchar primary key,          -- SHA-256 of the release file (ingest_files.file_id)
    source varchar not null,              -- source name in sources.toml
    stream varchar not null,              -- the resource republished (landed name without hash)
    relative_path varchar not null,       -- where it landed, under PNAD_HOME
    received_at timestamp not null,       -- when it was registered
    decided_at timestamp,                 -- when it was put in use or quarantined
    records bigint,                       -- usable records (read - rejected; rows if tabular)
    contracts bigint,                     -- distinct contracts (buyer SIRET + id as published)
    previous_file_id varchar,             -- the release in use when it came (null: the first)
    previous_records bigint,              -- that release's usable records
    added bigint,                         -- contracts it has that the previous release had not
    removed bigint,                       -- contracts of the previous release it no longer has
    outcome varchar not null,             -- in_use | replaced | quarantined | retry
    reason varchar,                       -- why it was quarantined (French)
    raw_pruned_at timestamp               -- when its raw file was removed (keep_releases)
);
