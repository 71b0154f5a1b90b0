-- ref_oecp_series: the official national series of the Observatoire économique de la commande
-- publique (OECP), 2019-2023: share of marchés of at least 90 000 EUR HT carrying a social or an
-- environmental consideration, by number (statistically adjusted; 2019 also by amount).
-- Grain: one row per year. Source: pipelines/reference/oecp_national_series.csv (domain guide §2).
-- Not comparable with the DECP-based figures from 2024: always shown as a separate series.
create or replace table ref_oecp_series as
select
    cast(year as integer) as year,
    cast(social_share as double) as social_share,
    cast(environmental_share as double) as environmental_share,
    cast(social_share_by_amount as double) as social_share_by_amount,
    cast(environmental_share_by_amount as double) as environmental_share_by_amount,
    note
from read_csv($path, header = true, all_varchar = true);
