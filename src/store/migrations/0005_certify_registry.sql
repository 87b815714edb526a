-- Certification batches and the PHCER registry.

-- Registry accounts: each region's operator, enterprises, exchange members, verified individuals,
-- the buffer pool and the province. account_no is the public name of an account.
CREATE TABLE registry_accounts (
  id {{id}},
  account_no TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('operator', 'enterprise', 'exchange_member', 'individual', 'buffer', 'province')),
  name TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
-- One operator per region; one buffer pool and one province account.
CREATE UNIQUE INDEX registry_accounts_one_operator ON registry_accounts (region_code) WHERE kind = 'operator';
CREATE UNIQUE INDEX registry_accounts_one_system ON registry_accounts (kind) WHERE kind IN ('buffer', 'province');

-- The users who may move an account's units.
CREATE TABLE registry_account_members (
  account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  added_at_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, user_id)
);
CREATE INDEX registry_account_members_user ON registry_account_members (user_id);

-- A certification batch: one methodology, one region (or the province), one vintage period inside
-- one calendar year. Its id is the batch number in serials.
CREATE TABLE certification_batches (
  id {{id}},
  methodology_id TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  vintage_from TEXT NOT NULL,
  vintage_until TEXT NOT NULL,
  vintage_year INTEGER NOT NULL,
  carbon_sink INTEGER NOT NULL CHECK (carbon_sink IN (0, 1)),
  operator_account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  state TEXT NOT NULL CHECK (state IN ('open', 'corrections_requested', 'approved', 'rejected', 'issued')),
  opened_by TEXT NOT NULL,
  opened_by_user_id BIGINT REFERENCES users (id),
  opened_at_ms BIGINT NOT NULL,
  notice_days_working INTEGER NOT NULL CHECK (notice_days_working >= 0),
  notice_until_ms BIGINT NOT NULL,
  sample_seed TEXT NOT NULL,
  report_json TEXT NOT NULL,
  records_locked BIGINT NOT NULL CHECK (records_locked >= 0),
  grams_locked BIGINT NOT NULL CHECK (grams_locked >= 0),
  verifier_user_id BIGINT REFERENCES users (id),
  verifier_name TEXT NOT NULL DEFAULT '',
  grams_approved BIGINT CHECK (grams_approved >= 0),
  decision_note TEXT NOT NULL DEFAULT '',
  carry_in_grams BIGINT,
  carry_out_grams BIGINT,
  units_issued BIGINT,
  buffer_units BIGINT,
  issued_at_ms BIGINT,
  updated_at_ms BIGINT NOT NULL,
  CHECK (vintage_from <= vintage_until),
  CHECK (state <> 'issued' OR (grams_approved IS NOT NULL AND units_issued IS NOT NULL
         AND carry_in_grams + grams_approved = units_issued * 1000000 + carry_out_grams))
);
CREATE INDEX certification_batches_state ON certification_batches (state, id);
CREATE INDEX certification_batches_scope ON certification_batches (region_code, methodology_id);

-- The reductions a batch has locked. The primary key is the reduction: a reduction is in at most
-- one batch, so no tonne is counted twice whatever the application does. A deduction or a
-- rejection deletes the row (recorded in batch_releases); an issued batch keeps its rows forever.
CREATE TABLE batch_reductions (
  reduction_id BIGINT PRIMARY KEY REFERENCES reductions (id),
  batch_id BIGINT NOT NULL REFERENCES certification_batches (id),
  grams BIGINT NOT NULL CHECK (grams >= 0)
);
CREATE INDEX batch_reductions_batch ON batch_reductions (batch_id);
-- How a batch finds its reductions.
CREATE INDEX reductions_methodology_day ON reductions (methodology_id, day);

-- Reductions that left a batch: deducted by the verifier or released by a rejection.
CREATE TABLE batch_releases (
  id {{id}},
  batch_id BIGINT NOT NULL REFERENCES certification_batches (id),
  reduction_id BIGINT NOT NULL REFERENCES reductions (id),
  grams BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('deducted', 'rejected')),
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  UNIQUE (batch_id, reduction_id)
);
CREATE INDEX batch_releases_reduction ON batch_releases (reduction_id);

-- Public comments during (and after) the notice period.
CREATE TABLE batch_comments (
  id {{id}},
  batch_id BIGINT NOT NULL REFERENCES certification_batches (id),
  author TEXT NOT NULL,
  user_id BIGINT REFERENCES users (id),
  body TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX batch_comments_batch ON batch_comments (batch_id, id);

-- The review trail: verifier assigned, corrections asked and answered, deductions, decisions.
CREATE TABLE batch_reviews (
  id {{id}},
  batch_id BIGINT NOT NULL REFERENCES certification_batches (id),
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX batch_reviews_batch ON batch_reviews (batch_id, id);

-- Grams short of a whole unit left by an issuance, per operator region and methodology; the next
-- issuance of the same methodology and region uses them first.
CREATE TABLE carry_overs (
  region_code TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  grams BIGINT NOT NULL CHECK (grams >= 0 AND grams < 1000000),
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (region_code, methodology_id)
);

-- What the registry issued for a batch: units 1..units, the last buffer_units of them to the buffer.
CREATE TABLE registry_issuances (
  batch_id BIGINT PRIMARY KEY REFERENCES certification_batches (id),
  region_code TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  vintage_year INTEGER NOT NULL,
  units BIGINT NOT NULL CHECK (units > 0),
  buffer_units BIGINT NOT NULL CHECK (buffer_units >= 0 AND buffer_units <= units),
  account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  issued_at_ms BIGINT NOT NULL
);

-- Every movement of units: issue, transfer, retire, cancel. The idempotency key makes a retried
-- request answer the first outcome; request_digest tells a retry from a different request.
CREATE TABLE registry_operations (
  id {{id}},
  idempotency_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('issue', 'transfer', 'retire', 'cancel')),
  from_account_id BIGINT REFERENCES registry_accounts (id),
  to_account_id BIGINT REFERENCES registry_accounts (id),
  units BIGINT NOT NULL CHECK (units > 0),
  reason TEXT NOT NULL DEFAULT '',
  beneficiary TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  request_digest TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX registry_operations_kind ON registry_operations (kind, id);

-- The serial ranges each operation moved.
CREATE TABLE registry_operation_blocks (
  operation_id BIGINT NOT NULL REFERENCES registry_operations (id),
  batch_id BIGINT NOT NULL REFERENCES registry_issuances (batch_id),
  first_unit BIGINT NOT NULL,
  last_unit BIGINT NOT NULL,
  PRIMARY KEY (operation_id, batch_id, first_unit)
);

-- Holdings: contiguous serial ranges of one batch, held by one account with one status. Moving
-- part of a block shrinks it and adds a block for the part moved; operation_id is the operation
-- that last changed the block (for a retired block, its retirement).
CREATE TABLE serial_blocks (
  id {{id}},
  batch_id BIGINT NOT NULL REFERENCES registry_issuances (batch_id),
  first_unit BIGINT NOT NULL CHECK (first_unit >= 1),
  last_unit BIGINT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  status TEXT NOT NULL CHECK (status IN ('held', 'retired', 'cancelled')),
  operation_id BIGINT NOT NULL REFERENCES registry_operations (id),
  CHECK (last_unit >= first_unit),
  UNIQUE (batch_id, first_unit),
  UNIQUE (batch_id, last_unit)
);
CREATE INDEX serial_blocks_account ON serial_blocks (account_id, status, batch_id, first_unit);
