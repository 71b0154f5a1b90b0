-- tabular_list(value): the values of a list cell of a tabular DECP export.
-- decp-processing joins values with ", " ("Critère social, Clause sociale"); the
-- data.economie.gouv.fr exports write Python-list text ("['Clause sociale', 'Critère social']",
-- a value holding an apostrophe in double quotes: "["Système d'acquisition dynamique"]"); a
-- Parquet list column read as text gives "[Clause sociale, 'Système d\'acquisition dynamique']"
-- (DuckDB quotes, with escapes, only the values that need it).
-- In brackets, each item is a quoted string (either quote, backslash escapes) or bare text up to
-- the next comma; items are trimmed and unquoted, empty ones left out.
-- NULL (unknown) when the cell is empty or a placeholder.
create or replace macro tabular_list_item(item) as (
    case
        when len(item) >= 2 and left(item, 1) in ('''', '"') and right(item, 1) = left(item, 1)
            then replace(replace(replace(item[2:-2], '\''', ''''), '\"', '"'), '\\', '\')
        else item
    end
);
create or replace macro tabular_list(value) as (
    case
        when tabular_text(value) is null then null
        when starts_with(tabular_text(value), '[') then list_filter(
            list_transform(
                regexp_extract_all(tabular_text(value),
                    '''(?:[^''\\]|\\.)*''|"(?:[^"\\]|\\.)*"|[^,\[\]]+'),
                v -> tabular_list_item(trim(v))),
            v -> v <> '')
        else list_transform(string_split(tabular_text(value), ', '), v -> trim(v))
    end
);
