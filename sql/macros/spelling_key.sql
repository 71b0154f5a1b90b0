-- spelling_key(text): the comparison key of a free-text enum value: trimmed, lower case, accents
-- removed, typographic apostrophes straightened. 'Critère social ' and 'CRITERE SOCIAL' share a key.
create or replace macro spelling_key(value) as (
    lower(strip_accents(trim(replace(replace(value, chr(8217), ''''), chr(160), ' '))))
);
