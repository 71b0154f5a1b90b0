-- place_departement_code(code, type_code): the département of a DECP lieuExecution, or NULL.
-- Postal codes: first two digits, three for 97x and 98x (overseas départements and
-- collectivités: 97400 -> 974, 98714 -> 987), 200-201 -> 2A and 202-206 -> 2B (Corsica).
-- Commune codes: first two characters (2A/2B as written), three for 97x and 98x.
-- Département codes: as written, zero-padded to two characters ('5' -> '05'; '974' stays '974':
-- zero_pad, not lpad, which would cut it to '97'). 'Code région' values are ambiguous (a région
-- code and a département code can be the same number) and are left to the territory step.
-- The caller checks the result against ref_departements (98000, Monaco, gives 980: none).
create or replace macro place_departement_code(code, type_code) as (
    case
        when code is null then null
        when spelling_key(type_code) = 'code postal' and regexp_full_match(trim(code), '[0-9]{5}') then
            case
                when trim(code)[1:2] in ('97', '98') then trim(code)[1:3]
                when trim(code)[1:2] = '20' then
                    case when try_cast(trim(code)[3:3] as integer) <= 1 then '2A' else '2B' end
                else trim(code)[1:2]
            end
        when spelling_key(type_code) = 'code commune'
            and regexp_full_match(upper(trim(code)), '[0-9][0-9AB][0-9]{3}') then
            case when trim(code)[1:2] in ('97', '98') then trim(code)[1:3]
                 else upper(trim(code)[1:2]) end
        when spelling_key(type_code) = 'code departement'
            and regexp_full_match(upper(trim(code)), '[0-9]{1,3}|2[AB]') then
            zero_pad(upper(trim(code)), 2)
        else null
    end
);
