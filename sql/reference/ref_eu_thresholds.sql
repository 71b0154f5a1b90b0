-- ref_eu_thresholds: the EU procurement thresholds (EUR HT) by period, buyer type and contract
-- type, with the delegated regulation that sets each (the social obligation applies from them).
-- Grain: one row per period x buyer_type x contract_type. Source:
-- pipelines/reference/eu_thresholds.csv. buyer_type: autorite_publique_centrale (the State),
-- autre_pouvoir_adjudicateur (local bodies...), entite_adjudicatrice (network operators), any;
-- contract_type: fournitures_services | travaux | concession.
create or replace table ref_eu_thresholds as
select
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    buyer_type,
    contract_type,
    cast(amount_eur as double) as amount_eur,
    legal_source
from read_csv($path, header = true, all_varchar = true);
