-- schema_drift: what the files contain that the DECP schemas do not define, with counts.
-- Grain: one row per (kind, field, value as written).
--   unknown_key      a top-level record key outside every DECP schema (ingest_unknown_keys);
--   unknown_value    an enumerated field whose value matches no allowed value, even ignoring
--                    case, accents and apostrophes: nature, procedure, place_type_code
--                    (lieuExecution.typeCode), technique, execution_modality (counted over
--                    every staged record, each republication included: a tabular contract
--                    spread over several rows counts once, a rejected record not), holder_id_type
--                    (titulaires' typeIdentifiant) and price_variation (acts of
--                    subcontracting), counted over the kept versions;
--   variant_spelling a value that matches an allowed one only once normalised ('CODE POSTAL');
--   unrecognised_consideration  a social/environmental value outside the vocabulary (counted as
--                    unknown in the shares), over the kept versions.
-- Source: ingest_unknown_keys, stg_decp_records, contracts, contract_holders,
-- contract_subcontracting, decp_enum_values. Reported, never rejected.
create or replace table schema_drift as
with record_values as (
    -- the staged records' values, counted per distinct combination first (few of them)
    select nature, procedure, place_type_code, techniques_raw, execution_modalities_raw,
           count(*) as records
    from stg_decp_records
    group by all
),
enum_fields as (
    select 'nature' as field, nature as value, sum(records) as records
    from record_values group by all
    union all
    select 'procedure', procedure, sum(records) from record_values group by all
    union all
    select 'place_type_code', place_type_code, sum(records) from record_values group by all
    union all
    select 'technique', value, sum(records)
    from (select unnest(techniques_raw) as value, records from record_values)
    group by all
    union all
    select 'execution_modality', value, sum(records)
    from (select unnest(execution_modalities_raw) as value, records from record_values)
    group by all
    union all
    select 'holder_id_type', holder_id_type, count(*) from contract_holders group by all
    union all
    select 'price_variation', price_variation, count(*) from contract_subcontracting group by all
),
enum_drift as (
    select
        case when exists (
                select 1 from decp_enum_values e
                where e.field = enum_fields.field and e.spelling_key = spelling_key(enum_fields.value))
             then 'variant_spelling' else 'unknown_value' end as kind,
        field,
        value,
        sum(records)::bigint as occurrences
    from enum_fields
    where nullif(trim(value), '') is not null  -- an empty value is missing, not drift
      and not exists (
          select 1 from decp_enum_values e
          where e.field = enum_fields.field and e.value = enum_fields.value)
    group by field, value
),
consideration_drift as (
    select 'unrecognised_consideration' as kind, 'considerationsSociales' as field, value,
           count(*) as occurrences
    from (select unnest(social_unrecognised_values) as value from contracts)
    group by value
    union all
    select 'unrecognised_consideration', 'considerationsEnvironnementales', value, count(*)
    from (select unnest(environmental_unrecognised_values) as value from contracts)
    group by value
),
key_drift as (
    select 'unknown_key' as kind, 'record' as field, record_key as value,
           sum(records)::bigint as occurrences
    from ingest_unknown_keys
    where file_id in (select file_id from ingest_files where status = 'parsed')
    group by record_key
)
select kind, field, value, occurrences from enum_drift
union all
select kind, field, value, occurrences from consideration_drift
union all
select kind, field, value, occurrences from key_drift
order by kind, field, occurrences desc, value;
