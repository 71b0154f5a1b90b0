-- What every row of one tabular DECP file gives its contract (temporary table tabular_row_keys):
-- the contract's key, the row's modification id and holders (id, type, name), its publication
-- date, for a modification row (id > 0) the modification's values, and the acte de
-- sous-traitance a row names (data.economie.gouv.fr 2022 exports).
-- data.economie.gouv.fr exports put a modification beside the initial values on the contract's
-- row (montantModification, dureeMoisModification, ..., idModification often empty): such a row
-- (id 0 with a modified amount or duration) is the initial row and also gives modification 1
-- (inline_modification).
-- Grain: one row per row of the file. Source: the temporary table macro tabular_rows($path),
-- defined by the caller over the file with a fixed column set (columns missing from the file are
-- NULL there, so a partial extract gives unknowns, not errors) and row_number (1-based place).
-- Only these few fields are cleaned on every row; the others only on the row they are read from
-- (batch_decp_tabular_records.sql): at 3 M rows, cleaning every field of every row was most of
-- the time.
create or replace temp table tabular_row_keys as
with cleaned as (
    select
        row_number,
        tabular_text(contract_id) as contract_id,
        case when regexp_full_match(tabular_text(buyer_id), '[0-9]{1,14}')
             then zero_pad(tabular_text(buyer_id), 14)  -- integer columns lose leading zeros
             else tabular_text(buyer_id) end as buyer_id,
        coalesce(try_cast(tabular_text(modification_id) as integer), 0) as modification_id,
        tabular_text(holder_id) as holder_id,
        case when holder_type is not null then tabular_text(holder_type) end as holder_type,
        case when holder_name is not null then tabular_text(holder_name) end as holder_name,
        -- data.economie.gouv.fr: holders 2 and 3, and the holder of the inline modification
        case when holder_id_2 is not null or holder_name_2 is not null then {
            'id': tabular_text(holder_id_2),
            'typeIdentifiant': tabular_text(holder_type_2),
            'denominationSociale': tabular_text(holder_name_2)} end as holder_2,
        case when holder_id_3 is not null or holder_name_3 is not null then {
            'id': tabular_text(holder_id_3),
            'typeIdentifiant': tabular_text(holder_type_3),
            'denominationSociale': tabular_text(holder_name_3)} end as holder_3,
        case when modification_holder_id is not null then {
            'id': tabular_text(modification_holder_id),
            'typeIdentifiant': tabular_text(modification_holder_type),
            'denominationSociale': null::varchar} end as inline_holder,
        left(tabular_text(publication_date), 10) as publication_date_text,
        modification_amount,
        amount,
        duration_months,
        notification_date,
        -- (the columns of data.economie.gouv.fr exports: NULL in other files, cleaned only
        -- where given)
        case when modification_amount is not null
             then tabular_text(modification_amount) end as inline_amount,
        case when modification_duration is not null
             then tabular_text(modification_duration) end as inline_duration,
        case when modification_date is not null
             then left(tabular_text(modification_date), 10) end as inline_date,
        case when modification_publication_date is not null
             then left(tabular_text(modification_publication_date), 10) end
            as inline_publication_date,
        -- data.economie.gouv.fr 2022 exports: the acte de sous-traitance a row names
        case when act_id is not null or subcontractor_id is not null then {
            'id': tabular_text(act_id),
            'dureeMois': tabular_text(act_duration),
            'dateNotification': left(tabular_text(act_date), 10),
            'datePublicationDonnees': left(tabular_text(act_publication_date), 10),
            'montant': tabular_text(act_amount),
            'variationPrix': tabular_text(act_price_variation),
            'sousTraitant': {
                'id': tabular_text(subcontractor_id),
                'typeIdentifiant': tabular_text(subcontractor_type)}} end as act
    from tabular_rows($path)
)
select
    row_number,
    contract_id,
    buyer_id,
    coalesce(contract_base_uid(buyer_id, contract_id), '#row' || row_number)
        as record_key,
    modification_id,
    holder_id,
    -- the holders the row names, in their published order (NULL when it names none): one in
    -- most files, up to three in data.economie.gouv.fr exports
    case when holder_2.id is not null or holder_2.denominationSociale is not null
              or holder_3.id is not null or holder_3.denominationSociale is not null
         then list_filter(
            [{'id': holder_id, 'typeIdentifiant': holder_type, 'denominationSociale': holder_name},
             holder_2, holder_3],
            h -> h.id is not null or h.denominationSociale is not null)
         when holder_id is not null or holder_name is not null
         then [{'id': holder_id, 'typeIdentifiant': holder_type,
                'denominationSociale': holder_name}]
    end as row_holders,
    -- the holder a data.economie.gouv.fr row gives its inline modification (idTitulaireModification)
    case when inline_holder.id is not null then inline_holder end as inline_holder,
    publication_date_text,
    modification_id = 0 and (inline_amount is not null or inline_duration is not null)
        as inline_modification,
    case when modification_id > 0
         then coalesce(inline_amount, tabular_text(amount))
         when modification_id = 0 then inline_amount end
        as modification_amount_text,
    case when modification_id > 0
         then coalesce(inline_duration, tabular_text(duration_months))
         when modification_id = 0 then inline_duration end
        as modification_duration_text,
    case when modification_id > 0
         then coalesce(inline_date, left(tabular_text(notification_date), 10))
         when modification_id = 0 then inline_date end
        as modification_date_text,
    coalesce(inline_publication_date, publication_date_text) as modification_publication_date_text,
    case when act.id is not null or act.sousTraitant.id is not null then act end as act
from cleaned;
