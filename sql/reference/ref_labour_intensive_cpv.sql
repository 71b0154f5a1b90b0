-- ref_labour_intensive_cpv: CPV code prefixes of labour-intensive purchases where a social clause
-- is usual (works, cleaning, green spaces, waste, catering), used by the opportunities list.
-- Grain: one row per CPV prefix. Source: pipelines/reference/labour_intensive_cpv.csv.
create or replace table ref_labour_intensive_cpv as
select cpv_prefix, sector from read_csv($path, header = true, all_varchar = true);
