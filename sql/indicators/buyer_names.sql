-- buyer_names: the name to show for each buyer in the lists coordinators read (non-compliant
-- contracts, silent buyers, late publication). The contract model already names each contract's
-- buyer (contracts.buyer_name: the name published with the contract, else SIRENE's); a buyer
-- takes the name of its latest contract that has one, and says where it comes from.
-- Grain: one row per buyer SIRET of contracts. Source: contracts.
create or replace table buyer_names as
with latest as (
    select
        buyer_siret,
        arg_max({'name': buyer_name, 'source': buyer_name_source}, notification_date)
            filter (where buyer_name is not null) as named
    from contracts
    where buyer_siret is not null
    group by buyer_siret
)
select buyer_siret, named.name as buyer_name, named.source as name_source
from latest;
