-- Table macro batch_json_lists(paths, max_object_size): the record lists of a batch of
-- 2022-format DECP JSON files, {"marches": {"marche": [...], "contrat-concession": [...]}}.
-- Grain: one row per file: its records, marchés first, then concessions, and how many are
-- marchés. Source: the files of the temp table batch_files (file_id, path, position_base).
-- The lists are typed (JSON[]): DuckDB splits the records while it parses each file, and
-- batch_decp_json_records.sql reads them in the same pipeline, several files at a time. A file of
-- another shape makes the read fail: the caller then uses batch_json_lists_generic.sql.
create or replace temp macro batch_json_lists(paths, max_object_size) as table
select
    batch_files.file_id,
    batch_files.position_base,
    doc.marches is not null as has_root,
    'wrapped' as shape,
    coalesce(len(doc.marches.marche), 0) as marches_listed,
    list_concat(coalesce(doc.marches.marche, []::json[]),
                coalesce(doc.marches."contrat-concession", []::json[])) as records
from read_json(
    paths,
    columns = {marches: 'STRUCT(marche JSON[], "contrat-concession" JSON[])'},
    format = 'auto',
    filename = true,
    maximum_object_size = max_object_size  -- the batch's largest file: one document each
) as doc
join batch_files on batch_files.path = doc.filename;
