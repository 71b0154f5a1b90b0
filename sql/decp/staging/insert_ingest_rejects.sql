-- Records of the current batch that cannot be used: no contract id, no buyer id, or not an object.
-- Grain: one row per rejected record. Source: batch_records. Kept for analysts in ingest_rejects.
insert into ingest_rejects (file_id, position, reason, raw_excerpt)
select
    file_id,
    position,
    case
        when record_json_type <> 'OBJECT' then 'record is not a JSON object'
        when contract_id is null then 'missing contract id (id)'
        else 'missing buyer id (acheteur.id / autoriteConcedante.id)'
    end as reason,
    raw_excerpt
from batch_records
where record_json_type <> 'OBJECT' or contract_id is null or buyer_id is null;
