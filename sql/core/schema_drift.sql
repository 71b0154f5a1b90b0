-- schema_drift: what the files contain that the DECP schemas do not define, with counts.
-- Grain: one row per (kind, field, value as written).
--   unknown_key      a top-level record key outside every DECP schema (ingest_unknown_keys);
--   unknown_value    an enumerated field (nature, procedure, lieuExecution.typeCode) whose value
--                    matches no allowed value, even ignoring case, accents and apostrophes;
--   variant_spelling a value that matches an allowed one only once normalised ('CODE POSTAL');
--   unrecognised_consideration  a social/environmental value outside the vocabulary (counted as
--                    unknown in the shares).
-- Source: ingest_unknown_keys, contracts (kept versions), decp_enum_values. Reported, never rejected.
create or replace table schema_drift as
with enum_fields as (
    select 'nature' as field, nature as value from contracts
    union all
    select 'procedure', procedure from contracts
    union all
    select 'place_type_code', place_type_code from contracts
),
enum_drift as (
    select
        case when exists (
                select 1 from decp_enum_values e
                where e.field = enum_fields.field and e.spelling_key = spelling_key(enum_fields.value))
             then 'variant_spelling' else 'unknown_value' end as kind,
        field,
        value,
        count(*) as occurrences
    from enum_fields
    where value is not null
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
