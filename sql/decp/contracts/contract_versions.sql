-- contract_versions: every usable DECP record, tied to its contract and ranked.
-- Grain: one row per usable record read (a contract republished on five days has five rows).
-- Source: stg_decp_records + ingest_files, contract_identities (contract_identities.sql: which
-- contract each record of a repeated id belongs to, its uid and identity_rule).
-- Identity: base_uid = buyer SIRET (spaces removed) + contract id. A base_uid published once is
-- one contract, uid = base_uid ('one record'); the records of a repeated one are tied to their
-- contracts on evidence (notification date, holder SIREN, amount, lot number in the object):
-- see contract_identities.sql. Contracts sharing one id get uid = base_uid || '#' || n (never a
-- published id) and shared_id_group = true, so they are counted apart and flagged, never
-- merged silently.
-- Rule that picks the kept version (is_kept): the latest datePublicationDonnees wins; on a tie, the
-- version with more modifications, then the file registered last, then the later position.
-- kept_rule says which of these decided.
create or replace table contract_versions as
with records as (
    select
        contract_base_uid(r.buyer_id, r.contract_id) as base_uid,
        r.file_id,
        r.position,
        r.source_rows,
        f.ingest_seq,
        f.source,
        decp_date(r.publication_date_text) as publication_date,
        case when json_type(r.modifications) = 'ARRAY' then json_array_length(r.modifications)
             else 0 end as modification_count
    from stg_decp_records as r
    join ingest_files as f using (file_id)
),
-- Most base_uids have a single record (a contract published once): one version, kept as
-- 'single version'. Only the others go through the window functions, which sort their rows
-- (the bulk of the time on 2 M records).
ranked as (
    select
        records.*,
        ids.uid,
        ids.shared_id_group,
        ids.identity_rule,
        row_number() over version_order as version_rank,
        count(*) over (partition by ids.uid) as versions_seen,
        lead(records.publication_date) over version_order as next_publication_date,
        lead(records.modification_count) over version_order as next_modification_count,
        lead(records.ingest_seq) over version_order as next_ingest_seq
    from records
    join contract_identities as ids using (file_id, position)
    window version_order as (
        partition by ids.uid
        order by records.publication_date desc nulls last, records.modification_count desc,
                 records.ingest_seq desc, records.position desc
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
    end as kept_rule,
    identity_rule
from ranked
union all
select
    base_uid as uid, base_uid, false as shared_id_group, file_id, position, source, ingest_seq,
    publication_date, modification_count, source_rows,
    true as is_kept,
    1::bigint as versions_seen,
    'single version' as kept_rule,
    'one record' as identity_rule
from records anti join contract_identities using (file_id, position);
