-- Table macro batch_json_items(paths, max_object_size): the records of a batch of DECP JSON files
-- of any shape, for files the typed reads (batch_json_items_wrapped.sql, batch_json_items_array.sql)
-- refuse: a root other than expected, lists that are not arrays. One row per record.
-- Grain: one row per record (a file without a "marches" root: one row, has_root false, no item).
-- Source: the files of the temp table batch_files (file_id, path, position_base).
-- Shapes: 2022 wrapped {"marches": {"marche": [...], "contrat-concession": [...]}} (marchés first,
-- then concessions); the 2.0.0 flat draft and the 2019 format {"marches": [...]}. A "marches"
-- value that is neither an object nor an array gives no record.
create or replace temp macro batch_json_items(paths, max_object_size) as table
with documents as (
    select batch_files.file_id, batch_files.position_base, doc.marches,
           json_type(doc.marches) as root_type
    from read_json(
        paths,
        columns = {marches: 'JSON'},
        format = 'auto',
        filename = true,
        maximum_object_size = max_object_size
    ) as doc
    join batch_files on batch_files.path = doc.filename
),
lists as (
    select
        file_id,
        position_base,
        marches is not null as has_root,
        case when root_type = 'OBJECT' then 'wrapped' else 'array' end as shape,
        case
            when root_type = 'OBJECT'
                then coalesce(len(cast(json_extract(marches, '$.marche[*]') as json[])), 0)
        end as marches_listed,
        case
            when marches is null then [null::json]
            when root_type = 'OBJECT' then list_concat(
                coalesce(cast(json_extract(marches, '$.marche[*]') as json[]), []::json[]),
                coalesce(cast(json_extract(marches, '$."contrat-concession"[*]') as json[]),
                         []::json[]))
            when root_type = 'ARRAY' then cast(json_extract(marches, '$[*]') as json[])
            else []::json[]
        end as records
    from documents
),
items as (
    select file_id, position_base, has_root, shape, marches_listed,
           unnest(records) as item, generate_subscripts(records, 1) as list_position
    from lists
)
select
    file_id,
    has_root,
    position_base + list_position as position,
    case
        when shape = 'array' then null
        when list_position <= marches_listed then 'marche'
        else 'concession'
    end as listed_kind,
    shape,
    item
from items;
