-- consideration_declarations (temporary table): what each distinct list of social or
-- environmental consideration values, as written in the files, declares: its values in their
-- canonical spelling, the values outside the vocabulary, whether one is positive (clause,
-- critère, réservé) or "none", and the positive kinds.
-- Grain: one row per (dimension, distinct list). Source: stg_decp_records (every staged record,
-- kept or not), consideration_vocabulary. Read by contracts.sql.
-- A table of its own rather than a CTE of contracts.sql: with its real (small) size known, DuckDB
-- joins the 2 M contracts to it instead of building a hash table of the contracts.
create or replace temp table consideration_declarations as
with lists as (
    select distinct 'social' as dimension, social_raw as raw_list from stg_decp_records
    union all
    select distinct 'environmental', environmental_raw from stg_decp_records
),
raw_values as (
    select raw_value, spelling_key(raw_value) as key
    from (select distinct unnest(raw_list) as raw_value from lists)
    where raw_value is not null
),
known_values as (
    select raw_values.raw_value, v.dimension, v.kind, v.canonical_value
    from raw_values
    join consideration_vocabulary as v on v.spelling_key = raw_values.key
),
vocabulary as (
    -- per dimension, maps keyed by the values as written in the files (no normalisation per row);
    -- 'any' values count in both dimensions
    select dimension, map(list(raw_value), list(kind)) as kinds,
           map(list(raw_value), list(canonical_value)) as canonical_values
    from (
        select 'social' as dimension, raw_value, kind, canonical_value
        from known_values where dimension in ('social', 'any')
        union all
        select 'environmental', raw_value, kind, canonical_value
        from known_values where dimension in ('environmental', 'any')
    )
    group by dimension
),
kind_lists as (
    select
        lists.dimension,
        lists.raw_list,
        list_transform(lists.raw_list,
            v -> coalesce(map_extract_value(vocabulary.kinds, v), 'unrecognised')) as kind_list,
        list_distinct(list_filter(list_transform(lists.raw_list,
            v -> map_extract_value(vocabulary.canonical_values, v)),
            v -> v is not null)) as canonical_values,
        list_filter(lists.raw_list, v -> map_extract_value(vocabulary.kinds, v) is null)
            as unrecognised_values
    from lists
    left join vocabulary using (dimension)
)
select
    dimension,
    raw_list,
    canonical_values,
    unrecognised_values,
    list_has_any(kind_list, ['clause', 'critere', 'reserve']) as positive,
    list_contains(kind_list, 'none') as none_declared,
    coalesce(list_sort(list_distinct(list_filter(kind_list,
        k -> k in ('clause', 'critere', 'reserve')))), []) as kinds
from kind_lists;
