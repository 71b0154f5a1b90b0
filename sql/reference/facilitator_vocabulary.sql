-- facilitator_vocabulary: the spellings facilitators' exports use for coded values, and the
-- canonical value each stands for. Grain: one row per field x spelling (spelling_key form).
-- Source: pipelines/reference/facilitator_vocabulary.csv (fields: modality, contract_type,
-- market_type, clause_category, buyer_type, public). An export's own mapping file may add
-- spellings ([values.<field>]); those win.
create or replace table facilitator_vocabulary as
select field, spelling_key(spelling) as spelling, value
from read_csv($path, header = true, all_varchar = true);
