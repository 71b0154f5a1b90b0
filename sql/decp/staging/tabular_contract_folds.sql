-- The rows of one tabular DECP file folded into one record per contract (temporary table
-- tabular_contract_folds): how many rows, the latest publication date, the holders, the acts of
-- subcontracting, the initial row and the modifications.
-- Grain: one row per contract (record_key). Source: tabular_row_keys (tabular_row_keys.sql).
-- The initial row is the row of the lowest modification id (0 = initial data), the first such
-- row on a tie (a file without modification ids has them from its rows' dates first:
-- tabular_dated_modifications.sql); later modification ids become modifications with their absolute amount and
-- duration, each value taken from the first of the modification's rows that gives it; a
-- modification given beside the initial values (inline_modification, data.economie.gouv.fr
-- exports) is modification 1. Holders (id, type, name, in published order): those of the
-- initial data (modification id 0) are the contract's; a modification's rows name its holders
-- (titulaires, absolute, as in the JSON), or idTitulaireModification does. Acts of
-- subcontracting: one per row that names one (data.economie.gouv.fr 2022 exports), each once.
-- Folded in $fold_parts parts by a hash of record_key (this is part $fold_part), so that the
-- aggregates' memory follows a part, not the file: at 3 M rows in one piece it went over the
-- default 2 GB memory limit in 3 runs of 15. The caller adds each part to tabular_contract_folds.
create or replace temp table tabular_contract_folds_part as
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
        -- the holder the row names for the modification (idTitulaireModification), else the
        -- holders of the modification's rows (decp-processing: contract x holder x
        -- modification); an inline modification without idTitulaireModification names none
        coalesce(
            tabular_holders(list({'row_number': row_number, 'holders': [inline_holder]})
                filter (where inline_holder is not null)),
            tabular_holders(list({'row_number': row_number, 'holders': row_holders})
                filter (where modification_id > 0 and row_holders is not null)))
            as titulaires
    from tabular_row_keys
    where (modification_id > 0 or inline_modification)
        and hash(record_key) % $fold_parts = $fold_part
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
        -- the holders of the initial data (modification id 0; a modification's own holders go
        -- with it), in published order, each once; NULL when there is none
        to_json(tabular_holders(list({'row_number': row_number, 'holders': row_holders})
            filter (where modification_id = 0 and row_holders is not null))) as holders,
        -- the actes de sous-traitance the rows name, in row order (each once: below)
        list_transform(
            list_sort(list({'row_number': row_number, 'act': act}) filter (where act is not null)),
            a -> a.act) as acts,
        min({'modification_id': modification_id, 'row_number': row_number}).row_number
            as initial_row_number
    from tabular_row_keys
    where hash(record_key) % $fold_parts = $fold_part
    group by record_key
)
select
    folds.* exclude (acts),
    to_json(nullif(list_each_once(acts), [])) as subcontracting,
    modification_lists.modifications
from folds
left join modification_lists using (record_key);
