-- The record lists of a batch of DECP JSON files of any shape (temporary table
-- batch_record_lists), for files the typed reads (batch_decp_json_lists_wrapped.sql,
-- batch_decp_json_lists_array.sql) refuse: a root other than expected, lists that are not arrays.
-- Grain: one row per file (document) and list. Source: the temp table batch_files.
-- Shapes: 2022 wrapped {"marches": {"marche": [...], "contrat-concession": [...]}}; the 2.0.0 flat
-- draft and the 2019 format {"marches": [...]}. A "marches" value that is neither an object nor an
-- array gives no record; a file without a "marches" root has has_root = false (quarantined).
insert into batch_record_lists
    (file_id, position_base, has_root, list_order, listed_kind, shape, records)
with documents as (
    select batch_files.file_id, batch_files.position_base, doc.marches
    from read_json(
        $paths,
        columns = {marches: 'JSON'},
        format = 'auto',
        filename = true,
        maximum_object_size = $max_object_size
    ) as doc
    join batch_files on batch_files.path = doc.filename
),
typed as (
    select *, json_type(marches) as root_type from documents
)
select file_id, position_base, true as has_root, 1 as list_order, 'marche' as listed_kind,
       'wrapped' as shape, cast(json_extract(marches, '$.marche[*]') as json[]) as records
from typed where root_type = 'OBJECT'
union all
select file_id, position_base, true, 2, 'concession', 'wrapped',
       cast(json_extract(marches, '$."contrat-concession"[*]') as json[])
from typed where root_type = 'OBJECT'
union all
select file_id, position_base, true, 1, null, 'array', cast(json_extract(marches, '$[*]') as json[])
from typed where root_type = 'ARRAY'
union all
select file_id, position_base, marches is not null, 1, null, 'other', null::json[]
from typed where root_type is null or root_type not in ('OBJECT', 'ARRAY');
