-- decp_enum_values: the values the DECP schemas allow for the enumerated fields we keep.
-- Grain: one row per (field, value). Source: pipelines/reference/decp_enum_values.csv, built from
-- the official schemas 1.5.0, 2.0.0 (draft) and 2.0.3 (plus the 2019 natures Accord-cadre and
-- Marché subséquent). Used to report schema drift, never to reject a record.
create or replace table decp_enum_values as
select field, value, spelling_key(value) as spelling_key
from read_csv($path, header = true, all_varchar = true);
