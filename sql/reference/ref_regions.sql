-- ref_regions: the built-in table of the 18 régions (13 metropolitan, 5 overseas) and the COM.
-- Grain: one row per région code. Source: pipelines/reference/regions.csv (INSEE COG 2025).
create or replace table ref_regions as
select region_code, region_name, kind
from read_csv($path, header = true, all_varchar = true);
