-- contract_subcontracting: the actes de sous-traitance of each contract's kept version.
-- Grain: one row per act (uid, act_order: its 1-based place in the published list).
-- Source: contract_versions (is_kept) joined to stg_decp_records (subcontracting: the record's
-- actesSousTraitance as written). Tabular files carry no acts here (the acts columns of the
-- data.economie.gouv.fr exports are not read yet).
-- Method: wrapped items [{"acteSousTraitance": {...}}] (2022 JSON, XML), plain items (2.0.0
-- flat draft), one object wrapping an act or a list of acts: all are read, with the 2022
-- schema's fields: id, sousTraitant {id, typeIdentifiant, denominationSociale when a platform
-- adds it}, montant (as French spreadsheets write it too: decp_amount), dureeMois,
-- dateNotification, datePublicationDonnees (decp_date), variationPrix (Ferme, Actualisable,
-- Révisable, as written). A value that does not read as its type is NULL. The acts' own
-- modifications (modificationsActesSousTraitance) are not applied.
create or replace table contract_subcontracting as
with kept as (
    select uid, subcontracting, subcontracting -> 'acteSousTraitance' as wrapped
    from contract_versions
    join stg_decp_records using (file_id, position)
    where contract_versions.is_kept and subcontracting is not null
),
acts as (
    -- a list of items, or one object wrapping an act or a list of acts
    select uid, cast(json_extract(case
        when json_type(subcontracting) = 'ARRAY' then subcontracting
        when json_type(wrapped) = 'ARRAY' then wrapped
        when json_type(subcontracting) = 'OBJECT' then json_array(coalesce(wrapped, subcontracting))
    end, '$[*]') as json[]) as act_list
    from kept
),
items as (
    select uid, unnest(act_list) as item, generate_subscripts(act_list, 1) as item_order
    from acts
),
inner_lists as (
    -- an item may wrap a list of acts ({"acteSousTraitance": [...]}, from XML)
    select
        uid, item_order,
        case when json_type(inner_item) = 'ARRAY'
             then cast(json_extract(inner_item, '$[*]') as json[])
             else [inner_item] end as inner_acts
    from (
        -- a flattened item or act ({"acteSousTraitance.montant": ..., "sousTraitant.id": ...})
        -- reads like its nested form (json_unflatten, here and on each act below)
        select *, coalesce(item -> 'acteSousTraitance', item) as inner_item
        from (select uid, item_order, json_unflatten(item) as item from items)
    )
),
fields as (
    select
        uid,
        row_number() over (partition by uid order by item_order, inner_order) as act_order,
        json_unflatten(act) as act
    from (
        select uid, item_order, unnest(inner_acts) as act,
               generate_subscripts(inner_acts, 1) as inner_order
        from inner_lists
    )
)
select
    uid,
    act_order,
    nullif(trim(act ->> 'id'), '') as act_id,
    nullif(trim(act -> 'sousTraitant' ->> 'id'), '') as subcontractor_id,
    nullif(trim(act -> 'sousTraitant' ->> 'typeIdentifiant'), '') as subcontractor_id_type,
    nullif(trim(act -> 'sousTraitant' ->> 'denominationSociale'), '') as subcontractor_name,
    decp_amount(act ->> 'montant') as amount,
    try_cast(act ->> 'dureeMois' as integer) as duration_months,
    decp_date(act ->> 'dateNotification') as notification_date,
    decp_date(act ->> 'datePublicationDonnees') as publication_date,
    nullif(trim(act ->> 'variationPrix'), '') as price_variation
from fields
where json_type(act) = 'OBJECT';
