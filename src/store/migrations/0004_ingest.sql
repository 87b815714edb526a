-- Data providers, the bindings of their pseudonymous references to carbon accounts, the records
-- they send, and the reductions credited from them.

CREATE TABLE providers (
  id {{id}},
  provider_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  user_id BIGINT REFERENCES users (id),
  pseudonym_key TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE provider_regions (
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  region_code TEXT NOT NULL REFERENCES regions (code),
  PRIMARY KEY (provider_id, region_code)
);

CREATE TABLE provider_methodologies (
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  methodology_id TEXT NOT NULL,
  PRIMARY KEY (provider_id, methodology_id)
);

-- A reference binds to one account at a time: at most one active binding per (provider, ref).
CREATE TABLE bindings (
  id {{id}},
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  subject_ref TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unbound', 'cancelled')),
  code_hash TEXT,
  code_expires_at_ms BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  requested_by BIGINT REFERENCES users (id),
  created_at_ms BIGINT NOT NULL,
  confirmed_at_ms BIGINT,
  ended_at_ms BIGINT
);
CREATE UNIQUE INDEX bindings_one_active ON bindings (provider_id, subject_ref) WHERE status = 'active';
CREATE INDEX bindings_account ON bindings (account_id);

CREATE TABLE ingest_batches (
  id {{id}},
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  source TEXT NOT NULL,
  received_at_ms BIGINT NOT NULL,
  records INTEGER NOT NULL,
  credited INTEGER NOT NULL,
  duplicate INTEGER NOT NULL,
  held INTEGER NOT NULL,
  quarantined INTEGER NOT NULL,
  digest TEXT NOT NULL
);

-- Every record ever received, once per (provider, provider_record_id), with its outcome.
CREATE TABLE ingest_records (
  id {{id}},
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  provider_record_id TEXT NOT NULL,
  batch_id BIGINT NOT NULL REFERENCES ingest_batches (id),
  subject_ref TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  occurred_at_ms BIGINT NOT NULL,
  region_code TEXT NOT NULL,
  inputs_json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('credited', 'held', 'quarantined', 'rejected', 'expired')),
  reason TEXT NOT NULL DEFAULT '',
  account_id BIGINT REFERENCES carbon_accounts (id),
  received_at_ms BIGINT NOT NULL,
  decided_at_ms BIGINT,
  UNIQUE (provider_id, provider_record_id)
);
-- Almost every record ends credited; the indexes that find the others leave credited ones out, so
-- they stay small and cost crediting nothing. Queries that use them name the status literally.
CREATE INDEX ingest_records_provider_status ON ingest_records (provider_id, status) WHERE status <> 'credited';
CREATE INDEX ingest_records_held_ref ON ingest_records (provider_id, subject_ref) WHERE status = 'held';

-- A credited reduction: the grams and points a record earned, with the methodology version that
-- counted it and its explanation. Uncertified until a certification batch locks it.
CREATE TABLE reductions (
  id {{id}},
  record_id BIGINT NOT NULL UNIQUE REFERENCES ingest_records (id),
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  provider_id BIGINT NOT NULL REFERENCES providers (id),
  methodology_id TEXT NOT NULL,
  methodology_version INTEGER NOT NULL,
  domain TEXT NOT NULL,
  occurred_at_ms BIGINT NOT NULL,
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  grams BIGINT NOT NULL CHECK (grams >= 0),
  points BIGINT NOT NULL CHECK (points >= 0),
  cap_applied TEXT NOT NULL,
  explanation TEXT NOT NULL
);
-- One index serves an account's history, its days (a Shanghai day is a time range) and its trips.
CREATE INDEX reductions_account_time ON reductions (account_id, occurred_at_ms);

-- What each account has been credited per methodology per period, for caps: 'd:2026-03-01',
-- 'm:2026-03', 'y:2026'. Day rows also keep the day's per-input totals (JSON array) and the order
-- key of the latest record credited that day, so a record arriving out of order is noticed.
CREATE TABLE cap_usage (
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  methodology_id TEXT NOT NULL,
  period TEXT NOT NULL,
  grams BIGINT NOT NULL,
  input_totals TEXT NOT NULL DEFAULT '[]',
  last_key TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (account_id, methodology_id, period)
);
