-- amount_quality(amount, given): whether a contract amount (euros HT) is usable: 'ok', or
-- 'unreadable' (text given that is not an amount: given true, amount NULL), 'missing',
-- 'negative', 'placeholder' (0 or 1 euro) or 'sentinel' (1e10 and more, or "no ceiling"
-- written as nines: 9 999 999, 99 999 999, 999 999 999, frequent on accords-cadres).
-- Used for the initial amount (contracts.sql) and the current one (contract_plausibility.sql).
create or replace macro amount_quality(amount, given) as (
    case
        when amount is null and given then 'unreadable'
        when amount is null then 'missing'
        when amount < 0 then 'negative'
        when amount <= 1 then 'placeholder'
        when amount >= 1e10 then 'sentinel'
        when amount >= 9999999
            and regexp_full_match(cast(floor(amount) as bigint)::varchar, '9+') then 'sentinel'
        else 'ok'
    end
);
