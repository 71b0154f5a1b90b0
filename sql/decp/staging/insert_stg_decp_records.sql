-- Usable records of the current batch into stg_decp_records (all versions, before deduplication).
-- Grain: one row per record. Source: batch_records; the complement of insert_ingest_rejects.sql.
insert into stg_decp_records by name
select
    file_id, position, record_kind, format_version, contract_id, buyer_id, buyer_name, nature,
    objet, cpv_code, procedure, duration_months_text, notification_date_text,
    publication_date_text, amount_text, place_code, place_type_code, framework_id, social_raw,
    environmental_raw, techniques_raw, execution_modalities_raw, publisher, holders,
    first_holder_id, modifications, source_rows, subcontracting
from batch_records
where record_json_type = 'OBJECT' and contract_id is not null and buyer_id is not null;
