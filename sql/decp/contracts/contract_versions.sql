-- contract_versions: every usable DECP record, tied to its contract and ranked.
-- Grain: one row per usable record read (a contract republished on five days has five rows).
-- Source: stg_decp_records + ingest_files.
-- Identity: base_uid = buyer SIRET (spaces removed) + contract id. An id is not always unique per
-- contract (lots sharing one id, truncated ids), so records of one base_uid are told apart by
--   signature = notification date + first holder;
--   within one file, records of a signature with another object are distinct contracts, and so
--   are records with the same object and publication date but another amount (lots published
--   together); the same object published on another date, whatever its amount, is a
--   republication (a consolidated file holds every publication of a contract); variants are
--   numbered by position;
--   across files, the same signature and variant number is the same contract (a republication,
--   possibly with another amount).
-- When a base_uid holds several contracts, each gets uid = base_uid || '#' || n and
-- shared_id_group = true, so they are counted apart and flagged, never merged silently.
-- Rule that picks the kept version (is_kept): the latest datePublicationDonnees wins; on a tie, the
-- version with more modifications, then the file registered last, then the later position.
-- kept_rule says which of these decided.
create or replace table contract_versions as
with records as (
    select
        regexp_replace(r.buyer_id, '\s', '', 'g') || r.contract_id as base_uid,
        r.file_id,
        r.position,
        r.source_rows,
        f.ingest_seq,
        f.source,
        decp_date(r.publication_date_text) as publication_date,
        case when json_type(r.modifications) = 'ARRAY' then json_array_length(r.modifications)
             else 0 end as modification_count,
        coalesce(left(trim(r.notification_date_text), 10), '') || '|'
            || coalesce(r.first_holder_id, '') as signature,
        r.objet,
        r.amount_text
    from stg_decp_records as r
    join ingest_files as f using (file_id)
),
-- Most base_uids have a single record (a contract published once): for them every rule below
-- gives uid = base_uid, one version, kept as 'single version'. Only the others go through the
-- window functions, which sort their rows (the bulk of the time on 2 M records).
repeated_base_uids as (
    select base_uid from records group by base_uid having count(*) > 1
),
repeated as (
    select
        *,
        -- where each amount of an object first appears on its publication date in the file
        min(position) over (
            partition by base_uid, file_id, signature, objet, publication_date, amount_text
        ) as amount_first_position
    from records semi join repeated_base_uids using (base_uid)
),
lots as (
    -- variant: the object, and the amount's rank among the amounts of that object published
    -- on the same date in the file (1 for a contract republished on other dates)
    select
        * exclude (amount_first_position),
        hash(objet, dense_rank() over (
            partition by base_uid, file_id, signature, objet, publication_date
            order by amount_first_position)) as variant
    from repeated
),
variants as (
    select
        base_uid, file_id, signature, variant,
        row_number() over (partition by base_uid, file_id, signature order by min(position))
            as occurrence
    from lots
    group by base_uid, file_id, signature, variant
),
keyed as (
    select
        lots.*,
        dense_rank() over (partition by lots.base_uid
                           order by lots.signature, variants.occurrence) as contract_number
    from lots
    join variants using (base_uid, file_id, signature, variant)
),
named as (
    select
        *,
        max(contract_number) over (partition by base_uid) > 1 as shared_id_group,
        case when max(contract_number) over (partition by base_uid) > 1
             then base_uid || '#' || contract_number else base_uid end as uid
    from keyed
),
ranked as (
    select
        *,
        row_number() over version_order as version_rank,
        count(*) over (partition by uid) as versions_seen,
        lead(publication_date) over version_order as next_publication_date,
        lead(modification_count) over version_order as next_modification_count,
        lead(ingest_seq) over version_order as next_ingest_seq
    from named
    window version_order as (
        partition by uid
        order by publication_date desc nulls last, modification_count desc, ingest_seq desc,
                 position desc
    )
)
-- Narrow on purpose: the record's fields stay in stg_decp_records (joined on file_id, position).
select
    uid, base_uid, shared_id_group, file_id, position, source, ingest_seq, publication_date,
    modification_count, source_rows,
    version_rank = 1 as is_kept,
    versions_seen,
    case
        when version_rank > 1 then null
        when versions_seen = 1 then 'single version'
        when publication_date is distinct from next_publication_date then 'latest publication date'
        when modification_count <> next_modification_count then 'more modifications'
        when ingest_seq <> next_ingest_seq then 'latest file'
        else 'latest position in file'
    end as kept_rule
from ranked
union all
select
    base_uid as uid, base_uid, false as shared_id_group, file_id, position, source, ingest_seq,
    publication_date, modification_count, source_rows,
    true as is_kept,
    1::bigint as versions_seen,
    'single version' as kept_rule
from records anti join repeated_base_uids using (base_uid);
