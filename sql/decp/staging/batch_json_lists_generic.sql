-- Table macro batch_json_lists(paths, max_object_size): the record lists of a batch of DECP JSON
-- files of any shape, for files the typed reads (batch_json_lists_wrapped.sql,
-- batch_json_lists_array.sql) refuse: a root other than expected, lists that are not arrays.
-- Grain: one row per file. Source: the files of the temp table batch_files.
-- Shapes: 2022 wrapped {"marches": {"marche": [...], "contrat-concession": [...]}} (marchés first,
-- then concessions); the 2.0.0 flat draft and the 2019 format {"marches": [...]}. A "marches"
-- value that is neither an object nor an array gives no record.
create or replace temp macro batch_json_lists(paths, max_object_size) as table
with documents as (
    select
        batch_files.file_id,
        batch_files.position_base,
        doc.marches,
        json_type(doc.marches) as root_type,
        cast(json_extract(doc.marches, '$.marche[*]') as json[]) as marche,
        cast(json_extract(doc.marches, '$."contrat-concession"[*]') as json[]) as concession
    from read_json(
        paths,
        columns = {marches: 'JSON'},
        format = 'auto',
        filename = true,
        maximum_object_size = max_object_size
    ) as doc
    join batch_files on batch_files.path = doc.filename
)
select
    file_id,
    position_base,
    marches is not null as has_root,
    case when root_type = 'OBJECT' then 'wrapped' else 'array' end as shape,
    case when root_type = 'OBJECT' then coalesce(len(marche), 0) end as marches_listed,
    case
        when root_type = 'OBJECT'
            then list_concat(coalesce(marche, []::json[]), coalesce(concession, []::json[]))
        when root_type = 'ARRAY' then cast(json_extract(marches, '$[*]') as json[])
        else []::json[]
    end as records
from documents;
