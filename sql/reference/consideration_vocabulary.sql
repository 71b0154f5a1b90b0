-- consideration_vocabulary: every known spelling of a social or environmental consideration value.
-- Grain: one row per spelling key (see macro spelling_key). Source:
-- pipelines/reference/consideration_vocabulary.csv. kind: clause | critere | reserve (a positive
-- declaration), none (declared "no consideration"), unknown (NC, MQ, CDL, empty: not declared).
create or replace table consideration_vocabulary as
select coalesce(spelling_key, '') as spelling_key, dimension, kind, canonical_value
from read_csv($path, header = true, all_varchar = true);
