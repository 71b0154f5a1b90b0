-- contract_holders: the holders of each contract's kept version (titulaires of a marché,
-- concessionnaires of a concession): those notified, and those each modification naming holders
-- puts in their place; is_current marks the set in force.
-- Grain: one row per uid x holder set x holder. A holder set is the initial one
-- (modification_order NULL) or the one a modification gives (its modification_order).
-- Source: contract_versions (is_kept) joined to stg_decp_records (holders, as written), and
-- contract_modifications (new_holders, applied in its modification_order, as amounts are).
-- Method: every shape is read: 2022 wrapped items [{"titulaire": {...}}] (or flattened:
-- [{"titulaire.id": ...}]), plain items [{...}]
-- (2019, 2.0.0 flat draft), the list an XML modification keeps wrapped ({"titulaire": [...]} or
-- {"titulaire": {...}}), and the id-only arrays of tabular files (["<id>", ...]: no type, no
-- name, the distinct holders of all the contract's rows in id order, as one initial set).
-- Modifications carry absolute values: the last set naming at least one holder is current; an
-- empty list changes nothing. holder_order is the place in the published list; holder_id is
-- trimmed, otherwise as written (not checked as a SIRET); an item naming nothing (null, an
-- empty or null wrapper) is left out.
-- current_sets: one max per contract over its lists, not a window over every holder (half the
-- time at 200 000 contracts).
create or replace table contract_holders as
with kept as (
    select v.uid, r.record_kind, r.holders
    from contract_versions as v
    join stg_decp_records as r using (file_id, position)
    where v.is_kept
),
holder_sets as (
    select uid, record_kind, null::bigint as modification_order, holders
    from kept
    where holders is not null
    union all
    select m.uid, kept.record_kind, m.modification_order, m.new_holders as holders
    from contract_modifications as m
    join kept using (uid)
    where m.new_holders is not null
),
listed as (
    select
        uid,
        record_kind,
        modification_order,
        cast(json_extract(case
            when json_type(holders) = 'ARRAY' then holders
            when json_type(wrapped) = 'ARRAY' then wrapped
            when json_type(holders) = 'OBJECT' then json_array(coalesce(wrapped, holders))
        end, '$[*]') as json[]) as holder_list
    from (
        select *, coalesce(holders -> 'titulaire', holders -> 'concessionnaire') as wrapped
        from holder_sets
    )
),
current_sets as (
    select uid, max(modification_order) as current_modification_order
    from listed
    where modification_order is not null and len(holder_list) > 0
    group by uid
),
items as (
    select
        uid, record_kind, modification_order,
        unnest(holder_list) as item, generate_subscripts(holder_list, 1) as holder_order
    from listed
),
holders as (
    -- an object item is parsed once for its three fields, wrapped ({"titulaire": {...}},
    -- {"concessionnaire": {...}}) or plain; a tabular file's items are ids (no object to look
    -- into, 2 M of them in a national file)
    select
        uid, record_kind, modification_order, holder_order, item,
        case when starts_with(item, '{')  -- items are minified JSON: an object starts with {
             then json_extract_string(item, [
                '$.titulaire.id', '$.concessionnaire.id', '$.id',
                '$.titulaire.typeIdentifiant', '$.concessionnaire.typeIdentifiant',
                '$.typeIdentifiant',
                '$.titulaire.denominationSociale', '$.concessionnaire.denominationSociale',
                '$.denominationSociale',
                -- the same item flattened: {"titulaire.id": ...}
                '$."titulaire.id"', '$."concessionnaire.id"',
                '$."titulaire.typeIdentifiant"', '$."concessionnaire.typeIdentifiant"',
                '$."titulaire.denominationSociale"', '$."concessionnaire.denominationSociale"'])
        end as fields
    from items
    where item <> 'null'
),
named as (
    select
        uid, record_kind, modification_order, holder_order,
        nullif(trim(case when fields is not null
                         then coalesce(fields[1], fields[2], fields[3], fields[10], fields[11])
                         when starts_with(item, '[') then null
                         else item ->> '$' end), '') as holder_id,
        nullif(trim(coalesce(fields[4], fields[5], fields[6], fields[12], fields[13])), '')
            as holder_id_type,
        nullif(trim(coalesce(fields[7], fields[8], fields[9], fields[14], fields[15])), '')
            as holder_name
    from holders
)
select
    uid,
    case when record_kind = 'concession' then 'concessionnaire' else 'titulaire' end as role,
    holder_order,
    holder_id,
    holder_id_type,
    holder_name,
    modification_order,
    modification_order is not distinct from current_sets.current_modification_order as is_current
from named
left join current_sets using (uid)
-- an item naming nothing ({"titulaire": null}, {}) is left out
where holder_id is not null or holder_id_type is not null or holder_name is not null;
