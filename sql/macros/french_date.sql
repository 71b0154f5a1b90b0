-- french_date(text): a date written 31/12/2024, 31-12-2024, 31.12.2024, 31/12/24 (a two-digit
-- year is 20xx up to 69, 19xx from 70), 2024-12-31 or 2024-12-31 00:00:00 (Excel), or NULL when
-- unreadable or outside 1950-2100.
create or replace macro french_date_any(value) as (
    coalesce(
        case when regexp_full_match(trim(value), '[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}')
            then try_strptime(trim(value), '%d/%m/%y')::date end,
        try_strptime(trim(value), '%d/%m/%Y')::date,
        try_strptime(trim(value), '%d-%m-%Y')::date,
        try_strptime(trim(value), '%d.%m.%Y')::date,
        try_cast(left(trim(value), 10) as date)
    )
);
create or replace macro french_date(value) as (
    case when year(french_date_any(value)) between 1950 and 2100 then french_date_any(value) end
);
-- decp_date(text): a DECP date: ISO first ('2024-03-15', '2024-03-15+01:00', a timestamp), else
-- as French spreadsheets write it ('15/03/2024'); NULL when unreadable. No plausibility range:
-- contracts.sql flags implausible dates instead of dropping them.
-- (ISO only when the year comes first: DuckDB would read 31/12/24 as the year 31)
create or replace macro decp_date(value) as (
    case when substr(trim(value), 5, 1) = '-' then try_cast(left(trim(value), 10) as date)
         else french_date_any(value) end
);
