-- The market journal's writer-behind (market/journal_applier.h): how far it has applied each
-- journal, stored in the same transaction as what it applied so that a restart applies every
-- record exactly once, and which market order each journalled order became.
CREATE TABLE market_journal_applied (
  journal TEXT PRIMARY KEY,
  last_seq BIGINT NOT NULL CHECK (last_seq >= 0),
  updated_at_ms BIGINT NOT NULL
);

CREATE TABLE market_journal_orders (
  journal TEXT NOT NULL,
  journal_order_id BIGINT NOT NULL,
  order_id BIGINT NOT NULL UNIQUE REFERENCES market_orders (id),
  PRIMARY KEY (journal, journal_order_id)
);
