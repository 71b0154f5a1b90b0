-- decp_enum_values: the values the DECP schemas allow for the enumerated fields we keep.
-- Grain: one row per (field, value). Source: pipelines/reference/decp_enum_values.csv, built from
-- the official schemas 1.5.0, 2.0.0 (draft) and 2.0.3 (plus the 2019 natures Accord-cadre and
-- Marché subséquent). current_value: the 2.0.3 spelling of a value only an earlier schema
-- allows (the draft's 'Marché à tranches' is 'Tranches'); the value itself otherwise.
-- Used to report schema drift and to spell list values (enum_lists.sql), never to reject a
-- record.
create or replace table decp_enum_values as
select
    field,
    value,
    spelling_key(value) as spelling_key,
    coalesce(nullif(trim(current_value), ''), value) as current_value
from read_csv($path, header = true, all_varchar = true);
