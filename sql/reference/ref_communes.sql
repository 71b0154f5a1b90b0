-- ref_communes: the communes of the INSEE Code officiel géographique, with their département
-- and région. Grain: one row per commune code (communes, arrondissements municipaux of Paris,
-- Lyon and Marseille, communes déléguées and associées: these take their parent's département).
-- Source: the downloaded INSEE v_commune file ($path, columns TYPECOM, COM, REG, DEP, LIBELLE,
-- COMPARENT). Left empty when it could not be downloaded (see reference_status): territories
-- then rest on the built-in départements and postal-code exceptions.
create or replace table ref_communes as
with source as (
    select * from read_csv($path, header = true, all_varchar = true)
),

parents as (
    select COM as commune_code, DEP, REG from source where TYPECOM = 'COM'
)

select distinct on (source.COM)
    source.COM as commune_code,
    source.LIBELLE as commune_name,
    source.TYPECOM as commune_type,
    coalesce(source.DEP, parents.DEP) as departement_code,
    coalesce(source.REG, parents.REG) as region_code
from source
left join parents on parents.commune_code = source.COMPARENT
where source.COM is not null
order by source.COM, source.TYPECOM = 'COM' desc;
