-- yes_no(text): a spreadsheet's yes/no cell as a boolean: oui, o, x, 1, vrai, yes -> true;
-- non, n, 0, faux, no, empty -> false; anything else -> NULL.
create or replace macro yes_no(value) as (
    case
        when spelling_key(coalesce(value, '')) in ('', 'non', 'n', '0', 'faux', 'false', 'no', '-')
            then false
        when spelling_key(value) in ('oui', 'o', 'x', '1', 'vrai', 'true', 'yes', 'y')
            then true
    end
);
