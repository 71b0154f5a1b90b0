-- contract_identities (temporary table): the contract each record of a repeated published id
-- belongs to, its uid, and the evidence that decided (identity_rule).
-- Grain: one row per staged record whose base_uid (buyer SIRET + contract id, the macro
-- contract_base_uid) has several records. Source: stg_decp_records. Read by
-- contract_versions.sql; a base_uid published once is its own contract and does not come here.
-- Why: the same contract is republished (daily files, several platforms, consolidations, a
-- reworded object), and an id is not always unique per contract (lots published under one id).
-- Rule, on evidence:
--   signature = notification date + first holder's SIREN (its establishment may differ): records
--     of another signature are another contract ('another notification date or holder');
--   within one file and signature, an object published with two amounts on one publication date
--     is two lots; the same object on other dates, whatever its amount, is a republication;
--   within one file and signature, two objects are one contract reworded when they share an
--     amount and the lot numbers they name ("Lot 3", "LOT3", "lot n°3") do not differ ('Tx de
--     scénographie' / 'Travaux de scénographie'); otherwise they are apart ('another lot number
--     in the object': "Lot 1 : Gros oeuvre" / "Lot 5 : Plomberie"; 'another amount'). Objects
--     linked through shared amounts form one contract, unless they name two lot numbers: then
--     each lot number is its own contract and an object naming none stays alone ('object
--     matching several lots, kept apart');
--   across files, the same signature and rank of first appearance in the file is the same
--     contract (a daily file republishing it, possibly reworded or with another amount).
-- uid: base_uid for an id holding one contract; for several, base_uid || '#' || n, where n runs
-- over 1, 2, 3... skipping every n for which base_uid || '#' || n is itself a published base_uid
-- (a real id 'FZ35#1' beside a shared 'FZ35'): a generated uid never equals a published one,
-- and two generated uids never equal each other (the text after the last '#' is n). The
-- skipped suffixes are read among all the staged records of the family (the base_uids equal up
-- to trailing '#<digits>': contract_increment_records.sql reads them again together).
create or replace temp table contract_identities as
with recursive
base_uids as (
    select contract_base_uid(buyer_id, contract_id) as base_uid, file_id, position
    from stg_decp_records
),
repeated as (
    select
        k.base_uid,
        k.file_id,
        k.position,
        coalesce(left(trim(r.notification_date_text), 10), '') || '|' || coalesce(
            case when regexp_full_match(regexp_replace(r.first_holder_id, '\s', '', 'g'),
                                        '[0-9]{9}|[0-9]{14}')
                 then left(regexp_replace(r.first_holder_id, '\s', '', 'g'), 9)
                 else trim(r.first_holder_id) end, '') as signature,
        count(*) over (partition by k.base_uid, k.file_id) as records_in_file,
        r.objet,
        r.amount_text,
        r.publication_date_text
    from base_uids as k
    join stg_decp_records as r using (file_id, position)
    semi join (select base_uid from base_uids group by base_uid having count(*) > 1) as ids
        using (base_uid)
),
-- Most repeated ids appear once per file (daily files republishing a contract): such a record
-- is the first and only contract of its signature in its file (record_contracts below). Only
-- the records of an id published several times in one file are compared on their objects,
-- amounts and lot numbers.
compared as (
    select
        base_uid,
        file_id,
        position,
        signature,
        objet,
        decp_date(publication_date_text) as publication_date,
        coalesce(cast(decp_amount(amount_text) as varchar), trim(amount_text)) as amount,
        nullif(regexp_extract(lower(strip_accents(coalesce(objet, ''))),
                              '\blot\s*(?:n\s*[°o.]?\s*)?0*([0-9]+)', 1), '') as lot_number
    from repeated
    where records_in_file > 1
),
same_day_amounts as (
    select
        *,
        -- where each amount of an object first appears on its publication date in the file
        min(position) over (
            partition by base_uid, file_id, signature, objet, publication_date, amount
        ) as amount_first_position
    from compared
),
amount_ranks as (
    -- the amount's rank among the amounts of its object published on the same date in the file
    -- (1 for an object republished on other dates)
    select
        * exclude (amount_first_position),
        dense_rank() over (
            partition by base_uid, file_id, signature, objet, publication_date
            order by amount_first_position) as amount_rank
    from same_day_amounts
),
object_variants as (
    -- a variant: one object (and its amount rank) in one file and signature, named by the
    -- position where it first appears
    select
        *,
        min(position) over (partition by base_uid, file_id, signature, objet, amount_rank)
            as variant_position
    from amount_ranks
),
variants as (
    select
        base_uid, file_id, signature, variant_position,
        any_value(objet) as objet,
        list(distinct amount) filter (where amount is not null) as amounts,
        any_value(lot_number) as lot_number
    from object_variants
    group by base_uid, file_id, signature, variant_position
),
links as (
    -- two objects of one file and signature sharing an amount, their lot numbers not differing
    select a.base_uid, a.file_id, a.variant_position, b.variant_position as linked_position
    from variants as a
    join variants as b
        on a.base_uid = b.base_uid and a.file_id = b.file_id and a.signature = b.signature
        and a.objet is distinct from b.objet
        and list_has_any(a.amounts, b.amounts)
        and (a.lot_number is null or b.lot_number is null or a.lot_number = b.lot_number)
),
reached (base_uid, file_id, variant_position, start_position) as (
    -- every variant a linked variant reaches (both ways: links are symmetric)
    select base_uid, file_id, variant_position, variant_position from links
    union
    select reached.base_uid, reached.file_id, links.linked_position, reached.start_position
    from reached
    join links
        on links.base_uid = reached.base_uid and links.file_id = reached.file_id
        and links.variant_position = reached.variant_position
),
linked_groups as (
    select base_uid, file_id, variant_position, min(start_position) as group_position
    from reached
    group by all
),
grouped as (
    select
        variants.*,
        coalesce(linked_groups.group_position, variants.variant_position) as group_position
    from variants
    left join linked_groups using (base_uid, file_id, variant_position)
),
lot_checked as (
    select
        *,
        min(lot_number) over linked_group is distinct from max(lot_number) over linked_group
            as names_two_lots
    from grouped
    window linked_group as (partition by base_uid, file_id, group_position)
),
file_contracts as (
    -- the contract a variant belongs to within its file, named by its first position
    select
        *,
        case
            when not names_two_lots then group_position
            when lot_number is not null then min(variant_position) over (
                partition by base_uid, file_id, group_position, lot_number)
            else variant_position
        end as contract_position,
        names_two_lots and lot_number is null as lot_ambiguous
    from lot_checked
),
file_contracts_ranked as (
    select
        *,
        count(*) over (partition by base_uid, file_id, contract_position) > 1 as reworded,
        dense_rank() over (partition by base_uid, file_id, signature order by contract_position)
            as occurrence
    from file_contracts
),
record_contracts as (
    -- every repeated record, with the contract it belongs to in its file (named by its first
    -- position) and that contract's rank among those of its signature in the file
    select
        object_variants.base_uid, object_variants.file_id, object_variants.position,
        object_variants.signature, object_variants.lot_number, c.contract_position,
        c.occurrence, c.reworded, c.lot_ambiguous
    from object_variants
    join file_contracts_ranked as c using (base_uid, file_id, signature, variant_position)
    union all
    select
        base_uid, file_id, position, signature, null as lot_number, position, 1, false, false
    from repeated
    where records_in_file = 1
),
numbered as (
    select
        *,
        dense_rank() over (partition by base_uid order by signature, occurrence)
            as contract_number
    from record_contracts
),
taken_suffixes as (
    -- published ids of the form <id>#<digits>: the suffixes a generated uid of <id> must skip
    select regexp_extract(base_uid, '^(.*)#([0-9]+)$', 1) as base_uid,
           regexp_extract(base_uid, '^(.*)#([0-9]+)$', 2) as suffix
    from (select distinct base_uid from base_uids where contains(base_uid, '#'))
    where regexp_full_match(base_uid, '.*#[0-9]+')
),
shared_ids as (
    -- ids holding several contracts, with how many suffixes to look through
    select ids.base_uid, ids.contracts + count(taken_suffixes.suffix) as candidates
    from (
        select base_uid, max(contract_number) as contracts
        from numbered group by base_uid having max(contract_number) > 1
    ) as ids
    left join taken_suffixes using (base_uid)
    group by ids.base_uid, ids.contracts
),
free_suffixes as (
    -- the n-th contract of a shared id gets the n-th suffix no published id takes
    select base_uid, suffix, row_number() over (partition by base_uid order by suffix)
        as contract_number
    from (
        select base_uid, unnest(range(1, candidates + 1)) as suffix from shared_ids
    ) as candidates
    where not exists (
        select 1 from taken_suffixes
        where taken_suffixes.base_uid = candidates.base_uid
          and taken_suffixes.suffix = cast(candidates.suffix as varchar))
),
contract_evidence as (
    -- why each contract of a shared id is apart from the others
    select
        base_uid,
        contract_number,
        case
            when count(*) over same_signature = 1 then 'another notification date or holder'
            when lot_ambiguous then 'object matching several lots, kept apart'
            when lot_number is not null
                and min(lot_number) over same_signature <> max(lot_number) over same_signature
                then 'another lot number in the object'
            else 'another amount'
        end as apart_rule
    from (
        select base_uid, contract_number, any_value(signature) as signature,
               max(lot_number) as lot_number, bool_or(lot_ambiguous) as lot_ambiguous
        from numbered
        semi join shared_ids using (base_uid)
        group by base_uid, contract_number
    )
    window same_signature as (partition by base_uid, signature)
)
select
    numbered.file_id,
    numbered.position,
    numbered.base_uid,
    coalesce(numbered.base_uid || '#' || free_suffixes.suffix, numbered.base_uid) as uid,
    free_suffixes.suffix is not null as shared_id_group,
    case
        when free_suffixes.suffix is not null
            then contract_evidence.apart_rule
                 || case when numbered.reworded then '; reworded object, same amount' else '' end
        when numbered.reworded
            then 'reworded object: same notification date, holder SIREN and amount'
        else 'same id, notification date and holder'
    end as identity_rule
from numbered
left join free_suffixes using (base_uid, contract_number)
left join contract_evidence using (base_uid, contract_number);
