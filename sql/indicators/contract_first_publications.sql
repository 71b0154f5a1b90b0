-- contract_first_publications: when each contract was first published, and how long after its
-- notification — the publication deadline is two months (code de la commande publique,
-- R2196-1 and R3131-1, as in force since 1 January 2024).
-- Grain: one row per contract (uid). Source: contract_versions (every publication read: the
--   earliest datePublicationDonnees seen; republications reset the date, so the first one read
--   is the best estimate of the first publication), contracts.
-- late: first published more than two months after notification; NULL when either date is
--   missing (then neither late nor on time). A publication before notification (a data error)
--   is not late.
create or replace table contract_first_publications as
with first_seen as (
    select uid, min(publication_date) as first_publication_date
    from contract_versions
    -- a date in the future or before the DECP existed is a typo, not a publication
    where publication_date between date '1995-01-01' and current_date
    group by uid
)
select
    c.uid,
    c.notification_date,
    f.first_publication_date,
    f.first_publication_date - c.notification_date as publication_delay_days,
    f.first_publication_date > c.notification_date + interval 2 month as late
from contracts as c
left join first_seen as f using (uid)
where c.in_pnad_scope;
