-- siret_is_valid(siret): true when the text is a valid SIRET, as INSEE defines it and
-- python-stdnum's fr.siret checks it (tests/test_sql_macros.py compares the two on generated
-- numbers): 14 digits; the SIREN (first 9) passes the Luhn check; the whole number passes it
-- too, except La Poste's establishments (SIREN 356000000, head office 35600000000048 aside),
-- whose digits add up to a multiple of 5 instead.
-- Grain: one call per identifier. No separator is removed: the caller gives the text as stored.
-- luhn_is_valid(digits): the Luhn check of a text of digits (every second digit from the right
-- doubled, the sum a multiple of 10).
create or replace macro luhn_is_valid(digits) as (
    list_sum(list_transform(range(length(digits)), i ->
        case when (length(digits) - i) % 2 = 0
             then (2 * try_cast(digits[i + 1] as integer)) % 10
                  + (2 * try_cast(digits[i + 1] as integer)) // 10
             else try_cast(digits[i + 1] as integer) end)) % 10 = 0
);
create or replace macro siret_is_valid(siret) as (
    coalesce(regexp_full_match(siret, '[0-9]{14}'), false)
    and luhn_is_valid(siret[1:9])
    and case
        when starts_with(siret, '356000000') and siret <> '35600000000048'
            then list_sum(list_transform(range(14), i -> try_cast(siret[i + 1] as integer))) % 5 = 0
        else luhn_is_valid(siret)
    end
);
