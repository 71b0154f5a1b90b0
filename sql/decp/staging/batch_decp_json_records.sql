-- Every record of a batch of DECP JSON files, fields as text, added to the temporary table
-- batch_records (staging/create_batch_records.sql). Grain: one row per record per file.
-- Source: the table macro batch_json_lists (one of the batch_json_lists_*.sql files) over the
-- files $paths: the records are parsed as each file is read, several files at a time.
-- Shapes: 2022 wrapped {"marches": {"marche": [...], "contrat-concession": [...]}}; the 2.0.0 flat
-- draft and the 2019 format {"marches": [...]}, told apart by their fields. In every shape, a
-- dotted key ("acheteur.id") reads as the nested field it names (json_unflatten).
-- position: the record's 1-based place in its file, marchés first, then concessions (plus
-- position_base, the records before this part when a large file is read in parts).
-- A file without a "marches" root gives one row with has_root false (the caller sets it aside).
insert into batch_records by name
with items as (
    select
        file_id, position_base, has_root, shape, marches_listed,
        unnest(records) as item, generate_subscripts(records, 1) as list_position
    from (
        select * replace (case when has_root then records else [null::json] end as records)
        from batch_json_lists($paths, $max_object_size)
    )
),
numbered as (
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
        coalesce(item, 'null') as record  -- a null item of the list stays a (rejected) record
    from items
),
unflattened as (
    -- A flattened record ("acheteur.id": "..." as one key, as the consolidated 2019 files have
    -- it; "lieuExecution.code", "considerationsSociales.considerationSociale"...) reads like its
    -- nested form (json_unflatten), its keys too. Most records have no dotted key: their keys
    -- are read once, here.
    select
        * exclude (record, original_keys, dotted),
        case when dotted then json_unflatten(record) else record end as record,
        case when dotted then json_keys(json_unflatten(record)) else original_keys end
            as record_keys
    from (
        -- (one string search per record: a lambda over every key cost twice as much at 1 M)
        select *, contains(array_to_string(original_keys, ' '), '.') as dotted
        from (select *, json_keys(record) as original_keys from numbered)
    )
),
parsed as (
    -- Each record is parsed once for all its text fields and once for its nested parts: one path
    -- list per call instead of one call per field (the difference is several-fold at 1 M).
    select
        file_id, has_root, position, listed_kind, shape, record, record_keys,
        -- items are written minified by DuckDB: an object is the text starting with '{'
        case when starts_with(record, '{') then 'OBJECT' else json_type(record) end
            as record_json_type,
        json_extract_string(record, [
            '$.id', '$.acheteur.id', '$.autoriteConcedante.id', '$.acheteur.nom',
            '$.autoriteConcedante.nom', '$.nature', '$.objet', '$.codeCPV', '$.procedure',
            '$.dureeMois', '$.dateNotification', '$.dateSignature', '$.datePublicationDonnees',
            '$.montant', '$.valeurGlobale', '$.lieuExecution.code', '$.lieuExecution.typeCode',
            '$.idAccordCadre', '$._type', '$.source'
        ]) as text_fields,
        json_extract(record, [
            '$.considerationsSociales', '$.considerationsEnvironnementales', '$.titulaires',
            '$.concessionnaires', '$.modifications', '$.actesSousTraitance', '$.techniques',
            '$.modalitesExecution', '$.technique', '$.modaliteExecution'
        ]) as json_fields
    from unflattened
),
fields as (
    select
        *,
        nullif(trim(text_fields[1]), '') as contract_id,
        nullif(trim(coalesce(text_fields[2], text_fields[3])), '') as buyer_id
    from parsed
)
select
    file_id,
    has_root,
    position,
    case
        when listed_kind is not null then listed_kind
        when text_fields[19] ilike '%concession%'
            or coalesce(list_contains(record_keys, 'autoriteConcedante'), false) then 'concession'
        else 'marche'
    end as record_kind,
    case
        -- (a field present only: its key is among the record's keys, whatever its value)
        when json_fields[1] is null and json_fields[2] is null
            and not coalesce(list_has_any(record_keys,
                ['typesPrix', 'typePrix', 'modalitesExecution', 'modaliteExecution']), false)
            then 'decp-2019'  -- none of the fields the 2022 format introduced
        when shape = 'wrapped' then 'decp-2022'
        else 'decp-2022-flat'
    end as format_version,
    record_json_type,
    contract_id,
    buyer_id,
    coalesce(text_fields[4], text_fields[5]) as buyer_name,
    text_fields[6] as nature,
    text_fields[7] as objet,
    text_fields[8] as cpv_code,
    text_fields[9] as procedure,
    text_fields[10] as duration_months_text,
    coalesce(text_fields[11], text_fields[12]) as notification_date_text,
    text_fields[13] as publication_date_text,
    coalesce(text_fields[14], text_fields[15]) as amount_text,
    text_fields[16] as place_code,
    text_fields[17] as place_type_code,
    nullif(trim(text_fields[18]), '') as framework_id,
    decp_list(json_fields[1], 'considerationSociale') as social_raw,
    decp_list(json_fields[2], 'considerationEnvironnementale') as environmental_raw,
    -- the 2.0.0 flat draft names them in the singular: "technique": [...]
    decp_list(coalesce(json_fields[7], json_fields[9]), 'technique') as techniques_raw,
    decp_list(coalesce(json_fields[8], json_fields[10]), 'modaliteExecution')
        as execution_modalities_raw,
    -- the 2019-format consolidations name the feed a record came from (data.gouv.fr_aife...)
    nullif(trim(text_fields[20]), '') as publisher,
    coalesce(json_fields[3], json_fields[4]) as holders,
    coalesce(
        json_fields[3] -> 0 -> 'titulaire' ->> 'id', json_fields[3] -> 0 ->> 'id',
        json_fields[4] -> 0 -> 'concessionnaire' ->> 'id', json_fields[4] -> 0 ->> 'id',
        -- an item flattened in turn: [{"titulaire.id": "..."}]
        json_fields[3] -> 0 ->> 'titulaire.id', json_fields[4] -> 0 ->> 'concessionnaire.id'
    ) as first_holder_id,
    json_fields[5] as modifications,
    json_fields[6] as subcontracting,
    1 as source_rows,
    record_keys,
    -- only a rejected record needs its excerpt (insert_ingest_rejects.sql)
    case when record_json_type <> 'OBJECT' or contract_id is null or buyer_id is null
         then left(cast(record as varchar), 300) end as raw_excerpt
from fields;
