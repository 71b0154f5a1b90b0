-- facilitator_decp_links: which DECP contract each followed marché is, and how sure that is.
-- Grain: one row per followed marché linked to a contract (at most one contract per marché and
-- one marché per contract).
-- Source: facilitator_followed_marches, contracts.
-- Method:
--   'decp_id' (confidence 1): the export gives the buyer's DECP id and the buyer SIRET, and a
--     contract has that SIRET and that id (ids compared without case or spaces);
--   'marche_id' (confidence 0.95): no DECP id given, but the facilitator's marché number is the
--     id of a contract of the same buyer SIRET (facilitators often copy the buyer's number);
--   'scored': otherwise, candidates are the contracts of the same buyer (same SIREN) notified
--     within 90 days of the marché; score = 0.35 x date closeness (1 on the same day, 0 at 90
--     days) + 0.30 x amount closeness (1 - relative difference; 0.5 when an amount is missing)
--     + 0.35 x object similarity (shared words of 3+ letters / all words, accents and case
--     ignored). A link needs a score of at least 0.70, the best score for the marché by a margin
--     of 0.05, and to be the contract's best marché too. Near misses are not linked: another
--     buyer, more than 90 days apart, or a different object and amount.
-- The confidence kept is the score.
create or replace table facilitator_decp_links as
with marches as (
    select
        marche_key,
        buyer_siret,
        upper(regexp_replace(decp_id, '\s', '', 'g')) as decp_key,
        upper(regexp_replace(marche_id, '\s', '', 'g')) as marche_number_key,
        notification_date,
        amount,
        list_distinct(list_filter(
            regexp_split_to_array(spelling_key(coalesce(marche_object, '')), '[^a-z0-9]+'),
            w -> length(w) >= 3)) as words
    from facilitator_followed_marches
    where buyer_siret is not null and length(buyer_siret) >= 9
),

candidates as (
    select
        uid,
        buyer_siret,
        upper(regexp_replace(contract_id, '\s', '', 'g')) as id_key,
        notification_date,
        case when amount_quality = 'ok' then current_amount end as amount,
        list_distinct(list_filter(
            regexp_split_to_array(spelling_key(coalesce(objet, '')), '[^a-z0-9]+'),
            w -> length(w) >= 3)) as words
    from contracts
    where not is_test_record
),

by_id as (
    select
        marches.marche_key,
        min(candidates.uid) as uid,
        case when marches.decp_key is not null then 'decp_id' else 'marche_id' end as method,
        case when marches.decp_key is not null then 1.0 else 0.95 end as confidence
    from marches
    join candidates
        on candidates.buyer_siret = marches.buyer_siret
        and candidates.id_key = coalesce(marches.decp_key, marches.marche_number_key)
    group by marches.marche_key, marches.decp_key
),

scored as (
    select
        marches.marche_key,
        candidates.uid,
        0.35 * (1 - abs(datediff('day', marches.notification_date, candidates.notification_date)) / 90)
        + 0.30 * case
            when marches.amount > 0 and candidates.amount > 0
                then 1 - least(1, abs(marches.amount - candidates.amount)
                    / greatest(marches.amount, candidates.amount))
            else 0.5
          end
        + 0.35 * coalesce(
            len(list_intersect(marches.words, candidates.words))
            / nullif(len(list_distinct(list_concat(marches.words, candidates.words))), 0), 0)
            as score
    from marches
    join candidates
        on left(candidates.buyer_siret, 9) = left(marches.buyer_siret, 9)
        and abs(datediff('day', marches.notification_date, candidates.notification_date)) <= 90
    where marches.marche_key not in (select marche_key from by_id)
        and candidates.uid not in (select uid from by_id)
),

ranked as (
    select
        *,
        row_number() over (partition by marche_key order by score desc, uid) as rank_for_marche,
        lead(score) over (partition by marche_key order by score desc, uid) as runner_up,
        row_number() over (partition by uid order by score desc, marche_key) as rank_for_contract
    from scored
)

select marche_key, uid, method, confidence from by_id
union all
select marche_key, uid, 'scored' as method, round(score, 3) as confidence
from ranked
where rank_for_marche = 1
    and rank_for_contract = 1
    and score >= 0.70
    and score - coalesce(runner_up, 0) >= 0.05;
