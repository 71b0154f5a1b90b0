-- ref_communes when the INSEE commune file could not be downloaded: the same columns, no row
-- (reference_status says so).
create or replace table ref_communes (
    commune_code varchar,
    commune_name varchar,
    commune_type varchar,
    departement_code varchar,
    region_code varchar
);
