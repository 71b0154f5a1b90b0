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
)
select
    file_id,
    position,
    case
        when listed_kind is not null then listed_kind
        when (record ->> '_type') ilike '%concession%' or (record -> 'autoriteConcedante') is not null
            then 'concession'
        else 'marche'
    end as record_kind,
    case
        -- parentheses matter: -> binds more loosely than IS NOT NULL
        when (record -> 'considerationsSociales') is null
            and (record -> 'considerationsEnvironnementales') is null
            and (record -> 'typesPrix') is null and (record -> 'typePrix') is null
            and (record -> 'modalitesExecution') is null and (record -> 'modaliteExecution') is null
            then 'decp-2019'  -- none of the fields the 2022 format introduced
        when shape = 'wrapped' then 'decp-2022'
        else 'decp-2022-flat'
    end as format_version,
    json_type(record) as record_json_type,
    nullif(trim(record ->> 'id'), '') as contract_id,
    nullif(trim(coalesce(record -> 'acheteur' ->> 'id', record -> 'autoriteConcedante' ->> 'id')), '')
        as buyer_id,
    coalesce(record -> 'acheteur' ->> 'nom', record -> 'autoriteConcedante' ->> 'nom') as buyer_name,
    record ->> 'nature' as nature,
    record ->> 'objet' as objet,
    record ->> 'codeCPV' as cpv_code,
    record ->> 'procedure' as procedure,
    record ->> 'dureeMois' as duration_months_text,
    coalesce(record ->> 'dateNotification', record ->> 'dateSignature') as notification_date_text,
    record ->> 'datePublicationDonnees' as publication_date_text,
    coalesce(record ->> 'montant', record ->> 'valeurGlobale') as amount_text,
    record -> 'lieuExecution' ->> 'code' as place_code,
    record -> 'lieuExecution' ->> 'typeCode' as place_type_code,
    nullif(trim(record ->> 'idAccordCadre'), '') as framework_id,
    decp_list(record -> 'considerationsSociales', 'considerationSociale') as social_raw,
    decp_list(record -> 'considerationsEnvironnementales', 'considerationEnvironnementale')
        as environmental_raw,
    coalesce(record -> 'titulaires', record -> 'concessionnaires') as holders,
    record -> 'modifications' as modifications,
    1 as source_rows,
    json_keys(record) as record_keys,
    left(cast(record as varchar), 300) as raw_excerpt
from numbered;
