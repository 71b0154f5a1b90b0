-- ref_obligation_rules: the rules of the obligations in force since 21 August 2026 (loi Climat et
-- Résilience, art. 35; décret n° 2022-767), each with its legal source: entry into force, which
-- contracts they apply to, exclusions, and which consideration kinds satisfy them.
-- Grain: one row per rule. Source: pipelines/reference/obligation_rules.csv (read by
-- sql/indicators/contract_obligations.sql; change the CSV, not the SQL, when the law changes).
-- rule: entry_into_force (value: ISO date) | applies_to_kind (marche | concession) |
--   eu_threshold (the obligation applies from the EU threshold, ref_eu_thresholds) |
--   excluded_nature (a DECP nature, compared by spelling_key) | required_kind (a consideration
--   kind, clause | critere | reserve, that satisfies its requirement_group: an obligation is met
--   when every group it has is met by one of its kinds) | group_waived_for_procedure (a DECP
--   procedure for which a requirement_group is not asked).
create or replace table ref_obligation_rules as
select rule_id, obligation, rule, value, nullif(requirement_group, '') as requirement_group,
    legal_source, nullif(note, '') as note
from read_csv($path, header = true, all_varchar = true);
