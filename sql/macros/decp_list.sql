-- decp_list(value, item_key): the strings of a DECP list field, whatever its shape.
-- Grain: one call per record field; returns varchar[] or NULL when the field is absent.
-- Shapes handled: 2022 wrapped  {"considerationSociale": ["a", "b"]} or {"considerationSociale": "a"};
--                 2.0.0 flat    ["a", "b"]  (an empty array is returned as an empty list);
--                 wrapped items [{"considerationSociale": "a"}].
create or replace macro decp_list(value, item_key) as (
    case
        when value is null or json_type(value) = 'NULL' then null
        when json_type(value) = 'ARRAY' then list_transform(
            cast(json_extract(value, '$[*]') as json[]),
            item -> case when json_type(item) = 'OBJECT'
                         then json_extract_string(item, '$.' || item_key)
                         else json_extract_string(item, '$') end)
        when json_type(value) = 'OBJECT' then (
            case coalesce(json_type(json_extract(value, '$.' || item_key)), 'NULL')
                when 'ARRAY' then json_extract_string(value, '$.' || item_key || '[*]')
                when 'NULL' then []::varchar[]
                else [json_extract_string(value, '$.' || item_key)]
            end)
        else [json_extract_string(value, '$')]
    end
);
