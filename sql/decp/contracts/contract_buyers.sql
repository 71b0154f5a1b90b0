-- contract_buyers (temporary table): each buyer id as written in the files, with its SIRET
-- (spaces removed), whether the SIRET is valid, the département its SIREN gives, what SIRENE
-- says of it (département, legal category, name) and its category.
-- Grain: one row per distinct buyer id. Source: stg_decp_records (every staged record, kept or
-- not), sirene_cache. Read by contracts.sql; buyer_category: from the SIRENE legal category when
-- known, else from the SIREN prefix.
-- A table of its own rather than a CTE of contracts.sql: with its real (small) size known, DuckDB
-- joins the 2 M contracts to it instead of building a hash table of the contracts.
create or replace temp table contract_buyers as
select
    b.buyer_id,
    b.buyer_siret,
    siret_is_valid(b.buyer_siret) as buyer_siret_valid,
    siren_departement_code(b.buyer_siret) as siren_departement_candidate,
    s.departement_code as sirene_departement_candidate,
    s.legal_category as buyer_legal_category,
    nullif(trim(s.name), '') as sirene_buyer_name,
    coalesce(legal_category_buyer_category(s.legal_category),
             buyer_category(b.buyer_siret)) as buyer_category
from (
    select buyer_id, regexp_replace(buyer_id, '\s', '', 'g') as buyer_siret
    from (select distinct buyer_id from stg_decp_records)
) as b
left join sirene_cache as s on s.siret = b.buyer_siret and s.found;
