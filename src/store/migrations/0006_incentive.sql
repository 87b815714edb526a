-- Incentives: the low-carbon merchant alliance (merchants, offers, vouchers) and public-service
-- benefits.
-- Points themselves move only through the ledger (journal_entries); these tables say why.

-- A business that applied to join the alliance. Approval grants the applicant the merchant role in
-- the region and opens the merchant's points account.
CREATE TABLE merchants (
  id {{id}},
  name TEXT NOT NULL,
  licence_no TEXT NOT NULL UNIQUE,
  category TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  address TEXT NOT NULL,
  contact TEXT NOT NULL,
  applicant_user_id BIGINT NOT NULL REFERENCES users (id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  decision_reason TEXT NOT NULL DEFAULT '',
  decided_by TEXT NOT NULL DEFAULT '',
  ledger_account_id BIGINT REFERENCES ledger_accounts (id),
  created_at_ms BIGINT NOT NULL,
  decided_at_ms BIGINT
);
CREATE INDEX merchants_region_status ON merchants (region_code, status);
CREATE INDEX merchants_applicant ON merchants (applicant_user_id);

-- An offer; issued counts vouchers handed out, so stock - issued is what is left. The UPDATE that
-- takes a unit checks issued < stock, which is what keeps concurrent redemptions from overselling.
CREATE TABLE offers (
  id {{id}},
  merchant_id BIGINT NOT NULL REFERENCES merchants (id),
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  image_url TEXT NOT NULL DEFAULT '',
  points_cost BIGINT NOT NULL CHECK (points_cost > 0),
  stock BIGINT NOT NULL CHECK (stock >= 0),
  issued BIGINT NOT NULL DEFAULT 0 CHECK (issued >= 0 AND issued <= stock),
  per_user_limit INTEGER NOT NULL CHECK (per_user_limit > 0),
  valid_from_ms BIGINT NOT NULL,
  valid_until_ms BIGINT NOT NULL,
  voucher_valid_days INTEGER NOT NULL CHECK (voucher_valid_days > 0),
  status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'ended')),
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX offers_merchant ON offers (merchant_id);

CREATE TABLE offer_regions (
  offer_id BIGINT NOT NULL REFERENCES offers (id),
  region_code TEXT NOT NULL REFERENCES regions (code),
  PRIMARY KEY (offer_id, region_code)
);

