-- tabular_list(value): the values of a list cell of a tabular DECP export.
-- decp-processing joins values with ", " ("Critère social, Clause sociale"); the
-- data.economie.gouv.fr exports write Python-list text ("['Clause sociale', 'Critère social']");
-- a Parquet list column, read as text, gives "[Clause sociale, Critère social]".
-- NULL (unknown) when the cell is empty or a placeholder.
create or replace macro tabular_list(value) as (
    case
        when tabular_text(value) is null then null
        when starts_with(tabular_text(value), '[') and regexp_matches(tabular_text(value), '[''"]')
            then regexp_extract_all(tabular_text(value), '[''"]([^''"]+)[''"]', 1)
        when starts_with(tabular_text(value), '[') then list_filter(
            list_transform(string_split(trim(tabular_text(value), '[]'), ', '), v -> trim(v)),
            v -> v <> '')
        else list_transform(string_split(tabular_text(value), ', '), v -> trim(v))
    end
);
