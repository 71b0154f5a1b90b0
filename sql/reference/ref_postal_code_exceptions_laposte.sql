-- ref_postal_code_exceptions from the downloaded La Poste postal-code table: postal codes whose
-- communes are not (only) in the département their first digits name. Grain: one row per postal
-- code, with the list of its départements. Source: the La Poste file ($path: ';'-separated,
-- Code_commune_INSEE and Code_postal) joined to ref_communes (else the commune code's own
-- prefix); the same rule produced the built-in postal_code_exceptions.csv.
create or replace table ref_postal_code_exceptions as
with delivery as (
    select distinct Code_postal as postal_code, Code_commune_INSEE as commune_code
    from read_csv($path, delim = ';', header = true, all_varchar = true)
    where regexp_full_match(Code_postal, '[0-9]{5}')
),

placed as (
    select
        delivery.postal_code,
        coalesce(
            ref_communes.departement_code,
            place_departement_code(delivery.commune_code, 'Code commune')
        ) as departement_code
    from delivery
    left join ref_communes using (commune_code)
),

by_code as (
    select
        postal_code,
        list_sort(list_distinct(list(departement_code))) as departement_codes,
        place_departement_code(postal_code, 'Code postal') as prefix_departement
    from placed
    -- French départements only (Monaco's 98000 delivers a foreign commune code, 99138)
    where departement_code in (select departement_code from ref_departements)
    group by postal_code
)

select postal_code, departement_codes
from by_code
where departement_codes <> [prefix_departement]
order by postal_code;
