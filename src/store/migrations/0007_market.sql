-- PHCER trading (products, members, the cash ledger, orders, trades, block agreements, one-way
-- auctions), the ETS offset link and carbon-neutral events.

-- A tradable product: the PHCER of one methodology, optionally of one region and vintage range.
-- region_code '' and vintage 0 mean any. reference_price_fen is the close before the first trade.
CREATE TABLE market_products (
  id {{id}},
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  region_code TEXT NOT NULL DEFAULT '',
  vintage_from INTEGER NOT NULL DEFAULT 0,
  vintage_to INTEGER NOT NULL DEFAULT 0,
  effective_from_ms BIGINT NOT NULL,
  suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
  reference_price_fen BIGINT NOT NULL CHECK (reference_price_fen > 0),
  sessions TEXT NOT NULL,
  block_min_units BIGINT NOT NULL CHECK (block_min_units > 0),
  fee_bp INTEGER NOT NULL CHECK (fee_bp >= 0 AND fee_bp <= 1000),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- An exchange member: a registry account for units and a cash ledger account in fen.
CREATE TABLE market_members (
  id {{id}},
  registry_account_id BIGINT NOT NULL UNIQUE REFERENCES registry_accounts (id),
  cash_account_id BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('enterprise', 'institution', 'individual', 'exchange')),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- The cash ledger: double-entry in fen, like the points ledger.
CREATE TABLE market_cash_accounts (
  id {{id}},
  code TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  allow_negative INTEGER NOT NULL CHECK (allow_negative IN (0, 1)),
  balance BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  CHECK (allow_negative = 1 OR balance >= 0)
);
CREATE TABLE market_cash_entries (
  id {{id}},
  idempotency_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  memo TEXT NOT NULL,
  legs_digest TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE TABLE market_cash_postings (
  entry_id BIGINT NOT NULL REFERENCES market_cash_entries (id),
  account_id BIGINT NOT NULL REFERENCES market_cash_accounts (id),
  amount BIGINT NOT NULL,
  PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX market_cash_postings_account ON market_cash_postings (account_id);

-- Listed orders. The table is the journal the books are rebuilt from: an order is written before
-- it is acknowledged, and every fill, cancel, amend and expiry updates it in the same commit.
CREATE TABLE market_orders (
  id {{id}},
  product_id BIGINT NOT NULL REFERENCES market_products (id),
  member_id BIGINT NOT NULL REFERENCES market_members (id),
  side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  price_fen BIGINT NOT NULL CHECK (price_fen > 0),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  remaining BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= quantity),
  time_in_force TEXT NOT NULL CHECK (time_in_force IN ('day', 'gtc')),
  state TEXT NOT NULL CHECK (state IN ('open', 'filled', 'cancelled', 'expired')),
  trading_day TEXT NOT NULL,
  seq BIGINT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  placed_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX market_orders_open ON market_orders (product_id, state, seq);
CREATE INDEX market_orders_member ON market_orders (member_id, state);

-- Every trade, whatever the mode, with both legs of its settlement.
CREATE TABLE market_trades (
  id {{id}},
  product_id BIGINT NOT NULL REFERENCES market_products (id),
  mode TEXT NOT NULL CHECK (mode IN ('listed', 'block', 'auction')),
  buyer_member_id BIGINT NOT NULL REFERENCES market_members (id),
  seller_member_id BIGINT NOT NULL REFERENCES market_members (id),
  buy_order_id BIGINT,
  sell_order_id BIGINT,
  price_fen BIGINT NOT NULL CHECK (price_fen > 0),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  amount_fen BIGINT NOT NULL,
  buyer_fee_fen BIGINT NOT NULL,
  seller_fee_fen BIGINT NOT NULL,
  registry_operation_id BIGINT NOT NULL REFERENCES registry_operations (id),
  cash_entry_id BIGINT NOT NULL REFERENCES market_cash_entries (id),
  trading_day TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  CHECK (amount_fen = price_fen * quantity)
);
CREATE INDEX market_trades_product_day ON market_trades (product_id, trading_day, id);

-- Block agreements (大宗协议): the seller enters, the buyer confirms.
CREATE TABLE market_block_agreements (
  id {{id}},
  product_id BIGINT NOT NULL REFERENCES market_products (id),
  seller_member_id BIGINT NOT NULL REFERENCES market_members (id),
  buyer_member_id BIGINT NOT NULL REFERENCES market_members (id),
  price_fen BIGINT NOT NULL CHECK (price_fen > 0),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  state TEXT NOT NULL CHECK (state IN ('proposed', 'confirmed', 'declined', 'withdrawn', 'expired')),
  trading_day TEXT NOT NULL,
  trade_id BIGINT REFERENCES market_trades (id),
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- One-way auctions (单向竞价): one announcer sells (or buys) a quantity; sealed bids clear at the
-- close by price then time, pay-as-bid.
CREATE TABLE market_auctions (
  id {{id}},
  product_id BIGINT NOT NULL REFERENCES market_products (id),
  announcer_member_id BIGINT NOT NULL REFERENCES market_members (id),
  side TEXT NOT NULL CHECK (side IN ('sell', 'buy')),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  reserve_price_fen BIGINT NOT NULL CHECK (reserve_price_fen > 0),
  opens_at_ms BIGINT NOT NULL,
  closes_at_ms BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'cleared', 'cancelled')),
  cleared_quantity BIGINT NOT NULL DEFAULT 0,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL,
  CHECK (opens_at_ms < closes_at_ms)
);
CREATE TABLE market_auction_bids (
  id {{id}},
  auction_id BIGINT NOT NULL REFERENCES market_auctions (id),
  member_id BIGINT NOT NULL REFERENCES market_members (id),
  price_fen BIGINT NOT NULL CHECK (price_fen > 0),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  filled BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('sealed', 'won', 'partly_won', 'lost')),
  trade_id BIGINT REFERENCES market_trades (id),
  idempotency_key TEXT NOT NULL UNIQUE,
  at_ms BIGINT NOT NULL
);
CREATE INDEX market_auction_bids_auction ON market_auction_bids (auction_id, price_fen, id);

-- ETS: which PHCER may offset allowances, the rules per compliance year, enterprises' compliance
-- accounts and their surrenders.
CREATE TABLE ets_eligible_scopes (
  id {{id}},
  methodology_id TEXT NOT NULL,
  region_code TEXT NOT NULL DEFAULT '',
  vintage_from INTEGER NOT NULL DEFAULT 0,
  vintage_to INTEGER NOT NULL DEFAULT 0,
  effective_from_ms BIGINT NOT NULL,
  suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE ets_compliance_rules (
  year INTEGER PRIMARY KEY,
  max_offset_bp INTEGER NOT NULL CHECK (max_offset_bp >= 0 AND max_offset_bp <= 10000),
  min_home_province_bp INTEGER NOT NULL CHECK (min_home_province_bp >= 0 AND min_home_province_bp <= 10000),
  deadline_day TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at_ms BIGINT NOT NULL
);
CREATE TABLE ets_compliance_accounts (
  id {{id}},
  registry_account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  year INTEGER NOT NULL,
  verified_emissions_t BIGINT,
  allowances_surrendered_t BIGINT NOT NULL DEFAULT 0,
  phcer_surrendered_t BIGINT NOT NULL DEFAULT 0,
  phcer_home_province_t BIGINT NOT NULL DEFAULT 0,
  updated_at_ms BIGINT NOT NULL,
  UNIQUE (registry_account_id, year),
  CHECK (phcer_home_province_t <= phcer_surrendered_t)
);
CREATE TABLE ets_surrenders (
  id {{id}},
  compliance_account_id BIGINT NOT NULL REFERENCES ets_compliance_accounts (id),
  registry_operation_id BIGINT NOT NULL REFERENCES registry_operations (id),
  units BIGINT NOT NULL CHECK (units > 0),
  home_province_units BIGINT NOT NULL CHECK (home_province_units >= 0),
  idempotency_key TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX ets_surrenders_account ON ets_surrenders (compliance_account_id);

-- Carbon-neutral events: the footprint as computed, and the retirements that neutralise it.
CREATE TABLE neutral_events (
  id {{id}},
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  organiser_user_id BIGINT NOT NULL REFERENCES users (id),
  starts_on TEXT NOT NULL,
  ends_on TEXT NOT NULL,
  city TEXT NOT NULL,
  inputs_json TEXT NOT NULL,
  footprint_grams BIGINT NOT NULL CHECK (footprint_grams >= 0),
  explanation_json TEXT NOT NULL,
  units_required BIGINT NOT NULL CHECK (units_required >= 0),
  units_retired BIGINT NOT NULL DEFAULT 0,
  created_at_ms BIGINT NOT NULL,
  neutralised_at_ms BIGINT
);
CREATE TABLE neutral_event_retirements (
  event_id BIGINT NOT NULL REFERENCES neutral_events (id),
  registry_operation_id BIGINT NOT NULL REFERENCES registry_operations (id),
  units BIGINT NOT NULL CHECK (units > 0),
  PRIMARY KEY (event_id, registry_operation_id)
);
