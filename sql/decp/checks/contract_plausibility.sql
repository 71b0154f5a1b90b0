-- Plausibility of the contracts' amounts, dates and durations: how many contracts show each
-- kind of implausible value, out of all contracts (platform test records included).
-- Grain: one row per issue, every issue listed (0 when none), in the order below. Source:
-- contracts, contract_modifications, and for dates that could not be read the kept record's
-- text (contract_versions, stg_decp_records). Read by the check
-- check_plausibility_amounts_dates (assets/decp/contracts.py); nothing is rejected for these: amount
-- views cap or exclude them through amount_quality.
--   amount_<quality>         initial amount missing, unreadable, negative, a 0/1 placeholder or
--                            a sentinel (contracts.amount_quality);
--   current_amount_implausible  the amount after the last modification is not usable
--                            (amount_quality: negative, 0/1, a sentinel) while the initial one was;
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
contract_issues as (
    -- the issues each contract shows (NULL entries for those it does not)
    select [
        case when c.amount_quality <> 'ok' then 'amount_' || c.amount_quality end,
        case when c.amount_quality = 'ok' and amount_quality(c.current_amount, true) <> 'ok'
             then 'current_amount_implausible' end,
        case when c.notification_date is null and not coalesce(u.date_given, false)
             then 'notification_date_missing' end,
        case when c.notification_date is null and u.date_given
             then 'notification_date_unreadable' end,
        case when c.notification_date is not null and c.notification_date_suspicious
             then 'notification_date_out_of_range' end,
        case when c.publication_date not between date '1995-01-01' and current_date
             then 'publication_date_out_of_range' end,
        case when c.publication_date < c.notification_date and not c.notification_date_suspicious
             then 'publication_before_notification' end,
        case when m.first_modification_date < c.notification_date
                 and not c.notification_date_suspicious
             then 'modification_before_notification' end,
        case when c.duration_months < 1 or c.duration_months > 600
             then 'duration_out_of_range' end
    ] as issues
    from contracts as c
    left join unread_dates as u using (uid)
    left join (
        select uid, min(modification_date) as first_modification_date
        from contract_modifications
        group by uid
    ) as m using (uid)
),
counted as (
    select issue, count(*) as contracts
    from (select unnest(issues) as issue from contract_issues)
    where issue is not null
    group by issue
),
every_issue as (
    select unnest(names) as issue, generate_subscripts(names, 1) as rank
    from (select [
        'amount_missing', 'amount_unreadable', 'amount_negative', 'amount_placeholder',
        'amount_sentinel', 'current_amount_implausible', 'notification_date_missing',
        'notification_date_unreadable', 'notification_date_out_of_range',
        'publication_date_out_of_range', 'publication_before_notification',
        'modification_before_notification', 'duration_out_of_range'
    ] as names)
)
select
    every_issue.issue,
    coalesce(counted.contracts, 0) as contracts,
    (select count(*) from contracts) as all_contracts,
    coalesce(counted.contracts, 0) / nullif((select count(*) from contracts), 0) as share
from every_issue
left join counted using (issue)
order by every_issue.rank;
