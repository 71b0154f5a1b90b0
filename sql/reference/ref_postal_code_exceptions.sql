-- ref_postal_code_exceptions: postal codes whose communes are not (only) in the département their
-- first digits name — cross-border delivery areas (01200 also serves Haute-Savoie), Corsica,
-- overseas collectivities. Grain: one row per postal code, with the list of its départements.
-- Source: pipelines/reference/postal_code_exceptions.csv, derived from the La Poste postal-code
-- table (2023-12) joined to the INSEE COG 2025; every other postal code follows the prefix rule
-- (macro place_departement_code).
create or replace table ref_postal_code_exceptions as
select postal_code, string_split(departement_codes, ' ') as departement_codes
from read_csv($path, header = true, all_varchar = true);
