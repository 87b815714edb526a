-- The province–city link beyond daily aggregates (docs/link.md): methodology versions and
-- certification batches a linked platform submits, spot checks of the records behind an
-- aggregate, the province's signed feed to each platform, and a city node's copy of what the
-- province sent it.

-- Certification batches whose reductions live on a linked platform: the province reviews and
-- issues them from the platform's monitoring report; the records stay with the platform, which
-- proves them by the records digest (the batch's Merkle root on a city node of this platform).
CREATE TABLE linked_batches (
  batch_id BIGINT PRIMARY KEY REFERENCES certification_batches (id),
  source TEXT NOT NULL,
  source_batch_ref TEXT NOT NULL,
  records_digest TEXT NOT NULL,
  UNIQUE (source, source_batch_ref)
);

-- Methodology versions a platform submitted: each enters the methodology review flow as a
-- submitted draft, or is refused with the reason.
CREATE TABLE link_methodology_submissions (
  id {{id}},
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  message_id TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition_sha256 TEXT NOT NULL,
  version_row_id BIGINT REFERENCES methodology_versions (id),
  outcome TEXT NOT NULL CHECK (outcome IN ('submitted', 'refused')),
  reason TEXT NOT NULL DEFAULT '',
  received_at_ms BIGINT NOT NULL,
  UNIQUE (platform_id, message_id)
);

-- Certification batches a platform submitted for issuance: the province's batch, or the reason
-- it was refused.
CREATE TABLE link_batch_submissions (
  id {{id}},
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  message_id TEXT NOT NULL,
  city_batch_id BIGINT NOT NULL,
  batch_id BIGINT REFERENCES certification_batches (id),
  outcome TEXT NOT NULL CHECK (outcome IN ('submitted', 'refused')),
  reason TEXT NOT NULL DEFAULT '',
  received_at_ms BIGINT NOT NULL,
  UNIQUE (platform_id, message_id)
);
CREATE INDEX link_batch_submissions_city ON link_batch_submissions (platform_id, city_batch_id);

-- The province asks a platform for the records behind one aggregate and checks the answer
-- against the records digest it stored.
CREATE TABLE link_spot_checks (
  id {{id}},
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  methodology_version INTEGER NOT NULL,
  records_digest TEXT NOT NULL,
  records BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('requested', 'matched', 'mismatched')),
  findings_json TEXT NOT NULL DEFAULT '[]',
  answer_digest TEXT NOT NULL DEFAULT '',
  requested_by TEXT NOT NULL,
  requested_at_ms BIGINT NOT NULL,
  answered_at_ms BIGINT
);
CREATE INDEX link_spot_checks_platform ON link_spot_checks (platform_id, id);

-- The province's signed messages to each platform, in seq order per stream.
CREATE TABLE link_feed (
  id {{id}},
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  stream TEXT NOT NULL,
  seq BIGINT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  body_json TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  UNIQUE (platform_id, stream, seq)
);

-- What the province last sent a platform on each snapshot stream, item by item (key and the
-- SHA-256 of the item), so the next message carries only the changes.
CREATE TABLE link_feed_items (
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  stream TEXT NOT NULL,
  item_key TEXT NOT NULL,
  item_digest TEXT NOT NULL,
  PRIMARY KEY (platform_id, stream, item_key)
);

-- A city node: the province's messages it applied, once each and in order per stream.
CREATE TABLE link_city_inbox (
  stream TEXT NOT NULL,
  seq BIGINT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  body_digest TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL,
  PRIMARY KEY (stream, seq)
);

-- A city node's copy of the province's catalogue, province-wide offers and registry status of
-- its batches, item by item as the province's messages left them.
CREATE TABLE link_province_items (
  stream TEXT NOT NULL,
  item_key TEXT NOT NULL,
  item_json TEXT NOT NULL,
  message_id TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (stream, item_key)
);

-- A city node's settings learnt from the province: its platform id and the province's key,
-- pinned at first contact.
CREATE TABLE link_node_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The province's receipt of each delivered message (an outcome for submissions).
ALTER TABLE link_outbox ADD COLUMN receipt_json TEXT NOT NULL DEFAULT '';
-- The outcome the province's receipt carried for an accepted message, repeated to a duplicate.
ALTER TABLE link_inbox ADD COLUMN outcome_json TEXT NOT NULL DEFAULT '';
