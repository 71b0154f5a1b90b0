-- Plausibility of the contracts' amounts, dates and durations: how many contracts show each
-- kind of implausible value, out of all contracts (platform test records included).
-- Grain: one row per issue, every issue listed (0 when none). Source: contracts,
-- contract_modifications. Read by the check check_plausibility_amounts_dates (assets/core.py);
-- nothing is rejected for these: amount views cap or exclude them through amount_quality.
--   amount_<quality>         initial amount missing, unreadable, negative, a 0/1 placeholder or
--                            a sentinel (contracts.amount_quality);
--   current_amount_implausible  the amount after the last modification is negative, 0/1 or
--                            1e10 and more while the initial amount was plausible;
--   notification_date_missing   no readable notification (or signature) date;
--   notification_date_out_of_range  a date before 1995-01-01 or after today (typos such as
--                            0218-10-29 or 5021-02-18);
--   publication_before_notification  data published before the contract was notified;
--   modification_before_notification  a modification dated before the contract;
--   duration_out_of_range    a duration under 1 month or over 600 months (50 years).
with flags as (
    select
        c.amount_quality,
        c.amount_quality = 'ok'
            and (c.current_amount <= 1 or c.current_amount >= 1e10) as current_amount_implausible,
        c.notification_date is null as notification_date_missing,
        c.notification_date is not null and c.notification_date_suspicious
            as notification_date_out_of_range,
        c.publication_date < c.notification_date
            and not c.notification_date_suspicious as publication_before_notification,
        coalesce(m.first_modification_date < c.notification_date, false)
            and not c.notification_date_suspicious as modification_before_notification,
        c.duration_months < 1 or c.duration_months > 600 as duration_out_of_range
    from contracts as c
    left join (
        select uid, min(modification_date) as first_modification_date
        from contract_modifications
        group by uid
    ) as m using (uid)
),
issues as (
    select 'amount_' || qualities.quality as issue, count(flags.amount_quality) as contracts
    from (select unnest(['missing', 'unreadable', 'negative', 'placeholder', 'sentinel'])
          as quality) as qualities
    left join flags on flags.amount_quality = qualities.quality
    group by qualities.quality
    union all
    select 'current_amount_implausible', count(*) filter (where current_amount_implausible)
    from flags
    union all
    select 'notification_date_missing', count(*) filter (where notification_date_missing)
    from flags
    union all
    select 'notification_date_out_of_range',
           count(*) filter (where notification_date_out_of_range)
    from flags
    union all
    select 'publication_before_notification',
           count(*) filter (where publication_before_notification)
    from flags
    union all
    select 'modification_before_notification',
           count(*) filter (where modification_before_notification)
    from flags
    union all
    select 'duration_out_of_range', count(*) filter (where duration_out_of_range) from flags
)
select
    issue,
    contracts,
    (select count(*) from contracts) as all_contracts,
    contracts / nullif((select count(*) from contracts), 0) as share
from issues
order by issue;