-- A voucher keeps what the resident bought (title, points) as it was, so an edit of the offer
-- never changes it. The code is 128 random bits, shown to its holder and scanned at the counter.
CREATE TABLE vouchers (
  id {{id}},
  code TEXT NOT NULL UNIQUE,
  offer_id BIGINT NOT NULL REFERENCES offers (id),
  merchant_id BIGINT NOT NULL REFERENCES merchants (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL,
  points BIGINT NOT NULL CHECK (points > 0),
  status TEXT NOT NULL CHECK (status IN ('issued', 'used', 'expired', 'cancelled')),
  issued_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  used_at_ms BIGINT,
  ended_at_ms BIGINT,
  request_key TEXT NOT NULL,
  redeem_entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
  refund_entry_id BIGINT REFERENCES journal_entries (id),
  UNIQUE (user_id, request_key)
);
CREATE INDEX vouchers_offer_user ON vouchers (offer_id, user_id);
CREATE INDEX vouchers_user ON vouchers (user_id);
CREATE INDEX vouchers_merchant_issued ON vouchers (merchant_id, issued_at_ms);
CREATE INDEX vouchers_open_expiry ON vouchers (expires_at_ms) WHERE status = 'issued';

-- A public-service benefit a region offers for points. fulfilment 'code' hands the resident an
-- entitlement code; 'webhook' asks the city's partner system, signed with webhook_secret.
CREATE TABLE benefit_policies (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES regions (code),
  kind TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  points_price BIGINT NOT NULL CHECK (points_price > 0),
  monthly_budget_units BIGINT NOT NULL CHECK (monthly_budget_units > 0),
  per_user_monthly_limit INTEGER NOT NULL CHECK (per_user_monthly_limit > 0),
  fulfilment TEXT NOT NULL CHECK (fulfilment IN ('code', 'webhook')),
  webhook_url TEXT NOT NULL DEFAULT '',
  webhook_secret TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- Units of a policy taken in a Shanghai month ('2026-03'); the guarded UPDATE keeps the budget.
CREATE TABLE benefit_budget_usage (
  policy_id BIGINT NOT NULL REFERENCES benefit_policies (id),
  month TEXT NOT NULL,
  units BIGINT NOT NULL CHECK (units >= 0),
  PRIMARY KEY (policy_id, month)
);

-- A resident's claim. 'pending' holds the points in the policy's hold account while the partner
-- is asked; 'fulfilled' keeps them, 'failed' has given them back.
CREATE TABLE benefit_claims (
  id {{id}},
  policy_id BIGINT NOT NULL REFERENCES benefit_policies (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  month TEXT NOT NULL,
  units BIGINT NOT NULL CHECK (units > 0),
  points BIGINT NOT NULL CHECK (points > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'fulfilled', 'failed')),
  request_key TEXT NOT NULL,
  entitlement_code TEXT NOT NULL DEFAULT '',
  partner_reference TEXT NOT NULL DEFAULT '',
  failure_reason TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  decided_at_ms BIGINT
);
CREATE UNIQUE INDEX benefit_claims_request ON benefit_claims (user_id, request_key);
CREATE INDEX benefit_claims_policy_user_month ON benefit_claims (policy_id, user_id, month);

-- Carbon credit card partners: banks registered by the province. Residents convert points into
-- the bank's card reward points at the published rate: rate_points points give rate_reward reward
-- points. export_secret signs the daily export and the bank's confirmations.
CREATE TABLE card_partners (
  id {{id}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  rate_points BIGINT NOT NULL CHECK (rate_points > 0),
  rate_reward BIGINT NOT NULL CHECK (rate_reward > 0),
  export_secret TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- A resident's card at a partner, by the tokenized reference the bank provides (never a card
-- number). A token is linked to one resident at a time.
CREATE TABLE card_links (
  id {{id}},
  partner_id BIGINT NOT NULL REFERENCES card_partners (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  card_token TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'unlinked')),
  created_at_ms BIGINT NOT NULL,
  unlinked_at_ms BIGINT
);
CREATE UNIQUE INDEX card_links_active_token ON card_links (partner_id, card_token)
  WHERE status = 'active';
CREATE INDEX card_links_user ON card_links (user_id);

-- A conversion: points moved resident -> card-partner:ID in entry_id at the rate of the moment.
-- pending until the day's export, exported until the bank's confirmation reconciles it as
-- confirmed (kept) or rejected (refund_entry_id gives the points back).
CREATE TABLE card_conversions (
  id {{id}},
  link_id BIGINT NOT NULL REFERENCES card_links (id),
  partner_id BIGINT NOT NULL REFERENCES card_partners (id),
  user_id BIGINT NOT NULL REFERENCES users (id),
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  points BIGINT NOT NULL CHECK (points > 0),
  reward_points BIGINT NOT NULL CHECK (reward_points > 0),
  rate_points BIGINT NOT NULL,
  rate_reward BIGINT NOT NULL,
  day TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'exported', 'confirmed', 'rejected')),
  request_key TEXT NOT NULL,
  entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
  refund_entry_id BIGINT REFERENCES journal_entries (id),
  bank_reference TEXT NOT NULL DEFAULT '',
  bank_reason TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  reconciled_at_ms BIGINT,
  UNIQUE (user_id, request_key)
);
CREATE INDEX card_conversions_partner_day ON card_conversions (partner_id, day);

-- The signed daily export per partner, kept byte for byte so a second download is identical, and
-- the outcome of the bank's confirmation file.
CREATE TABLE card_exports (
  partner_id BIGINT NOT NULL REFERENCES card_partners (id),
  day TEXT NOT NULL,
  body TEXT NOT NULL,
  signature TEXT NOT NULL,
  conversions BIGINT NOT NULL,
  points BIGINT NOT NULL,
  reward_points BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  reconciled_at_ms BIGINT,
  discrepancies TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (partner_id, day)
);

-- Communities (社区) residents join for their community's leaderboard; a region admin creates them.
CREATE TABLE communities (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES regions (code),
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (region_code, name)
);

-- A resident's public face on leaderboards. Privacy by default: a resident without a row, or
-- with listed = 0, appears on no leaderboard; a listed one appears by nickname only.
CREATE TABLE ranking_profiles (
  user_id BIGINT PRIMARY KEY REFERENCES users (id),
  nickname TEXT NOT NULL UNIQUE,
  listed INTEGER NOT NULL CHECK (listed IN (0, 1)),
  community_id BIGINT REFERENCES communities (id),
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX ranking_profiles_community ON ranking_profiles (community_id);

-- Points expiry (oldest first). A notice announces, in the account, the points that will expire at
-- the end of a cohort's term; the expiry itself is a ledger posting to points-expired, recorded
-- here once per account and last cohort year it covers.
CREATE TABLE points_expiry_notices (
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  cohort_year INTEGER NOT NULL,
  points BIGINT NOT NULL CHECK (points > 0),
  expires_at_ms BIGINT NOT NULL,
  noticed_at_ms BIGINT NOT NULL,
  PRIMARY KEY (ledger_account_id, cohort_year)
);

CREATE TABLE points_expiries (
  ledger_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
  cohort_year INTEGER NOT NULL,
  day TEXT NOT NULL,
  points BIGINT NOT NULL CHECK (points > 0),
  entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
  expired_at_ms BIGINT NOT NULL,
  PRIMARY KEY (ledger_account_id, cohort_year, day)
);
