-- territory_level(region_grouped, departement_grouped): the level of a row of a query grouped by
-- grouping sets ((...), (..., buyer_region_code), (..., buyer_departement_code)), from the two
-- grouping() flags: national, region or departement. Shared by every indicator by territory.
create or replace macro territory_level(region_grouped, departement_grouped) as (
    case
        when region_grouped = 1 and departement_grouped = 1 then 'national'
        when departement_grouped = 1 then 'region'
        else 'departement'
    end
);
