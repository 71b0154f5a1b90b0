-- The record lists of a batch of 2022-format DECP JSON files, read in one pass (temporary table
-- batch_record_lists). Grain: one row per file and list (marchés, then concessions).
-- Source: the files in the temp table batch_files (file_id, path, position_base), all with a
-- wrapped root {"marches": {"marche": [...], "contrat-concession": [...]}}.
-- The lists are typed (JSON[]), so DuckDB splits the records while it parses the file, instead of
-- writing the whole "marches" value out and parsing it again. A file of another shape makes the
-- read fail: the caller then reads the batch with batch_decp_json_lists_generic.sql.
insert into batch_record_lists
    (file_id, position_base, has_root, list_order, listed_kind, shape, records)
with documents as (
    select batch_files.file_id, batch_files.position_base, doc.marches
    from read_json(
        $paths,
        columns = {marches: 'STRUCT(marche JSON[], "contrat-concession" JSON[])'},
        format = 'auto',
        filename = true,
        maximum_object_size = $max_object_size  -- the largest file of the batch: one document each
    ) as doc
    join batch_files on batch_files.path = doc.filename
)
select file_id, position_base, marches is not null as has_root, 1 as list_order,
       'marche' as listed_kind, 'wrapped' as shape, marches.marche as records
from documents
union all
select file_id, position_base, marches is not null, 2, 'concession', 'wrapped',
       marches."contrat-concession"
from documents;
