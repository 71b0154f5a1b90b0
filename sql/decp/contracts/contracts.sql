-- contracts: one row per contract (marché or concession), its kept version with current values,
-- its social and environmental status, its territory and its data-quality flags.
-- Grain: one row per uid (buyer SIRET + contract id). Source: contract_versions (is_kept) and
-- stg_decp_records, contract_modifications, consideration_declarations, enum_lists,
-- contract_buyers, contract_places, ref_departements.
-- techniques, execution_modalities: the lists as published, in the schema's spelling
-- (enum_lists.sql); NULL when the record has no such field (2019 format, concessions, tabular
-- files without the column).
-- Status rules (domain guide §2): 'yes' when at least one positive value (clause, critère, réservé)
-- is declared; 'no' when only "Pas de considération …"/"Sans objet" is declared (or, in the 2.0.0
-- flat draft, an empty list); 'unknown' otherwise (field missing, NC, MQ, CDL, unrecognised value).
-- Amounts and dates: as DECP writes them, else as French spreadsheets do ('12 345,67', '15/03/2024':
-- decp_amount, decp_date); amount_quality says when an amount is unreadable, missing, negative, a
-- 0/1 placeholder or a sentinel (1e10 and more, or nines: 99 999 999).
-- Scope (in_pnad_scope): notified from 2024-01-01 with a plausible date, not a platform test record.
-- Territory: the buyer's département from its SIREN (local public bodies), else from SIRENE (the
-- establishment's commune, sirene_cache), else the place of execution; contracts that cannot be
-- placed keep NULL codes and method 'unplaced'. buyer_category: from the SIRENE legal category
-- when known, else from the SIREN prefix. buyer_name: the name published with the contract (2019
-- format, tabular files: buyer_name_source 'decp'), else SIRENE's for its SIRET (sirene_cache,
-- from the API or the stock file: 'sirene'), else NULL (the DECP 2022 format carries no name).
-- Buyers, places and lists of consideration values repeat a lot: each distinct one is normalised
-- once (contract_buyers.sql, contract_places.sql, consideration_declarations.sql), then joined
-- to the contracts.
create or replace table contracts as
with kept as (
    select
        v.uid, v.base_uid, v.shared_id_group, v.publication_date, v.versions_seen, v.kept_rule,
        r.file_id, r.record_kind, r.format_version, r.contract_id, r.buyer_id, r.buyer_name,
        r.nature, r.objet, r.cpv_code, r.procedure, r.framework_id, r.notification_date_text,
        r.amount_text, r.duration_months_text, r.place_code, r.place_type_code, r.social_raw,
        r.environmental_raw, r.techniques_raw, r.execution_modalities_raw
    from contract_versions as v
    join stg_decp_records as r using (file_id, position)
    where v.is_kept
),
current_values as (
    select
        uid,
        count(*) as modifications,
        arg_max(new_amount, modification_order) filter (where new_amount is not null)
            as modified_amount,
        arg_max(new_duration_months, modification_order) filter (
            where new_duration_months is not null) as modified_duration_months
    from contract_modifications
    group by uid
),
typed as (
    select
        kept.uid,
        kept.base_uid,
        kept.shared_id_group,
        kept.record_kind as kind,
        kept.contract_id,
        buyers.buyer_siret,
        coalesce(nullif(trim(kept.buyer_name), ''), buyers.sirene_buyer_name) as buyer_name,
        case
            when nullif(trim(kept.buyer_name), '') is not null then 'decp'
            when buyers.sirene_buyer_name is not null then 'sirene'
        end as buyer_name_source,
        kept.nature,
        kept.objet,
        kept.cpv_code,
        try_cast(left(trim(kept.cpv_code), 2) as integer) as cpv_division,
        kept.procedure,
        kept.framework_id,
        techniques.canonical_values as techniques,
        modalities.canonical_values as execution_modalities,
        decp_date(kept.notification_date_text) as notification_date,
        kept.publication_date,
        decp_amount(kept.amount_text) as initial_amount,
        kept.amount_text is not null as amount_given,
        try_cast(kept.duration_months_text as integer) as initial_duration_months,
        kept.place_code,
        kept.place_type_code,
        kept.format_version,
        kept.versions_seen,
        kept.kept_rule,
        kept.file_id,
        social.canonical_values as social_values,
        environmental.canonical_values as environmental_values,
        social.unrecognised_values as social_unrecognised_values,
        environmental.unrecognised_values as environmental_unrecognised_values,
        social.positive as social_positive,
        social.none_declared as social_none,
        social.kinds as social_kinds,
        environmental.positive as environmental_positive,
        environmental.none_declared as environmental_none,
        environmental.kinds as environmental_kinds,
        kept.social_raw is not null and len(kept.social_raw) = 0
            and kept.format_version = 'decp-2022-flat' as social_empty_flat_list,
        kept.environmental_raw is not null and len(kept.environmental_raw) = 0
            and kept.format_version = 'decp-2022-flat' as environmental_empty_flat_list,
        current_values.modifications,
        current_values.modified_amount,
        current_values.modified_duration_months,
        coalesce(buyers.buyer_siret_valid, false) as buyer_siret_valid,
        buyers.siren_departement_candidate,
        buyers.sirene_departement_candidate,
        buyers.buyer_legal_category,
        buyers.buyer_category,
        places.place_departement_candidate
    from kept
    left join consideration_declarations as social
        on social.dimension = 'social' and social.raw_list is not distinct from kept.social_raw
    left join consideration_declarations as environmental
        on environmental.dimension = 'environmental'
        and environmental.raw_list is not distinct from kept.environmental_raw
    left join enum_lists as techniques
        on techniques.field = 'technique' and techniques.raw_list = kept.techniques_raw
    left join enum_lists as modalities
        on modalities.field = 'execution_modality'
        and modalities.raw_list = kept.execution_modalities_raw
    left join current_values using (uid)
    left join contract_buyers as buyers using (buyer_id)
    left join contract_places as places
        on places.place_code is not distinct from kept.place_code
        and places.place_type_code is not distinct from kept.place_type_code
),
flagged as (
    select
        *,
        notification_date between date '1995-01-01' and current_date as notification_date_plausible,
        -- platform test records: the known test buyer, or a "Testville" object
        buyer_siret = '44090956200033' or coalesce(objet, '') ilike '%testville%'
            as is_test_record,
    from typed
)
select
    flagged.uid,
    flagged.base_uid,
    flagged.shared_id_group,
    flagged.kind,
    flagged.contract_id,
    flagged.buyer_siret,
    flagged.buyer_name,
    flagged.buyer_name_source,
    flagged.buyer_category,
    flagged.buyer_legal_category,
    flagged.nature,
    flagged.objet,
    flagged.cpv_code,
    case
        when flagged.cpv_division = 45 then 'travaux'
        when flagged.cpv_division between 3 and 44 or flagged.cpv_division = 48 then 'fournitures'
        when flagged.cpv_division between 50 and 98 then 'services'
    end as market_type,
    flagged.procedure,
    flagged.techniques,
    flagged.execution_modalities,
    flagged.framework_id,
    flagged.framework_id is not null or spelling_key(flagged.nature) = 'marche subsequent'
        as is_subsequent_contract,
    flagged.notification_date,
    case when flagged.notification_date_plausible then year(flagged.notification_date) end
        as notification_year,
    flagged.publication_date,
    flagged.initial_amount,
    coalesce(flagged.modified_amount, flagged.initial_amount) as current_amount,
    coalesce(flagged.modified_duration_months, flagged.initial_duration_months)
        as duration_months,
    coalesce(flagged.modifications, 0) as modifications,
    flagged.place_code,
    flagged.place_type_code,
    flagged.social_values,
    case
        when flagged.social_positive then 'yes'
        when flagged.social_none or flagged.social_empty_flat_list then 'no'
        else 'unknown'
    end as social_status,
    flagged.social_kinds,
    flagged.social_positive and flagged.social_none as social_contradictory,
    flagged.social_unrecognised_values,
    flagged.environmental_values,
    case
        when flagged.environmental_positive then 'yes'
        when flagged.environmental_none or flagged.environmental_empty_flat_list then 'no'
        else 'unknown'
    end as environmental_status,
    flagged.environmental_kinds,
    flagged.environmental_positive and flagged.environmental_none as environmental_contradictory,
    flagged.environmental_unrecognised_values,
    -- 'decp' here; sql/facilitators/apply_facilitator_confirmations.sql sets 'decp+facilitator' or
    -- 'facilitator' on contracts a facilitator follows (social_status itself stays as declared).
    'decp' as consideration_provenance,
    false as followed_by_facilitator,
    -- An estimate from the object's words, only where nothing usable was declared (e.g. 2019-format
    -- records). Labelled as such and never mixed into the declared figures.
    case when flagged.social_positive is not true and not coalesce(flagged.social_none, false)
        then case when regexp_matches(lower(strip_accents(coalesce(flagged.objet, ''))),
            'insertion|clause sociale|reserve|esat|entreprise adaptee|siae|handicap|travailleurs handicapes')
            then 'probable' else 'non detecte' end
    end as social_estimate_from_object,
    case when flagged.environmental_positive is not true
            and not coalesce(flagged.environmental_none, false)
        then case when regexp_matches(lower(strip_accents(coalesce(flagged.objet, ''))),
            'biologique|\bbio\b|durable|environnement|recycl|reemploi|renouvelable|bas carbone|economie circulaire|hqe|circuit court|basse consommation|vehicules? electrique')
            then 'probable' else 'non detecte' end
    end as environmental_estimate_from_object,
    coalesce(siren_departement.departement_code, sirene_departement.departement_code,
             place_departement.departement_code) as buyer_departement_code,
    coalesce(siren_departement.region_code, sirene_departement.region_code,
             place_departement.region_code) as buyer_region_code,
    case
        when siren_departement.departement_code is not null then 'siren_prefix'
        when sirene_departement.departement_code is not null then 'sirene'
        when place_departement.departement_code is not null then 'place_of_execution'
        else 'unplaced'
    end as buyer_territory_method,
    place_departement.departement_code as execution_departement_code,
    place_departement.region_code as execution_region_code,
    not flagged.buyer_siret_valid as buyer_siret_invalid,
    amount_quality(flagged.initial_amount, flagged.amount_given) as amount_quality,
    not coalesce(flagged.notification_date_plausible, false) as notification_date_suspicious,
    flagged.is_test_record,
    -- PNAD scope: notified from 2024 (when the 2022 format, with its consideration fields, became
    -- the rule), whatever format the record came in: a 2024 contract republished in the 2019
    -- format counts with an unknown status, which lowers completeness instead of vanishing.
    coalesce(flagged.notification_date_plausible, false)
        and flagged.notification_date >= date '2024-01-01'
        and not flagged.is_test_record
        as in_pnad_scope,
    flagged.format_version,
    flagged.versions_seen,
    flagged.kept_rule,
    flagged.file_id as kept_file_id
from flagged
left join ref_departements as siren_departement
    on siren_departement.departement_code = flagged.siren_departement_candidate
left join ref_departements as sirene_departement
    on sirene_departement.departement_code = flagged.sirene_departement_candidate
left join ref_departements as place_departement
    on place_departement.departement_code = flagged.place_departement_candidate;
