-- zero_pad(code, width): a code left-padded with zeros to width characters ('5' -> '05', '974'
-- stays '974'), never cut. Grain: one call per code.
-- DuckDB's lpad also truncates a longer string to the width (lpad('974', 2, '0') = '97', which no
-- département has): every code the project pads goes through here instead.
create or replace macro zero_pad(code, width) as (
    case when length(code) < width then lpad(code, width, '0') else code end
);
