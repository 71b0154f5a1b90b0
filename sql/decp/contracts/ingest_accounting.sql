-- ingest_accounting: for each parsed file, what became of every record read.
-- Grain: one row per file. Source: ingest_files, contract_versions.
-- records_read = loaded (the kept version of its contract) + duplicates (a version superseded by
-- another publication of the same contract, or a further row of the same contract in a tabular
-- file) + rejected (see ingest_rejects). `balanced` checks it.
create or replace table ingest_accounting as
with versions as (
    select
        file_id,
        count(*) filter (where is_kept) as loaded,
        cast(sum(source_rows) - count(*) filter (where is_kept) as bigint) as duplicates
    from contract_versions
    group by file_id
)
select
    f.file_id,
    f.source,
    f.relative_path,
    f.format,
    f.records_read,
    coalesce(v.loaded, 0) as loaded,
    coalesce(v.duplicates, 0) as duplicates,
    f.records_rejected as rejected,
    f.records_read = coalesce(v.loaded, 0) + coalesce(v.duplicates, 0) + f.records_rejected
        as balanced
from ingest_files as f
left join versions as v using (file_id)
where f.status = 'parsed';
