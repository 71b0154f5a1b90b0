-- tabular_holders(entries): the holders several rows of a tabular DECP file name together, in
-- their published order, each once.
-- entries: a list of {'row_number': <the row's place in the file>, 'holders': <the row's
-- holders, a list of {'id', 'typeIdentifiant', 'denominationSociale'}>}, in any order (as an
-- aggregate gathers them). Holders come in row order, then in their place on the row; a holder
-- already named (same id, or same name when it has no id) is left out. NULL when none is named.
create or replace macro tabular_holders_once(holders) as (
    nullif(list_each_once_by(holders,
        list_transform(holders, h -> coalesce(h.id, '#' || h.denominationSociale))), [])
);
create or replace macro tabular_holders(entries) as (
    tabular_holders_once(flatten(list_transform(list_sort(entries), e -> e.holders)))
);
