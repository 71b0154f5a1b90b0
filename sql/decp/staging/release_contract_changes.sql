-- The contracts of a new snapshot release against the release it replaces: how many it has,
-- how many the previous release had not (added), how many of the previous release's it no
-- longer has (removed: the source withdrew them).
-- Grain: one row. Source: stg_decp_records, both releases staged ($new_file, $previous_file;
-- a null previous file: the source's first release). A contract is its identity as published,
-- contract_base_uid(buyer SIRET, id); records without buyer or id name no contract.
with new_release as (
    select distinct contract_base_uid(buyer_id, contract_id) as base_uid
    from stg_decp_records
    where file_id = $new_file and buyer_id is not null and contract_id is not null
),
previous_release as (
    select distinct contract_base_uid(buyer_id, contract_id) as base_uid
    from stg_decp_records
    where file_id = $previous_file and buyer_id is not null and contract_id is not null
)
select
    (select count(*) from new_release) as contracts,
    (select count(*) from new_release anti join previous_release using (base_uid)) as added,
    (select count(*) from previous_release anti join new_release using (base_uid)) as removed;
