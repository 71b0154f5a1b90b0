-- ref_departements: the built-in table of départements (101) and overseas collectivities (COM).
-- Grain: one row per département code. Source: pipelines/reference/departements.csv (INSEE COG 2025).
create or replace table ref_departements as
select departement_code, departement_name, region_code, kind
from read_csv($path, header = true, all_varchar = true);
