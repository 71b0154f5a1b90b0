-- buyer_names: the name to show for each buyer in the lists coordinators read (non-compliant
-- contracts, silent buyers). The DECP 2022 format carries no buyer name: the name published with
-- one of its contracts (2019 format, tabular files) when there is one, else SIRENE's
-- (sirene_cache), else none (pages then show the SIRET).
-- Grain: one row per buyer SIRET of contracts. Source: contracts, sirene_cache.
create or replace table buyer_names as
with published as (
    select buyer_siret, arg_max(buyer_name, notification_date) as published_name
    from contracts
    where buyer_siret is not null
    group by buyer_siret
)
select
    p.buyer_siret,
    coalesce(p.published_name, s.name) as buyer_name,
    case when p.published_name is not null then 'decp'
         when s.name is not null then 'sirene' end as name_source
from published as p
left join sirene_cache as s on s.siret = p.buyer_siret and s.found;
