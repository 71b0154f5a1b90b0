-- The rows of one tabular DECP file folded into one record per contract (temporary table
-- tabular_contract_folds): how many rows, the latest publication date, the holders, the initial
-- row and the modifications.
-- Grain: one row per contract (record_key). Source: tabular_row_keys (tabular_row_keys.sql).
-- The initial row is the row of the lowest modification id (0 = initial data), the first such
-- row on a tie; later modification ids become modifications with their absolute amount and
-- duration, each value taken from the first of the modification's rows that gives it; a
-- modification given beside the initial values (inline_modification, data.economie.gouv.fr
-- exports) is modification 1. Holders: those of the initial data (modification id 0) are the
-- contract's; a modification's rows name its holders (titulaires, absolute, as in the JSON).
create or replace temp table tabular_contract_folds as
with modification_values as (
    select
        record_key,
        greatest(modification_id, 1) as modification_id,
        arg_min(modification_amount_text, row_number) filter (
            where modification_amount_text is not null) as montant,
        arg_min(modification_duration_text, row_number) filter (
            where modification_duration_text is not null) as duree_mois,
        arg_min(modification_date_text, row_number) filter (
            where modification_date_text is not null) as modification_date,
        arg_min(modification_publication_date_text, row_number) filter (
            where modification_publication_date_text is not null)
            as modification_publication_date,
        -- the holders of the modification's rows (decp-processing: contract x holder x
        -- modification), in id order; an inline modification names none
        nullif(list_sort(list_distinct(list(holder_id) filter (where modification_id > 0))), [])
            as titulaires
    from tabular_row_keys
    where modification_id > 0 or inline_modification
    group by record_key, greatest(modification_id, 1)
),
modification_lists as (
    -- in modification id order (list_sort on {id, item}: ids are distinct within a contract; an
    -- ORDER BY inside the aggregate sorted every row of the file)
    select
        record_key,
        to_json(list_transform(list_sort(list({
            'modification_id': modification_id,
            'item': json_object(
                'id', modification_id,
                'montant', montant,
                'dureeMois', duree_mois,
                'dateNotificationModification', modification_date,
                'datePublicationDonneesModification', modification_publication_date,
                'titulaires', titulaires)
        })), m -> m.item)) as modifications
    from modification_values
    group by record_key
),
folds as (
    select
        record_key,
        count(*) as source_rows,
        max(publication_date_text) as latest_publication_date_text,
        -- distinct holders in id order (list_distinct drops NULLs); NULL when there is none
        -- the holders of the initial data (modification id 0; a modification's own holders go
        -- with it), distinct, in id order
        to_json(nullif(list_sort(list_distinct(
            list(holder_id) filter (where modification_id = 0) || coalesce(flatten(
            list(other_holder_ids) filter (where other_holder_ids is not null)), []))), []))
            as holders,
        min({'modification_id': modification_id, 'row_number': row_number}).row_number
            as initial_row_number
    from tabular_row_keys
    group by record_key
)
select folds.*, modification_lists.modifications
from folds
left join modification_lists using (record_key);
