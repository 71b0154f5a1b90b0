-- contract_places (temporary table): each place of execution (code and type as written) with
-- the département it designates, when it designates one.
-- Grain: one row per distinct (place_code, place_type_code). Source: stg_decp_records (every
-- staged record, kept or not), ref_postal_code_exceptions, ref_departements, ref_regions.
-- Read by contracts.sql.
-- The prefix rule (macro place_departement_code), corrected where it is known to be wrong:
-- a postal code serving several départements keeps the rule's département when it is one of
-- them, the only one when there is one, and none when the choice would be a guess; a
-- 'Code région' holding a département number (not a région code) is read as a département
-- ('974' stays '974': zero_pad never cuts a code).
-- A table of its own rather than a CTE of contracts.sql: with its real (small) size known, DuckDB
-- joins the 2 M contracts to it instead of building a hash table of the contracts.
create or replace temp table contract_places as
select
    p.place_code,
    p.place_type_code,
    case
        when e.postal_code is not null then
            case
                when list_contains(e.departement_codes, p.rule_departement)
                    then p.rule_departement
                when len(e.departement_codes) = 1 then e.departement_codes[1]
            end
        when p.type_key = 'code region'
            and zero_pad(trim(p.place_code), 2) in (select departement_code from ref_departements)
            and zero_pad(trim(p.place_code), 2) not in (select region_code from ref_regions)
            then zero_pad(trim(p.place_code), 2)
        else p.rule_departement
    end as place_departement_candidate
from (
    select
        place_code,
        place_type_code,
        spelling_key(place_type_code) as type_key,
        place_departement_code(place_code, place_type_code) as rule_departement
    from (select distinct place_code, place_type_code from stg_decp_records)
) as p
left join ref_postal_code_exceptions as e
    on p.type_key = 'code postal' and e.postal_code = trim(p.place_code);
