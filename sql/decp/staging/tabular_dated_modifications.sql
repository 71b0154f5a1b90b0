-- A tabular file without modification ids (a partial decp.parquet extract made without the
-- modification_id column): the rows of each contract in tabular_row_keys (tabular_row_keys.sql,
-- where every row got id 0) told apart by their dateNotification instead.
-- Why: decp.parquet has one row per contract x holder x modification, and a modification's row
-- carries the modification's date in dateNotification and its values (montant, dureeMois,
-- titulaires). Without modification_id, the contract's earliest dated rows are its initial data
-- (modification 0: its notification date and year, its initial amount) and each later date is a
-- modification in date order (the latest gives the current amount); taking the first row in the
-- file instead dated a contract by whichever row came first.
-- Rows without a readable date come after the dated ones (a modification's row whose date is
-- missing); a contract whose rows have no readable date at all keeps them as initial data.
-- Grain: updates the rows of tabular_row_keys that become a modification (id > 0), with what
-- tabular_row_keys.sql gives a row of a positive id: its own amount, duration and date unless
-- the row gives inline ones (data.economie.gouv.fr columns), and no inline modification.
-- Source: tabular_row_keys, the temporary table macro tabular_rows($path) for the rows' dates
-- and values. Run only for such a file (pipelines/decp/tabular.py): the window over every row
-- would cost seconds on a 3 M-row file that has its ids.
update tabular_row_keys as k
set modification_id = d.modification_id,
    inline_modification = false,
    modification_amount_text = coalesce(k.modification_amount_text, d.amount_text),
    modification_duration_text = coalesce(k.modification_duration_text, d.duration_text),
    modification_date_text = coalesce(k.modification_date_text, d.date_text)
from (
    select
        keys.row_number,
        dense_rank() over (
            partition by keys.record_key order by decp_date(rows.date_text) nulls last) - 1
            as modification_id,
        rows.amount_text,
        rows.duration_text,
        rows.date_text
    from tabular_row_keys as keys
    join (
        select
            row_number,
            tabular_text(amount) as amount_text,
            tabular_text(duration_months) as duration_text,
            left(tabular_text(notification_date), 10) as date_text
        from tabular_rows($path)
    ) as rows using (row_number)
) as d
where k.row_number = d.row_number and d.modification_id > 0;
