-- contract_subcontracting: the actes de sous-traitance of each contract's kept version.
-- Grain: one row per act (uid, act_order: its 1-based place in the published list).
-- Source: contract_versions (is_kept) joined to stg_decp_records (subcontracting: the record's
-- actesSousTraitance as written). Tabular files carry no acts.
-- Method: wrapped items [{"acteSousTraitance": {...}}] (2022 JSON, XML) and plain items (2.0.0
-- flat draft) are both read, with the 2022 schema's fields: id, sousTraitant {id, typeIdentifiant,
-- denominationSociale when a platform adds it}, montant (a decimal comma accepted), dureeMois,
-- dateNotification, datePublicationDonnees (first 10 characters: a time-zone suffix is dropped),
-- variationPrix (Ferme, Actualisable, Révisable, as written). A value that does not read as its
-- type is NULL. The acts' own modifications (modificationsActesSousTraitance) are not applied.
create or replace table contract_subcontracting as
with acts as (
    select uid, cast(json_extract(subcontracting, '$[*]') as json[]) as act_list
    from contract_versions
    join stg_decp_records using (file_id, position)
    where contract_versions.is_kept and json_type(subcontracting) = 'ARRAY'
),
items as (
    select uid, unnest(act_list) as item, generate_subscripts(act_list, 1) as act_order
    from acts
),
fields as (
    select uid, act_order, coalesce(item -> 'acteSousTraitance', item) as act from items
)
select
    uid,
    act_order,
    nullif(trim(act ->> 'id'), '') as act_id,
    nullif(trim(act -> 'sousTraitant' ->> 'id'), '') as subcontractor_id,
    nullif(trim(act -> 'sousTraitant' ->> 'typeIdentifiant'), '') as subcontractor_id_type,
    nullif(trim(act -> 'sousTraitant' ->> 'denominationSociale'), '') as subcontractor_name,
    try_cast(replace(act ->> 'montant', ',', '.') as double) as amount,
    try_cast(act ->> 'dureeMois' as integer) as duration_months,
    try_cast(left(trim(act ->> 'dateNotification'), 10) as date) as notification_date,
    try_cast(left(trim(act ->> 'datePublicationDonnees'), 10) as date) as publication_date,
    nullif(trim(act ->> 'variationPrix'), '') as price_variation
from fields
where json_type(act) = 'OBJECT';
