-- facilitator_followed_marches: every marché or lot a facilitator follows, as of the latest
-- export that lists it. Grain: one row per marche_key (facilitator + marché id).
-- Source: facilitator_marches and facilitator_operations of active exports (an export replaced
-- by a corrected one no longer counts). Monthly exports list the same marché again: the most
-- recently loaded export's attributes win; planned hours are never added across exports.
-- Territory: the département the export gives, else the one the buyer's SIREN encodes (local
-- public bodies, macro siren_departement_code); the DECP link can fill it later
-- (facilitator_hours reads the linked contract's territory as a last resort).
-- buyer_type: as the export says, else from the buyer's SIREN (macro buyer_category).
create or replace table facilitator_followed_marches as
with active_files as (
    select file_id, loaded_at from facilitator_files where status = 'active'
),

latest_marches as (
    select marches.*
    from facilitator_marches as marches
    join active_files using (file_id)
    qualify row_number() over (
        partition by marches.marche_key order by active_files.loaded_at desc, marches.file_id desc
    ) = 1
),

latest_operations as (
    select operations.*
    from facilitator_operations as operations
    join active_files using (file_id)
    qualify row_number() over (
        partition by operations.file_id, operations.operation_key order by operations.operation_id
    ) = 1
)

select
    latest_marches.marche_key,
    latest_marches.file_id,
    latest_marches.facilitator,
    latest_operations.operation_id,
    latest_operations.operation_name,
    regexp_replace(latest_operations.buyer_siret, '[^0-9]', '', 'g') as buyer_siret,
    latest_operations.buyer_name,
    coalesce(
        latest_operations.buyer_type,
        case buyer_category(regexp_replace(latest_operations.buyer_siret, '[^0-9]', '', 'g'))
            when 'etablissement_public_local' then 'etablissement_public'
            when 'autre' then null
            else buyer_category(regexp_replace(latest_operations.buyer_siret, '[^0-9]', '', 'g'))
        end
    ) as buyer_type,
    latest_marches.marche_id,
    latest_marches.decp_id,
    latest_marches.marche_object,
    latest_marches.market_type,
    latest_marches.sector,
    latest_marches.clause_category,
    latest_marches.notification_date,
    latest_marches.amount,
    latest_marches.hours_planned,
    coalesce(given.departement_code, from_siren.departement_code) as departement_code,
    coalesce(given.region_code, from_siren.region_code) as region_code,
    case
        when given.departement_code is not null then 'export'
        when from_siren.departement_code is not null then 'siren_prefix'
    end as territory_method
from latest_marches
left join latest_operations
    on latest_operations.file_id = latest_marches.file_id
    and latest_operations.operation_key = latest_marches.operation_key
left join ref_departements as given
    on given.departement_code = latest_operations.departement_code
left join ref_departements as from_siren
    on from_siren.departement_code = siren_departement_code(
        regexp_replace(latest_operations.buyer_siret, '[^0-9]', '', 'g'));
