-- The root "marches" value of each DECP JSON file of the batch (temporary table batch_documents).
-- Grain: one row per file. Source: the files in the temp table batch_files (file_id, path).
-- A file without a "marches" root gets a NULL value and is quarantined by the caller.
create or replace temp table batch_documents as
select batch_files.file_id, doc.marches
from read_json(
    $paths,
    columns = {marches: 'JSON'},
    format = 'auto',
    filename = true,
    maximum_object_size = $max_object_size  -- the largest file of the batch: one document each
) as doc
join batch_files on batch_files.path = doc.filename;
