-- The canonical model of the facilitators' exports (ABC Clauses and spreadsheets).
-- Kept across runs: these tables are the record of what was loaded (the exports themselves hold
-- personal data and are not copied). Each row carries the file_id of the export it came from;
-- a replaced export's rows are deleted and the file stays listed with status 'replaced'.
-- No name or birth date is ever stored: participants appear only as keyed pseudonyms.

-- One row per export loaded. Accounting: rows_read = rows_loaded + rows_rejected.
create table if not exists facilitator_files (
    file_id varchar primary key,      -- first 32 hex digits of the export's SHA-256
    file_name varchar,                -- the name it was loaded under (never used as a path)
    facilitator varchar,              -- who sent it: the key of replacement, with the period
    period_start date,                -- first and last day of the hours it reports
    period_end date,
    layout varchar,                   -- the mapping used (preset, user file, or recognition)
    sheets varchar,
    ignored_columns varchar[],        -- columns present but not used (never personal data)
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    hours_worked double,
    status varchar,                   -- active | replaced
    replaced_by varchar,
    replaced_files varchar[],
    loaded_at timestamp
);

-- Operations (projects) of a maître d'ouvrage.
create table if not exists facilitator_operations (
    file_id varchar,
    operation_key varchar,            -- md5(facilitator | operation id or name or buyer)
    facilitator varchar,
    operation_id varchar,
    operation_name varchar,
    buyer_siret varchar,
    buyer_name varchar,
    buyer_type varchar,               -- commune, intercommunalite, ..., prive (NULL: not given)
    departement_code varchar          -- as given (checked against ref_departements downstream)
);

-- Marchés and lots followed, with their planned hours (over the marché's whole life).
create table if not exists facilitator_marches (
    file_id varchar,
    marche_key varchar,               -- md5(facilitator | marché id): stable across exports
    operation_key varchar,
    facilitator varchar,
    marche_id varchar,
    decp_id varchar,                  -- the buyer's DECP id when the facilitator knows it
    marche_object varchar,
    market_type varchar,              -- travaux | services | fournitures
    sector varchar,
    clause_category varchar,          -- execution | execution_et_critere | reserve_iae | ...
    notification_date date,
    amount double,
    hours_planned double
);

-- Participants' work contracts (one per participant, marché, employer, start and type).
create table if not exists facilitator_work_contracts (
    file_id varchar,
    work_contract_key varchar,
    marche_key varchar,
    participant_key varchar,          -- HMAC pseudonym (per-installation secret)
    employer_siret varchar,
    employer_name varchar,
    modality varchar,                 -- embauche_directe, etti, ai, geiq, ett, ei, aci, ...
    contract_type varchar,            -- cdi, cdd, alternance, cddi, interim_insertion, ...
    contract_start date,
    contract_end date,
    public_deld boolean,
    public_rsa boolean,
    public_th boolean,
    public_jeune boolean,
    public_senior boolean,
    public_qpv boolean,
    public_iae boolean,
    public_geiq boolean,
    exit_situation varchar
);

-- Hours worked, by the year they were worked (a line spanning years is split pro rata).
create table if not exists facilitator_hours_worked (
    file_id varchar,
    sheet varchar,
    line_number bigint,
    work_contract_key varchar,
    marche_key varchar,
    participant_key varchar,
    year integer,
    hours_worked double,
    attribution varchar               -- period | contract_dates | contract_start
);

-- Rows that could not be used, with their line and reason (the excerpt holds no personal data).
create table if not exists facilitator_rejects (
    file_id varchar,
    file_name varchar,
    sheet varchar,
    line_number bigint,
    reason varchar,
    excerpt varchar
);

-- Coded values an export uses that no vocabulary knows (the line is kept, the value is not:
-- a market type, clause category, buyer type or public left unrecognised). Unknown modalities
-- and contract types reject their line instead (facilitator_rejects).
create table if not exists facilitator_unrecognised_values (
    file_id varchar,
    field varchar,
    value varchar,
    lines bigint
);
