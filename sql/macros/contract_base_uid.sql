-- contract_base_uid(buyer_id, contract_id): a contract's identity as published: the buyer's
-- SIRET (spaces removed) followed by the contract id, as decp-processing's uid. Contracts
-- sharing one published id get a suffix on top of it (sql/decp/contracts/contract_identities.sql).
-- Grain: one call per record.
create or replace macro contract_base_uid(buyer_id, contract_id) as (
    regexp_replace(buyer_id, '\s', '', 'g') || contract_id
);
