-- french_date(text): a date written 31/12/2024, 31-12-2024, 31.12.2024, 2024-12-31 or
-- 2024-12-31 00:00:00 (Excel), or NULL when unreadable or outside 1950-2100.
create or replace macro french_date_any(value) as (
    coalesce(
        try_strptime(trim(value), '%d/%m/%Y')::date,
        try_strptime(trim(value), '%d-%m-%Y')::date,
        try_strptime(trim(value), '%d.%m.%Y')::date,
        try_cast(left(trim(value), 10) as date)
    )
);
create or replace macro french_date(value) as (
    case when year(french_date_any(value)) between 1950 and 2100 then french_date_any(value) end
);
