-- Every record of a batch of DECP JSON files, fields as text (temporary table batch_records).
-- Grain: one row per record per file. Source: batch_documents (batch_decp_json_documents.sql).
-- Shapes: 2022 wrapped {"marches": {"marche": [...], "contrat-concession": [...]}}; the 2.0.0 flat
-- draft and the 2019 format {"marches": [...]}, told apart by their fields.
create or replace temp table batch_records as
with documents as (
    select file_id, marches from batch_documents where marches is not null
),
record_lists as (
    select file_id, 1 as list_order, 'marche' as listed_kind, 'wrapped' as shape,
           cast(json_extract(marches, '$.marche[*]') as json[]) as records
    from documents where json_type(marches) = 'OBJECT'
    union all
    select file_id, 2, 'concession', 'wrapped',
           cast(json_extract(marches, '$."contrat-concession"[*]') as json[])
    from documents where json_type(marches) = 'OBJECT'
    union all
    select file_id, 1, null, 'array', cast(json_extract(marches, '$[*]') as json[])
    from documents where json_type(marches) = 'ARRAY'
),
records as (
    select file_id, list_order, listed_kind, shape,
           unnest(records) as record, generate_subscripts(records, 1) as list_position
    from record_lists
),
numbered as (
    select *, row_number() over (partition by file_id order by list_order, list_position) as position
    from records
),
parsed as (
    -- Each record is parsed once for all its text fields and once for its nested parts: one
    -- path list per call instead of one call per field (the difference is several-fold at 1 M).
    select
        file_id, position, listed_kind, shape, record,
        json_type(record) as record_json_type,
        json_extract_string(record, [
            '$.id', '$.acheteur.id', '$.autoriteConcedante.id', '$.acheteur.nom',
            '$.autoriteConcedante.nom', '$.nature', '$.objet', '$.codeCPV', '$.procedure',
            '$.dureeMois', '$.dateNotification', '$.dateSignature', '$.datePublicationDonnees',
            '$.montant', '$.valeurGlobale', '$.lieuExecution.code', '$.lieuExecution.typeCode',
            '$.idAccordCadre', '$._type'
        ]) as text_fields,
        json_extract(record, [
            '$.considerationsSociales', '$.considerationsEnvironnementales', '$.titulaires',
            '$.concessionnaires', '$.modifications', '$.autoriteConcedante', '$.typesPrix',
            '$.typePrix', '$.modalitesExecution', '$.modaliteExecution'
        ]) as json_fields
    from numbered
)
select
    file_id,
    position,
    case
        when listed_kind is not null then listed_kind
        when text_fields[19] ilike '%concession%' or json_fields[6] is not null then 'concession'
        else 'marche'
    end as record_kind,
    case
        when json_fields[1] is null and json_fields[2] is null and json_fields[7] is null
            and json_fields[8] is null and json_fields[9] is null and json_fields[10] is null
            then 'decp-2019'  -- none of the fields the 2022 format introduced
        when shape = 'wrapped' then 'decp-2022'
        else 'decp-2022-flat'
    end as format_version,
    record_json_type,
    nullif(trim(text_fields[1]), '') as contract_id,
    nullif(trim(coalesce(text_fields[2], text_fields[3])), '') as buyer_id,
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
    coalesce(json_fields[3], json_fields[4]) as holders,
    coalesce(
        json_fields[3] -> 0 -> 'titulaire' ->> 'id', json_fields[3] -> 0 ->> 'id',
        json_fields[4] -> 0 -> 'concessionnaire' ->> 'id', json_fields[4] -> 0 ->> 'id'
    ) as first_holder_id,
    json_fields[5] as modifications,
    1 as source_rows,
    json_keys(record) as record_keys,
    left(cast(record as varchar), 300) as raw_excerpt
from parsed;
