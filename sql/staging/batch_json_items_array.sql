-- Table macro batch_json_items(paths, max_object_size): the records of a batch of DECP JSON files
-- whose root is an array, {"marches": [...]} (2019 format, 2.0.0 flat draft), one row each.
-- Grain: one row per record (a file without a "marches" root: one row, has_root false, no item).
-- Source: the files of the temp table batch_files (file_id, path, position_base).
-- position: the record's 1-based place in its file (plus position_base, see
-- batch_json_items_wrapped.sql). Marché or concession is told from each record's fields.
-- A file of another shape makes the read fail: the caller then uses batch_json_items_generic.sql.
create or replace temp macro batch_json_items(paths, max_object_size) as table
with documents as (
    select batch_files.file_id, batch_files.position_base, doc.marches
    from read_json(
        paths,
        columns = {marches: 'JSON[]'},
        format = 'auto',
        filename = true,
        maximum_object_size = max_object_size
    ) as doc
    join batch_files on batch_files.path = doc.filename
),
items as (
    select file_id, position_base, marches is not null as has_root,
           unnest(coalesce(marches, [null::json])) as item,
           generate_subscripts(coalesce(marches, [null::json]), 1) as list_position
    from documents
)
select
    file_id,
    has_root,
    position_base + list_position as position,
    null::varchar as listed_kind,
    'array' as shape,
    item
from items;
