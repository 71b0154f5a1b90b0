-- siret_is_valid(siret): true when the text is 14 digits with a valid Luhn checksum.
-- Grain: one call per identifier. La Poste establishments (SIREN 356000000) do not follow Luhn
-- and are accepted on their prefix, as INSEE documents.
create or replace macro siret_is_valid(siret) as (
    coalesce(regexp_full_match(siret, '[0-9]{14}'), false)
    and (
        starts_with(siret, '356000000')
        or list_sum(list_transform(range(14), i ->
            case when i % 2 = 0
                 then (2 * try_cast(siret[i + 1] as integer)) % 10 + (2 * try_cast(siret[i + 1] as integer)) // 10
                 else try_cast(siret[i + 1] as integer) end)) % 10 = 0
    )
);
