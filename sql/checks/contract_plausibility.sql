-- Plausibility of the contracts' amounts, dates and durations: how many contracts show each
-- kind of implausible value, out of all contracts (platform test records included).
-- Grain: one row per issue, every issue listed (0 when none), in the order below. Source:
-- contracts, contract_modifications, and for dates that could not be read the kept record's
-- text (contract_versions, stg_decp_records). Read by the check
-- check_plausibility_amounts_dates (assets/core.py); nothing is rejected for these: amount
-- views cap or exclude them through amount_quality.
--   amount_<quality>         initial amount missing, unreadable, negative, a 0/1 placeholder or
--                            a sentinel (contracts.amount_quality);
--   current_amount_implausible  the amount after the last modification is negative, 0/1, 1e10
--                            and more or nines (99 999 999) while the initial one was plausible;
--   notification_date_missing     no notification (or signature) date given;
--   notification_date_unreadable  a date given that is not a date ('2024-13-45');
--   notification_date_out_of_range  a date before 1995-01-01 or after today (typos such as
--                            0218-10-29 or 5021-02-18);
--   publication_date_out_of_range  data published before 1995-01-01 or after today;
--   publication_before_notification  data published before the contract was notified;
--   modification_before_notification  a modification dated before the contract;
--   duration_out_of_range    a duration under 1 month or over 600 months (50 years).
with unread_dates as (
    -- the kept record's date text, for the few contracts without a readable date
    select v.uid, nullif(trim(r.notification_date_text), '') is not null as date_given
    from contracts as c
    join contract_versions as v on v.uid = c.uid and v.is_kept
    join stg_decp_records as r on r.file_id = v.file_id and r.position = v.position
    where c.notification_date is null
),
flags as (
    select
        c.amount_quality,
        c.amount_quality = 'ok' and (
            c.current_amount <= 1 or c.current_amount >= 1e10
            or (c.current_amount >= 9999999
                and regexp_full_match(cast(floor(c.current_amount) as bigint)::varchar, '9+'))
        ) as current_amount_implausible,
        c.notification_date is null and not coalesce(u.date_given, false)
            as notification_date_missing,
        c.notification_date is null and coalesce(u.date_given, false)
            as notification_date_unreadable,
        c.notification_date is not null and c.notification_date_suspicious
            as notification_date_out_of_range,
        c.publication_date not between date '1995-01-01' and current_date
            as publication_date_out_of_range,
        c.publication_date < c.notification_date
            and not c.notification_date_suspicious as publication_before_notification,
        coalesce(m.first_modification_date < c.notification_date, false)
            and not c.notification_date_suspicious as modification_before_notification,
        c.duration_months < 1 or c.duration_months > 600 as duration_out_of_range
    from contracts as c
    left join unread_dates as u using (uid)
    left join (
        select uid, min(modification_date) as first_modification_date
        from contract_modifications
        group by uid
    ) as m using (uid)
),
amount_issues as (
    select qualities.rank, 'amount_' || qualities.quality as issue,
           count(flags.amount_quality) as contracts
    from (select unnest(['missing', 'unreadable', 'negative', 'placeholder', 'sentinel']) as quality,
                 unnest([1, 2, 3, 4, 5]) as rank) as qualities
    left join flags on flags.amount_quality = qualities.quality
    group by qualities.rank, qualities.quality
),
other_issues as (
    select 6 as rank, 'current_amount_implausible' as issue,
           count(*) filter (where current_amount_implausible) as contracts
    from flags
    union all
    select 7, 'notification_date_missing', count(*) filter (where notification_date_missing)
    from flags
    union all
    select 8, 'notification_date_unreadable', count(*) filter (where notification_date_unreadable)
    from flags
    union all
    select 9, 'notification_date_out_of_range',
           count(*) filter (where notification_date_out_of_range)
    from flags
    union all
    select 10, 'publication_date_out_of_range',
           count(*) filter (where publication_date_out_of_range)
    from flags
    union all
    select 11, 'publication_before_notification',
           count(*) filter (where publication_before_notification)
    from flags
    union all
    select 12, 'modification_before_notification',
           count(*) filter (where modification_before_notification)
    from flags
    union all
    select 13, 'duration_out_of_range', count(*) filter (where duration_out_of_range) from flags
)
select
    issue,
    contracts,
    (select count(*) from contracts) as all_contracts,
    contracts / nullif((select count(*) from contracts), 0) as share
from (select * from amount_issues union all select * from other_issues)
order by rank;
