-- The record lists of a batch of DECP JSON files whose root is an array, {"marches": [...]}
-- (2019 format, 2.0.0 flat draft), read in one pass (temporary table batch_record_lists).
-- Grain: one row per file. Source: the temp table batch_files (file_id, path, position_base).
-- A file of another shape makes the read fail: the caller then reads the batch with
-- batch_decp_json_lists_generic.sql.
insert into batch_record_lists
    (file_id, position_base, has_root, list_order, listed_kind, shape, records)
select
    batch_files.file_id,
    batch_files.position_base,
    doc.marches is not null as has_root,
    1 as list_order,
    null::varchar as listed_kind,  -- marché or concession is told from each record's fields
    'array' as shape,
    doc.marches as records
from read_json(
    $paths,
    columns = {marches: 'JSON[]'},
    format = 'auto',
    filename = true,
    maximum_object_size = $max_object_size
) as doc
join batch_files on batch_files.path = doc.filename;
