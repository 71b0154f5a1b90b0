-- Buyers the SIREN prefix rule does not place and that SIRENE has not answered for yet: the
-- SIRETs to look up (asset buyer_sirene_lookup).
-- Grain: one row per buyer SIRET. Source: stg_decp_records, ref_departements, sirene_cache.
-- Ordered by number of records, so that the buyers weighing most are located first.
select buyer_siret
from (
    select regexp_replace(buyer_id, '\s', '', 'g') as buyer_siret, count(*) as records
    from stg_decp_records
    group by 1
)
where buyer_siret not in (select siret from sirene_cache)
  and coalesce(siren_departement_code(buyer_siret), '') not in (
      select departement_code from ref_departements)
order by records desc, buyer_siret;
