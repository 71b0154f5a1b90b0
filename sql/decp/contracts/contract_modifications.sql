-- contract_modifications: the modifications of each contract's kept version, in order.
-- Grain: one row per modification. Source: contract_versions (is_kept) joined to
-- stg_decp_records for the kept record's fields. Modifications carry new
-- absolute values (montant, dureeMois), never deltas; an absent field is unchanged.
-- Wrapped items ({"modification": {...}}) and flat items ({...}) are both read; concessions give
-- valeurGlobale and dateSignatureModification where marchés give montant and
-- dateNotificationModification.
-- new_holders: the titulaires (or concessionnaires) the modification names, as written (any
-- shape, an empty list included); contract_holders.sql reads them in modification_order.
create or replace table contract_modifications as
with items as (
    select uid, unnest(cast(json_extract(modifications, '$[*]') as json[])) as item,
           generate_subscripts(cast(json_extract(modifications, '$[*]') as json[]), 1) as item_position
    from contract_versions
    join stg_decp_records using (file_id, position)
    where contract_versions.is_kept and json_type(modifications) = 'ARRAY'
),
fields as (
    -- a flattened item ({"modification.montant": ...}, {"montant": ..., "titulaires.titulaire":
    -- ...}) reads like its nested form (json_unflatten, at both levels)
    select uid, item_position, json_unflatten(coalesce(item -> 'modification', item)) as modification
    from (select uid, item_position, json_unflatten(item) as item from items)
)
select
    uid,
    modification ->> 'id' as modification_id,
    try_cast(left(trim(coalesce(modification ->> 'dateNotificationModification',
                                modification ->> 'dateSignatureModification')), 10) as date)
        as modification_date,
    try_cast(left(trim(modification ->> 'datePublicationDonneesModification'), 10) as date)
        as modification_publication_date,
    try_cast(replace(coalesce(modification ->> 'montant', modification ->> 'valeurGlobale'),
                     ',', '.') as double) as new_amount,
    try_cast(modification ->> 'dureeMois' as integer) as new_duration_months,
    coalesce(modification -> 'titulaires', modification -> 'concessionnaires') as new_holders,
    row_number() over (
        partition by uid
        order by try_cast(modification ->> 'id' as integer) nulls last,
                 try_cast(left(trim(modification ->> 'dateNotificationModification'), 10) as date),
                 item_position
    ) as modification_order
from fields;
