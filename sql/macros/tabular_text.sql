-- tabular_text(value): a cell of a tabular DECP export as trimmed text, NULL when empty or a
-- placeholder: CDL ("champ de longueur nulle", empty) and MQ ("manquant", missing) in the
-- data.economie.gouv.fr exports, NaN/None left by pandas in analysts' extracts.
create or replace macro tabular_text(value) as (
    case when trim(cast(value as varchar)) in ('', 'CDL', 'MQ', 'NaN', 'nan', 'None', 'null')
         then null else trim(cast(value as varchar)) end
);
