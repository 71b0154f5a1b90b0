-- french_number(text): a number as spreadsheets write it, or NULL when unreadable.
-- '1 234,5', '1234,5 h', '1.234,5' and '1,234.5' all read 1234.5; '35.0' reads 35. Spaces
-- (also non-breaking), units and currency signs are ignored.
create or replace macro number_characters(value) as (
    regexp_replace(trim(value), '[^0-9,.\-]', '', 'g')
);
create or replace macro french_number(value) as (
    try_cast(
        case
            when regexp_matches(number_characters(value), ',[0-9]*$')
                then replace(replace(number_characters(value), '.', ''), ',', '.')
            else replace(number_characters(value), ',', '')
        end as double)
);
-- decp_amount(text): a DECP amount: a plain number ('12345.67', '1.5e7', a JSON number as text),
-- else as French spreadsheets write it ('12 345,67', '1.234,50', '12345,67 €'); NULL when
-- unreadable.
create or replace macro decp_amount(value) as (
    coalesce(try_cast(trim(value) as double), french_number(value))
);
