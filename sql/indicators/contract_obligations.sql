-- contract_obligations: for each contract, whether the obligations in force since 21 August 2026
-- (loi Climat et Résilience, art. 35) apply to it — environmental consideration in every marché
-- and concession, social execution condition in marchés above the EU thresholds — whether it
-- complies, and how sure that is.
-- Grain: one row per contract in_pnad_scope. Source: contracts; the rules and their legal sources
-- in ref_obligation_rules, ref_eu_thresholds, ref_threshold_buyer_types; the consultation lags
-- by procedure in obligation_consultation_lags (pipelines/indicators/obligations.toml).
-- Mode de calcul :
--   Launch of the consultation: the DECP have no launch date. The date that governs a contract is
--     its own notification date, or for a marché subséquent its accord-cadre's (same buyer,
--     contract_id = idAccordCadre) when that is in the data. The consultation was launched
--     between max_days and min_days before it (lag by the governing contract's procedure):
--     launch_window = 'before' when even the shortest lag puts it before the entry date,
--     'after' when even the longest puts it on or after, else 'uncertain'; 'framework_missing'
--     for a marché subséquent notified on or after the entry date whose accord-cadre is not in
--     the data. Notified before the entry date = launched before, certainly.
--   EU threshold (social): the threshold in force at the latest possible launch, for the contract
--     type (travaux from CPV division 45, else fournitures_services) and every buyer type its
--     category may be; amount >= the highest -> 'above', < the lowest -> 'below', between ->
--     'between' (depends on the buyer type: undetermined); amount missing or implausible ->
--     'unusable'. Amount: initial amount HT (the accord-cadre's for a marché subséquent when
--     found).
--   Obligation state (environmental_obligation, social_obligation): 'not_subject' when a rule
--     excludes it (nature, kind, launched before, below the threshold), else 'undetermined' when
--     something needed is unknown, else 'subject'. The *_reason says which; *_certainty is
--     'certain' when no estimate decided it, 'estimated' when the launch window did.
--   Compliance (environmental_compliance, social_compliance), whatever the obligation state:
--     'compliant' when every requirement group of the obligation (ref_obligation_rules
--     required_kind, minus the groups waived for the procedure) is met by a declared kind;
--     'non_compliant' when declared (status yes or no) and a group is missing; 'unknown' when
--     nothing usable was declared (status unknown). *_missing lists the missing groups.
--   Cost: each rule table is joined once per distinct combination it depends on (procedure;
--     nature x kind; buyer category x contract type x date; procedure x declared kinds),
--     then joined back to the contracts by equality: the same result as per contract.
--   Written to contract_obligations_computed, for every contract ($all_contracts) or for those
--     listed in obligation_uids_to_compute (the ones a change touched); build_contract_obligations
--     (pipelines/indicators/obligations.py) then swaps it in or merges it into
--     contract_obligations.
create or replace table contract_obligations_computed as
with entry as (
    select obligation, cast(value as date) as entry_date
    from ref_obligation_rules where rule = 'entry_into_force'
),
base as (
    select
        c.uid, c.kind, c.contract_id, c.buyer_siret, c.buyer_name, c.buyer_category,
        c.buyer_region_code, c.buyer_departement_code, c.nature, c.procedure, c.market_type,
        c.objet, c.framework_id, c.is_subsequent_contract, c.notification_date,
        c.initial_amount, c.amount_quality, c.social_status, c.social_kinds,
        c.environmental_status, c.environmental_kinds
    from contracts as c
    where c.in_pnad_scope
        and ($all_contracts or c.uid in (select uid from obligation_uids_to_compute))
),
frameworks as (
    -- the accord-cadre of a marché subséquent, when the same buyer published it
    select s.uid, arg_min(f.notification_date, f.notification_date) as framework_date,
        arg_min(f.procedure, f.notification_date) as framework_procedure,
        arg_min(case when f.amount_quality = 'ok' then f.initial_amount end, f.notification_date)
            as framework_amount
    from base as s
    join contracts as f
        on f.buyer_siret = s.buyer_siret and f.contract_id = s.framework_id and f.uid <> s.uid
    where s.is_subsequent_contract and f.notification_date is not null
    group by s.uid
),
governed as (
    select
        b.*,
        fw.framework_date is not null as framework_found,
        case when b.is_subsequent_contract then fw.framework_date else b.notification_date end
            as governing_date,
        case when b.is_subsequent_contract and fw.framework_date is not null
             then fw.framework_procedure else b.procedure end as governing_procedure,
        case when b.is_subsequent_contract and fw.framework_date is not null
             then fw.framework_amount
             when b.amount_quality = 'ok' then b.initial_amount end as governing_amount
    from base as b
    left join frameworks as fw using (uid)
),
procedure_lags as (
    -- the consultation lags of each governing procedure, matched once per spelling
    select
        g.governing_procedure,
        coalesce(l.min_days, d.min_days) as lag_min_days,
        coalesce(l.max_days, d.max_days) as lag_max_days
    from (select distinct governing_procedure from governed) as g
    left join obligation_consultation_lags as l
        on l.procedure_key = spelling_key(g.governing_procedure)
    cross join (select min_days, max_days from obligation_consultation_lags
                where procedure_key is null) as d
),
lagged as (
    select
        g.*,
        pl.lag_min_days,
        pl.lag_max_days,
        (select entry_date from entry where obligation = 'environmental') as env_entry,
        (select entry_date from entry where obligation = 'social') as soc_entry
    from governed as g
    join procedure_lags as pl on pl.governing_procedure is not distinct from g.governing_procedure
),
windows as (
    select
        *,
        governing_date - lag_max_days as launch_earliest,
        governing_date - lag_min_days as launch_latest,
        -- a subséquent notified before the entry date had its accord-cadre earlier still
        case when notification_date < env_entry then 'before'
             when is_subsequent_contract and not framework_found then 'framework_missing'
             when governing_date - lag_min_days < env_entry then 'before'
             when governing_date - lag_max_days >= env_entry then 'after'
             else 'uncertain' end as env_window,
        case when notification_date < soc_entry then 'before'
             when is_subsequent_contract and not framework_found then 'framework_missing'
             when governing_date - lag_min_days < soc_entry then 'before'
             when governing_date - lag_max_days >= soc_entry then 'after'
             else 'uncertain' end as soc_window,
        notification_date < env_entry as env_certainly_before,
        notification_date < soc_entry as soc_certainly_before,
        case when kind = 'concession' then 'concession'
             when market_type = 'travaux' then 'travaux'
             when market_type in ('fournitures', 'services') then 'fournitures_services'
        end as contract_type,
        coalesce(governing_date - lag_min_days, notification_date) as threshold_date
    from lagged
),
thresholds as (
    -- the range of EU thresholds that may apply: every buyer type of the category, every
    -- contract type when the CPV says nothing; the period of the latest possible launch.
    -- Once per buyer category x contract type x date, not per contract.
    select k.buyer_category, k.contract_type, k.threshold_date,
        min(t.amount_eur) as threshold_min, max(t.amount_eur) as threshold_max
    from (select distinct buyer_category, contract_type, threshold_date from windows) as k
    join ref_threshold_buyer_types as bt
        on bt.buyer_category = coalesce(k.buyer_category, 'autre')
    join ref_eu_thresholds as t
        on (t.buyer_type = bt.buyer_type or t.buyer_type = 'any')
        and (t.contract_type = k.contract_type
             or (k.contract_type is null and t.contract_type <> 'concession'))
        and k.threshold_date between t.period_start and t.period_end
    group by all
),
latest_thresholds as (
    -- after the last period in the table: its values, until the table is updated
    select bt.buyer_category, t.contract_type, min(t.amount_eur) as threshold_min,
        max(t.amount_eur) as threshold_max
    from ref_eu_thresholds as t
    join ref_threshold_buyer_types as bt on t.buyer_type = bt.buyer_type or t.buyer_type = 'any'
    where t.period_end = (select max(period_end) from ref_eu_thresholds)
    group by all
),
positioned as (
    select
        w.*,
        coalesce(th.threshold_min, lt.threshold_min) as threshold_min,
        coalesce(th.threshold_max, lt.threshold_max) as threshold_max
    from windows as w
    left join thresholds as th
        on th.buyer_category is not distinct from w.buyer_category
        and th.contract_type is not distinct from w.contract_type
        and th.threshold_date = w.threshold_date
    left join latest_thresholds as lt
        on lt.buyer_category = coalesce(w.buyer_category, 'autre')
        and lt.contract_type = coalesce(w.contract_type, 'travaux')
),
placed as (
    select
        *,
        case when governing_amount is null or threshold_min is null then 'unusable'
             when governing_amount >= threshold_max then 'above'
             when governing_amount < threshold_min then 'below'
             else 'between' end as threshold_position
    from positioned
),
excluded as (
    -- rules that take a contract out of an obligation whatever its dates: once per nature x
    -- kind, not per contract
    select nature, kind, obligation, min(exclusion) as exclusion
    from (
        select k.nature, k.kind, r.obligation, 'excluded_nature' as exclusion
        from (select distinct nature, kind from placed) as k
        join ref_obligation_rules as r
            on r.rule = 'excluded_nature'
            and spelling_key(r.value) = spelling_key(coalesce(k.nature, ''))
        union all
        select k.nature, k.kind, o.obligation, 'kind_not_covered'
        from (select distinct nature, kind from placed) as k
        cross join (select distinct obligation from ref_obligation_rules) as o
        where not exists (
            select 1 from ref_obligation_rules as r
            where r.rule = 'applies_to_kind' and r.obligation = o.obligation
              and r.value = k.kind
        )
    )
    group by all
),
requirements as (
    -- one row per (governing procedure x declared kinds) x obligation x requirement group: met
    -- by a declared kind? Once per combination of declarations, not per contract.
    select k.governing_procedure, k.social_kinds, k.environmental_kinds, r.obligation,
        r.requirement_group,
        bool_or(list_contains(
            case when r.obligation = 'social' then k.social_kinds else k.environmental_kinds end,
            r.value)) as met
    from (select distinct governing_procedure, social_kinds, environmental_kinds from placed) as k
    join ref_obligation_rules as r on r.rule = 'required_kind'
    where not exists (
        select 1 from ref_obligation_rules as w
        where w.rule = 'group_waived_for_procedure' and w.obligation = r.obligation
          and w.requirement_group = r.requirement_group
          and spelling_key(w.value) = spelling_key(coalesce(k.governing_procedure, ''))
    )
    group by all
),
compliance as (
    select governing_procedure, social_kinds, environmental_kinds, obligation,
        bool_and(coalesce(met, false)) as all_met,
        list(requirement_group order by requirement_group)
            filter (where not coalesce(met, false)) as missing
    from requirements
    group by all
),
reasons as (
    -- the first rule that decides, in this order: exclusions, a certain date, the threshold
    -- (social), the estimated launch window, then what is missing to decide
    select
        p.*,
        case when env_x.exclusion is not null then env_x.exclusion
             when p.env_window = 'before' then 'launched_before'
             when p.env_window = 'after' then 'launched_after'
             when p.env_window = 'framework_missing' then 'framework_missing'
             else 'launch_date_uncertain' end as environmental_obligation_reason,
        env_x.exclusion is not null or p.env_certainly_before as env_certain,
        case when soc_x.exclusion is not null then soc_x.exclusion
             when p.soc_certainly_before then 'launched_before'
             when p.threshold_position = 'below' then 'below_threshold'
             when p.soc_window = 'before' then 'launched_before'
             when p.soc_window = 'after' and p.threshold_position = 'above'
                 then 'launched_after'
             when p.threshold_position = 'unusable' then 'amount_unusable'
             when p.threshold_position = 'between' then 'threshold_depends_on_buyer_type'
             when p.soc_window = 'framework_missing' then 'framework_missing'
             else 'launch_date_uncertain' end as social_obligation_reason,
        soc_x.exclusion is not null or p.soc_certainly_before
            or p.threshold_position = 'below' as soc_certain,
        env_c.all_met as env_all_met, env_c.missing as env_missing,
        soc_c.all_met as soc_all_met, soc_c.missing as soc_missing
    from placed as p
    left join excluded as env_x
        on env_x.obligation = 'environmental'
        and env_x.nature is not distinct from p.nature and env_x.kind is not distinct from p.kind
    left join excluded as soc_x
        on soc_x.obligation = 'social'
        and soc_x.nature is not distinct from p.nature and soc_x.kind is not distinct from p.kind
    left join compliance as env_c
        on env_c.obligation = 'environmental'
        and env_c.governing_procedure is not distinct from p.governing_procedure
        and env_c.social_kinds is not distinct from p.social_kinds
        and env_c.environmental_kinds is not distinct from p.environmental_kinds
    left join compliance as soc_c
        on soc_c.obligation = 'social'
        and soc_c.governing_procedure is not distinct from p.governing_procedure
        and soc_c.social_kinds is not distinct from p.social_kinds
        and soc_c.environmental_kinds is not distinct from p.environmental_kinds
)
select
    uid, kind, contract_id, buyer_siret, buyer_name, buyer_category, buyer_region_code,
    buyer_departement_code, nature, procedure, market_type, objet, notification_date,
    date_trunc('month', notification_date)::date as month, initial_amount,
    is_subsequent_contract,
    case when not is_subsequent_contract then 'contract'
         when framework_found then 'accord_cadre'
         else 'accord_cadre_missing' end as governing_date_source,
    governing_date, lag_min_days, lag_max_days, launch_earliest, launch_latest,
    env_window as launch_window, governing_amount, contract_type, threshold_min, threshold_max,
    threshold_position,
    obligation_state(environmental_obligation_reason) as environmental_obligation,
    environmental_obligation_reason,
    case when env_certain then 'certain'
         when obligation_state(environmental_obligation_reason) <> 'undetermined'
             then 'estimated' end as environmental_obligation_certainty,
    case when environmental_status = 'unknown' then 'unknown'
         when env_all_met then 'compliant' else 'non_compliant' end as environmental_compliance,
    coalesce(env_missing, []) as environmental_missing,
    obligation_state(social_obligation_reason) as social_obligation,
    social_obligation_reason,
    case when soc_certain then 'certain'
         when obligation_state(social_obligation_reason) <> 'undetermined'
             then 'estimated' end as social_obligation_certainty,
    case when social_status = 'unknown' then 'unknown'
         when soc_all_met then 'compliant' else 'non_compliant' end as social_compliance,
    coalesce(soc_missing, []) as social_missing,
    environmental_status, environmental_kinds, social_status, social_kinds
from reasons
order by uid;
