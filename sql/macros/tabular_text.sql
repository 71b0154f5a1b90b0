-- tabular_text(value): a cell of a tabular DECP export as trimmed text, NULL when empty or a
-- placeholder: CDL ("champ de longueur nulle", empty) and MQ ("manquant", missing) in the
-- data.economie.gouv.fr exports, NaN/None left by pandas in analysts' extracts.
-- list_contains rather than IN: DuckDB turns an IN list into a join per call, a third of the time
-- of reading a 3 M-row file (several calls per row).
create or replace macro tabular_text(value) as (
    case when list_contains(['', 'CDL', 'MQ', 'NaN', 'nan', 'None', 'null'], trim(cast(value as varchar)))
         then null else trim(cast(value as varchar)) end
);
