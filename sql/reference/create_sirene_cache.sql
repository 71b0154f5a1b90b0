-- sirene_cache: every SIRENE answer ever received, found or not (one row per SIRET looked up).
-- Grain: one buyer establishment (SIRET). Source: the public search API (recherche-entreprises)
-- or an INSEE stock file (pipelines/reference/sirene.py). Created when the working database
-- opens: the contract model reads it, even when empty.
create table if not exists sirene_cache (
    siret varchar primary key,
    found boolean not null,
    siren varchar,
    name varchar,
    legal_category varchar,
    commune_code varchar,
    postal_code varchar,
    departement_code varchar,
    source varchar not null,  -- 'api' | 'stock'
    http_status integer,
    fetched_at timestamp not null  -- UTC
)
