-- A followed marché confirms its DECP contract's social consideration: contracts linked in
-- facilitator_decp_links get followed_by_facilitator = true and consideration_provenance
-- 'decp+facilitator' (declared in the DECP and followed) or 'facilitator' (followed but not
-- declared: under-declaration). social_status keeps what the DECP declares, so the headline
-- PNAD share stays the declared one; the followed contracts are counted beside it.
-- Idempotent: every contract is set from the current links (only changed rows are written).
update contracts
set
    followed_by_facilitator = linked.uid is not null,
    consideration_provenance = case
        when linked.uid is null then 'decp'
        when contracts.social_status = 'yes' then 'decp+facilitator'
        else 'facilitator'
    end
from (
    select contracts.uid as contract_uid, links.uid
    from contracts
    left join facilitator_decp_links as links on links.uid = contracts.uid
    where contracts.followed_by_facilitator or links.uid is not null
) as linked
where contracts.uid = linked.contract_uid;
