-- territory_code(region_grouped, departement_grouped, region_code, departement_code): the
-- territory of a row of the same grouping sets as territory_level: 'FR' for the national row,
-- else the région or département code (NULL for contracts that could not be placed).
create or replace macro territory_code(region_grouped, departement_grouped, region_code,
                                       departement_code) as (
    case
        when departement_grouped = 0 then departement_code
        when region_grouped = 0 then region_code
        else 'FR'
    end
);
