-- Table macro batch_json_items(paths, max_object_size): the records of a batch of 2022-format
-- DECP JSON files, {"marches": {"marche": [...], "contrat-concession": [...]}}, one row each.
-- Grain: one row per record (a file without a "marches" root: one row, has_root false, no item).
-- Source: the files of the temp table batch_files (file_id, path, position_base).
-- position: the record's 1-based place in its file, marchés first, then concessions (plus
-- position_base, the records before this part when a large file is read in parts).
-- The lists are typed (JSON[]): DuckDB splits the records while it parses each file, and the
-- records flow, file by file and in parallel, into batch_decp_json_records.sql. A file of
-- another shape makes the read fail: the caller then uses batch_json_items_generic.sql.
create or replace temp macro batch_json_items(paths, max_object_size) as table
with documents as (
    select batch_files.file_id, batch_files.position_base, doc.marches
    from read_json(
        paths,
        columns = {marches: 'STRUCT(marche JSON[], "contrat-concession" JSON[])'},
        format = 'auto',
        filename = true,
        maximum_object_size = max_object_size  -- the batch's largest file: one document each
    ) as doc
    join batch_files on batch_files.path = doc.filename
),
lists as (
    select
        file_id,
        position_base,
        marches is not null as has_root,
        coalesce(len(marches.marche), 0) as marches_listed,
        case
            when marches is null then [null::json]
            else list_concat(coalesce(marches.marche, []::json[]),
                             coalesce(marches."contrat-concession", []::json[]))
        end as records
    from documents
),
items as (
    select file_id, position_base, has_root, marches_listed,
           unnest(records) as item, generate_subscripts(records, 1) as list_position
    from lists
)
select
    file_id,
    has_root,
    position_base + list_position as position,
    case when list_position <= marches_listed then 'marche' else 'concession' end as listed_kind,
    'wrapped' as shape,
    item
from items;
