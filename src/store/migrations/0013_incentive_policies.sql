-- Incentives, second part: the stored points expiry policy, bank partners' signed confirmation
-- API, and the leaderboard rollup.

-- Versions of the points expiry policy: the province's default (region_code = the province) and
-- overrides per city or county. A version governs from effective_from on; versions are never
-- edited or deleted, so the history of what applied when stays. Rules: docs/incentives.md.
CREATE TABLE points_expiry_policies (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES regions (code),
  version INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('year_end', 'months', 'never')),
  term INTEGER NOT NULL CHECK (term >= 0),
  notice_days INTEGER NOT NULL CHECK (notice_days > 0),
  effective_from_ms BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (region_code, version)
);

-- A notice now says exactly which points it covers and under which policy version (0: the
-- built-in default); notices written before this migration leave them NULL.
ALTER TABLE points_expiry_notices ADD COLUMN credited_before_ms BIGINT;
ALTER TABLE points_expiry_notices ADD COLUMN policy_id BIGINT;

-- Nonces of bank partners' signed API requests, kept for twice the allowed clock skew so a
-- captured request cannot be replayed.
CREATE TABLE card_partner_nonces (
  partner_id BIGINT NOT NULL REFERENCES card_partners (id),
  nonce TEXT NOT NULL,
  seen_at_ms BIGINT NOT NULL,
  PRIMARY KEY (partner_id, nonce)
);
-- How a conversion was decided: 'file' (reconciliation upload) or 'api' (the bank's system).
ALTER TABLE card_conversions ADD COLUMN decided_via TEXT;

-- Leaderboard rollup, kept by an incremental refresh that reads reductions past a watermark (not
-- by ingest): person accounts' grams and reductions per Shanghai day, and per period ('w:' and
-- the Monday of the week, 'm:YYYY-MM', 'all') with the owner and the account's region, so a board
-- is one index range of ranking_totals.
CREATE TABLE ranking_daily (
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  day TEXT NOT NULL,
  grams BIGINT NOT NULL,
  reductions BIGINT NOT NULL,
  PRIMARY KEY (account_id, day)
);
-- listed mirrors the owner's profile (kept by the profile's changes), so a board and a rank count
-- are one range of ranking_totals_board without visiting the profiles.
CREATE TABLE ranking_totals (
  period TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES carbon_accounts (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  region_code TEXT NOT NULL,
  listed INTEGER NOT NULL CHECK (listed IN (0, 1)),
  grams BIGINT NOT NULL,
  reductions BIGINT NOT NULL,
  PRIMARY KEY (period, account_id)
);
CREATE INDEX ranking_totals_board ON ranking_totals (period, listed, grams, region_code);
CREATE INDEX ranking_totals_account ON ranking_totals (account_id);
-- The refresh's state: every reduction with id <= watermark has been summed, except the ids in
-- ranking_refresh_gaps (ids skipped while their transaction had not committed), re-read until
-- they appear or are older than the grace period (a rolled-back transaction's ids never do).
CREATE TABLE ranking_refresh (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  watermark BIGINT NOT NULL,
  refreshed_at_ms BIGINT NOT NULL
);
INSERT INTO ranking_refresh (id, watermark, refreshed_at_ms) VALUES (1, 0, 0);
CREATE TABLE ranking_refresh_gaps (
  from_id BIGINT PRIMARY KEY,
  to_id BIGINT NOT NULL,
  seen_at_ms BIGINT NOT NULL
);
