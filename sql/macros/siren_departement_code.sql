-- siren_departement_code(siret): the département a local public body's SIREN encodes, or NULL.
-- Rule (domain guide §5, checked on 1 331 real buyers: 99.4 % right where it applies):
--   21 + INSEE commune code (digits 3-7): communes -> département = digits 3-4 (3-5 for 97x);
--   22, 24, 25, 26, 27, 28 + département in digits 3-4 (3-5 for 97x): départements, groupings,
--   syndicates, local public establishments.
-- Left to other methods (NULL here): Corsica (20xxx does not tell 2A from 2B), 21971 (also used by
-- Saint-Barthélemy and Saint-Martin), 2298 (Mayotte or TAAF), 200... and State bodies (1...).
-- The caller checks the result against ref_departements.
create or replace macro siren_departement_code(siret) as (
    case
        when not coalesce(regexp_full_match(siret, '[0-9]{9,14}'), false) then null
        when siret[1:2] not in ('21', '22', '24', '25', '26', '27', '28') then null
        when siret[3:4] = '20' then null
        when siret[1:2] = '21' and siret[3:5] = '971' then null
        when siret[1:2] <> '21' and siret[3:4] = '98' then null
        when siret[3:4] = '97' then siret[3:5]
        else siret[3:4]
    end
);
