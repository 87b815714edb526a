-- Carbon accounts and the points ledger.

-- The points ledger is double-entry: every journal entry's postings sum to zero. balance is derived
-- (the sum of an account's postings), kept in the same transaction as each posting so reads are
-- cheap, and checked by verifyLedger.
CREATE TABLE ledger_accounts (
  id {{id}},
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  allow_negative INTEGER NOT NULL DEFAULT 0 CHECK (allow_negative IN (0, 1)),
  balance BIGINT NOT NULL DEFAULT 0,
  created_at_ms BIGINT NOT NULL,
  CHECK (allow_negative = 1 OR balance >= 0)
);

CREATE TABLE journal_entries (
  id {{id}},
  idempotency_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  memo TEXT NOT NULL DEFAULT '',
  legs_digest TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);

CREATE TABLE journal_postings (
  entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
  account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  amount BIGINT NOT NULL,
  PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX journal_postings_account ON journal_postings (account_id);

-- A carbon account: a person's, a household's or an enterprise's, with its points account.
CREATE TABLE carbon_accounts (
  id {{id}},
  kind TEXT NOT NULL CHECK (kind IN ('person', 'household', 'enterprise')),
  name TEXT NOT NULL,
  region_code TEXT NOT NULL,
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  created_at_ms BIGINT NOT NULL
);

-- Who belongs to an account: the person themself, a household's admin and members, an
-- enterprise's users. A user has at most one person account.
CREATE TABLE account_members (
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_members_user ON account_members (user_id);
