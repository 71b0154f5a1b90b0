-- Ingestion bookkeeping tables (created once, kept across runs).
-- ingest_files:   one row per distinct input file (by SHA-256): where it landed, its detected format,
--                 and how many records were read and rejected from it.
-- ingest_rejects: one row per record that could not be used, with its position and the reason.
-- ingest_unknown_keys: per file, record keys no DECP schema defines (schema drift).
-- local_landings: the path each file given to `pnad ingest` had (for original_name).
-- build_state: the inputs each derived step was last built from (a no-op run skips the work).
-- download_manifest: one row per fetch attempt of a configured source (see pipelines/decp/sources.toml).
-- stg_decp_records: one row per usable DECP record read (all versions, before deduplication),
--                 every field kept as text: casting happens when contracts are built.
--                 A dotted key reads as its nested field ("acheteur.id"); a tabular file
--                 without modification ids has its rows told apart by date; a repeated XML
--                 publication date gives the latest.
--                 A working database made with another layout of these tables, or staged by a
--                 release that read the same files differently, has its files parsed again
--                 (warehouse._migrate, MIGRATED_LAYOUTS).
create table if not exists ingest_files (
    file_id varchar primary key,          -- SHA-256 of the content
    source varchar not null,              -- source name (demo, local, a configured source)
    relative_path varchar not null,       -- path under PNAD_HOME, named by the project
    original_name varchar,                -- name the file had when handed over (information only)
    size_bytes bigint not null,
    registered_at timestamp not null,
    ingest_seq bigint not null,           -- order of registration: a later file wins ties
    format varchar,                       -- detected from content, e.g. decp-json
    status varchar not null,              -- registered | parsed | quarantined
    status_reason varchar,
    records_read bigint,
    records_rejected bigint,
    parsed_at timestamp
);
create table if not exists ingest_rejects (
    file_id varchar not null,
    position bigint,                      -- 1-based position of the record in its file (null: whole file)
    reason varchar not null,
    raw_excerpt varchar                   -- first 300 characters of the record, for diagnosis
);
create table if not exists stg_decp_records (
    file_id varchar not null,
    position bigint not null,
    record_kind varchar not null,         -- marche | concession
    format_version varchar not null,      -- decp-2022 | decp-2022-flat | decp-2019
    contract_id varchar,
    buyer_id varchar,
    buyer_name varchar,
    nature varchar,
    objet varchar,
    cpv_code varchar,
    procedure varchar,
    duration_months_text varchar,
    notification_date_text varchar,
    publication_date_text varchar,
    amount_text varchar,
    place_code varchar,
    place_type_code varchar,
    framework_id varchar,
    social_raw varchar[],
    environmental_raw varchar[],
    techniques_raw varchar[],             -- techniques (accord-cadre, concours...) as written
    execution_modalities_raw varchar[],   -- modalitesExecution (tranches, bons de commande...)
    publisher varchar,                    -- who republished it: the 2019 consolidations' source,
                                          -- decp-processing's sourceDataset, an export's source
    holders json,
    first_holder_id varchar,              -- tells lots sharing one id apart (contract_versions)
    modifications json,
    source_rows bigint not null default 1, -- rows of the file folded into the record (tabular)
    subcontracting json                   -- actesSousTraitance as written (tabular: one per row)
);
create table if not exists download_manifest (
    source varchar not null,              -- source name in sources.toml
    url varchar not null,
    resource_id varchar,                  -- data.gouv.fr resource id, when there is one
    checksum_type varchar,                -- published checksum (sha1, sha256, md5)
    checksum varchar,
    sha256 varchar,                       -- of the body received
    size_bytes bigint,
    fetched_at timestamp not null,
    http_status integer,
    outcome varchar not null,             -- downloaded | unchanged | not_modified | quarantined | failed
    reason varchar,
    etag varchar,
    last_modified varchar,
    relative_path varchar,                -- where it landed (or was quarantined), under PNAD_HOME
    published_last_modified varchar       -- the resource's last_modified in the data.gouv.fr API
);
-- a manifest kept from an earlier release (never reset: it is the download history)
alter table download_manifest add column if not exists published_last_modified varchar;
create table if not exists ingest_unknown_keys (
    file_id varchar not null,
    record_key varchar not null,          -- a top-level key no DECP schema defines, as written
    records bigint not null               -- records of the file carrying it
);
create table if not exists build_state (
    step varchar primary key,             -- contracts | shares
    fingerprint varchar not null,         -- logic version + parsed inputs when last built
    built_at timestamp not null
);
create table if not exists local_landings (
    relative_path varchar primary key,    -- where `pnad ingest` copied the file, under PNAD_HOME
    original_path varchar not null,       -- the path the user gave (information only)
    landed_at timestamp not null
);
