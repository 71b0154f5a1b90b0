-- decp_record_keys: every field name the DECP schemas define (1.5.0, 2.0.0 draft, 2.0.3) plus the
-- platform extras _type and uid, and source (the feed name the 2019-format consolidations add,
-- read as the publisher). Grain: one row per name. Source:
-- pipelines/reference/decp_record_keys.csv. A record key outside this list is schema drift.
create or replace table decp_record_keys as
select record_key from read_csv($path, header = true, all_varchar = true);
