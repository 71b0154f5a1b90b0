-- Buyers SIRENE has not answered for yet and that need it: those the SIREN prefix rule does not
-- place (their territory), and those no file names (their name, shown in every list of buyers):
-- the SIRETs to look up (asset buyer_sirene_lookup).
-- Grain: one row per buyer SIRET. Source: stg_decp_records, ref_departements, sirene_cache.
-- Ordered so that a capped run serves territories first, then the buyers weighing most.
with buyers as (
    select
        regexp_replace(buyer_id, '\s', '', 'g') as buyer_siret,
        count(*) as records,
        count(nullif(trim(buyer_name), '')) > 0 as named
    from stg_decp_records
    group by 1
),
needs as (
    select
        buyer_siret,
        records,
        coalesce(siren_departement_code(buyer_siret), '') not in (
            select departement_code from ref_departements) as unplaced,
        named
    from buyers
    where buyer_siret not in (select siret from sirene_cache)
)
select buyer_siret
from needs
where unplaced or not named
order by unplaced desc, records desc, buyer_siret;
