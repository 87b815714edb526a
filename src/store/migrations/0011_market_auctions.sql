-- One-way auctions (单向竞价), reshaped before first use: 0007 created the two tables but nothing
-- wrote to them. An announcer sells (or buys) a quantity with a reserve price and a window;
-- members' sealed bids (amendable and withdrawable until the close) clear at the close by price
-- (best for the announcer first) then time, pay-as-bid, each fill settled like a listed trade.
DROP TABLE market_auction_bids;
DROP TABLE market_auctions;

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
  -- The published result, set at the clearing.
  cleared_quantity BIGINT NOT NULL DEFAULT 0,
  cleared_amount_fen BIGINT NOT NULL DEFAULT 0,
  low_price_fen BIGINT,
  high_price_fen BIGINT,
  bids_count BIGINT NOT NULL DEFAULT 0,
  closed_at_ms BIGINT,
  closed_by TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  announced_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  CHECK (opens_at_ms < closes_at_ms),
  CHECK (cleared_quantity >= 0 AND cleared_quantity <= quantity)
);
CREATE INDEX market_auctions_state_close ON market_auctions (state, closes_at_ms);
CREATE INDEX market_auctions_announcer ON market_auctions (announcer_member_id, state);

-- A sealed bid (in a sell auction) or offer (in a buy auction). seq is its time priority: a new
-- price or more units takes a new one. A sealed bid reserves the bidder's cash (bids) or units
-- (offers) until the clearing.
CREATE TABLE market_auction_bids (
  id {{id}},
  auction_id BIGINT NOT NULL REFERENCES market_auctions (id),
  member_id BIGINT NOT NULL REFERENCES market_members (id),
  price_fen BIGINT NOT NULL CHECK (price_fen > 0),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  seq BIGINT NOT NULL,
  filled BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL
    CHECK (state IN ('sealed', 'withdrawn', 'won', 'partly_won', 'lost', 'cancelled')),
  trade_id BIGINT REFERENCES market_trades (id),
  idempotency_key TEXT NOT NULL UNIQUE,
  placed_by TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  CHECK (filled >= 0 AND filled <= quantity)
);
CREATE INDEX market_auction_bids_auction ON market_auction_bids (auction_id, state, price_fen, seq);
CREATE INDEX market_auction_bids_member ON market_auction_bids (member_id, state);

-- Listed orders on every write: the next time priority (MAX(seq)) and the day orders due to
-- expire are found by index rather than by reading every order.
CREATE INDEX market_orders_seq ON market_orders (seq);
CREATE INDEX market_orders_open_day ON market_orders (trading_day)
  WHERE state = 'open' AND time_in_force = 'day';
