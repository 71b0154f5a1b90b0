-- enum_lists (temporary table): each distinct list of techniques or execution modalities, as
-- written in the files, with its values in the schema's spelling.
-- Grain: one row per (field, distinct list). field: 'technique' (techniques.technique:
-- Accord-cadre, Concours, ...) or 'execution_modality' (modalitesExecution.modaliteExecution:
-- Tranches, Bons de commande, Marchés subséquents, Sans objet).
-- Source: stg_decp_records (every staged record), decp_enum_values. Read by contracts.sql.
-- A value matching an allowed one once normalised ('ACCORD-CADRE', 'Systeme d’acquisition
-- dynamique') takes the current schema's spelling (the 2.0.0 draft's 'Marché subséquent' is
-- 'Marchés subséquents'); any other is kept trimmed, as written (schema_drift reports it);
-- empty values are left out; each value once, in published order. A table of its own, as
-- consideration_declarations: a few hundred distinct lists for millions of contracts.
create or replace temp table enum_lists as
with lists as (
    select distinct 'technique' as field, techniques_raw as raw_list from stg_decp_records
    where techniques_raw is not null
    union all
    select distinct 'execution_modality', execution_modalities_raw from stg_decp_records
    where execution_modalities_raw is not null
),
raw_values as (
    select distinct field, raw_value
    from (select field, unnest(raw_list) as raw_value from lists)
    where nullif(trim(raw_value), '') is not null
),
spellings as (
    -- per field, a map from each value as written to its spelling
    select
        raw_values.field,
        map(list(raw_values.raw_value),
            list(coalesce(allowed.value, trim(raw_values.raw_value)))) as spelling
    from raw_values
    left join (
        -- one spelling per key: the current schema's
        select field, spelling_key, min(current_value) as value
        from decp_enum_values
        group by field, spelling_key
    ) as allowed
        on allowed.field = raw_values.field
        and allowed.spelling_key = spelling_key(raw_values.raw_value)
    group by raw_values.field
),
spelled as (
    select
        lists.field,
        lists.raw_list,
        list_filter(
            list_transform(lists.raw_list, v -> map_extract_value(spellings.spelling, v)),
            v -> v is not null) as spelled_values
    from lists
    left join spellings using (field)
)
select
    field,
    raw_list,
    list_each_once(spelled_values) as canonical_values
from spelled;
