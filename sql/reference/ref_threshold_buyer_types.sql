-- ref_threshold_buyer_types: which EU-threshold buyer types a buyer category may be (the DECP do
-- not say whether a buyer acted as an entité adjudicatrice): a contract whose amount lies between
-- the thresholds of its possible types is left undetermined, never guessed.
-- Grain: one row per buyer_category x buyer_type. Source:
-- pipelines/reference/threshold_buyer_types.csv.
create or replace table ref_threshold_buyer_types as
select buyer_category, buyer_type, nullif(note, '') as note
from read_csv($path, header = true, all_varchar = true);
