-- Table macro batch_json_lists(paths, max_object_size): the record lists of a batch of DECP JSON
-- files whose root is an array, {"marches": [...]} (2019 format, 2.0.0 flat draft).
-- Grain: one row per file. Source: the files of the temp table batch_files (file_id, path,
-- position_base). Marché or concession is told from each record's fields (marches_listed NULL).
-- A file of another shape makes the read fail: the caller then uses batch_json_lists_generic.sql.
create or replace temp macro batch_json_lists(paths, max_object_size) as table
select
    batch_files.file_id,
    batch_files.position_base,
    doc.marches is not null as has_root,
    'array' as shape,
    null::bigint as marches_listed,
    coalesce(doc.marches, []::json[]) as records
from read_json(
    paths,
    columns = {marches: 'JSON[]'},
    format = 'auto',
    filename = true,
    maximum_object_size = max_object_size
) as doc
join batch_files on batch_files.path = doc.filename;
