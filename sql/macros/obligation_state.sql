-- obligation_state(reason): whether a contract is subject to a 2026 obligation, from the reason
-- that decided it (sql/indicators/contract_obligations.sql): 'not_subject' for an exclusion, a
-- launch before the entry date or an amount below the EU threshold; 'subject' for a launch on or
-- after it (and above the threshold for the social obligation); 'undetermined' otherwise.
create or replace macro obligation_state(reason) as (
    case
        when reason in ('excluded_nature', 'kind_not_covered', 'launched_before',
                        'below_threshold') then 'not_subject'
        when reason = 'launched_after' then 'subject'
        else 'undetermined'
    end
);
