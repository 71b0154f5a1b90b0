-- json_unflatten(j): a JSON object whose dotted keys are read as the nested objects they stand
-- for: {"acheteur.id": "1", "acheteur.nom": "X"} -> {"acheteur": {"id": "1", "nom": "X"}}; any
-- depth ("a.b.c"), merged with the nested keys already there ({"acheteur": {"nom": "X"},
-- "acheteur.id": "1"}). Grain: one call per JSON object; anything else is returned unchanged.
-- Why: flattened records (pandas' json_normalize writes them; the ministry's consolidated 2019
-- files hold "acheteur.id": "13000548100010" as one key) must read like their nested form. A
-- dotted key's value takes the place of the nested one it names; a null one is dropped.
-- Method: one JSON merge patch per dotted key ({"a.b": null, "a": {"b": value}}: the key out,
-- its nested form in), applied in turn. Objects without a dotted key are returned as they are.
create or replace macro json_dotted_keys(j) as (
    list_filter(json_keys(j), k -> contains(k, '.'))
);
create or replace macro json_dotted_patches(dotted_keys, dotted_values) as (
    list_transform(list_zip(dotted_keys, dotted_values), kv -> json(
        '{' || to_json(kv[1]) || ':null'
        || case when coalesce(json_type(kv[2]), 'NULL') <> 'NULL'
                then ',' || list_aggregate(
                        list_transform(string_split(kv[1], '.'), part -> to_json(part) || ':'),
                        'string_agg', '{')
                     || kv[2]::varchar || repeat('}', len(string_split(kv[1], '.')) - 1)
                else '' end
        || '}'))
);
create or replace macro json_unflatten(j) as (
    case
        when len(json_dotted_keys(j)) = 0 then j
        else list_reduce(
            list_prepend(j, json_dotted_patches(
                json_dotted_keys(j),
                list_transform(json_dotted_keys(j),
                               k -> json_extract(j, '$."' || replace(k, '"', '\"') || '"')))),
            (patched, patch) -> json_merge_patch(patched, patch))
    end
);
