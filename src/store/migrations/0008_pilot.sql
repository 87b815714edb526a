-- Pilot regions (application rounds, applications, reviews, designated pilots, quarterly progress)
-- and the province–city link (linked platforms, the province's inbox and aggregates, a city
-- node's outbox).

-- A call for pilot applications with its deadline and the rubric reviewers score against.
CREATE TABLE pilot_rounds (
  id {{id}},
  name TEXT NOT NULL,
  deadline_ms BIGINT NOT NULL,
  rubric_json TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

-- A region's implementation plan, from draft to decision.
CREATE TABLE pilot_applications (
  id {{id}},
  round_id BIGINT NOT NULL REFERENCES pilot_rounds (id),
  region_code TEXT NOT NULL REFERENCES regions (code),
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'in_review', 'approved', 'rejected')),
  plan_json TEXT NOT NULL,
  drafted_by TEXT NOT NULL,
  submitted_at_ms BIGINT,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at_ms BIGINT,
  decision_reason TEXT NOT NULL DEFAULT '',
  pilot_from TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
-- One application per region per round.
CREATE UNIQUE INDEX pilot_applications_one_per_round ON pilot_applications (round_id, region_code);

-- Reviewers the province assigned, with their rubric scores once they have scored.
CREATE TABLE pilot_reviews (
  application_id BIGINT NOT NULL REFERENCES pilot_applications (id),
  reviewer_user_id BIGINT NOT NULL REFERENCES users (id),
  assigned_by TEXT NOT NULL,
  assigned_at_ms BIGINT NOT NULL,
  scores_json TEXT,
  total_milli BIGINT,
  comment TEXT NOT NULL DEFAULT '',
  scored_at_ms BIGINT,
  PRIMARY KEY (application_id, reviewer_user_id)
);

-- Designated pilot regions: a region is a pilot from a day, by an approved application.
CREATE TABLE pilots (
  region_code TEXT PRIMARY KEY REFERENCES regions (code),
  application_id BIGINT NOT NULL REFERENCES pilot_applications (id),
  pilot_from TEXT NOT NULL,
  designated_at_ms BIGINT NOT NULL
);

-- A pilot's quarterly progress: figures measured by the platform beside the region's narrative.
CREATE TABLE pilot_progress_reports (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES pilots (region_code),
  year INTEGER NOT NULL,
  quarter INTEGER NOT NULL CHECK (quarter BETWEEN 1 AND 4),
  measured_json TEXT NOT NULL,
  targets_json TEXT NOT NULL,
  narrative TEXT NOT NULL,
  filed_by TEXT NOT NULL,
  filed_at_ms BIGINT NOT NULL,
  UNIQUE (region_code, year, quarter)
);

-- Platforms the province links with (a city node or a city's own system), by Ed25519 key.
CREATE TABLE link_platforms (
  id {{id}},
  name TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  public_key_hex TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  registered_by TEXT NOT NULL,
  registered_at_ms BIGINT NOT NULL
);

-- Every message the province accepted, once per message id, in order per stream.
CREATE TABLE link_inbox (
  id {{id}},
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  message_id TEXT NOT NULL,
  stream TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  body_digest TEXT NOT NULL,
  body_json TEXT NOT NULL,
  received_at_ms BIGINT NOT NULL,
  UNIQUE (platform_id, message_id),
  UNIQUE (platform_id, stream, seq)
);

-- The daily reduction aggregates linked platforms reported: the latest report of a day wins.
CREATE TABLE link_aggregates (
  platform_id BIGINT NOT NULL REFERENCES link_platforms (id),
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  methodology_version INTEGER NOT NULL,
  records BIGINT NOT NULL CHECK (records >= 0),
  subjects BIGINT NOT NULL CHECK (subjects >= 0),
  grams BIGINT NOT NULL CHECK (grams >= 0),
  records_digest TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (platform_id, day, region_code, methodology_id, methodology_version)
);

-- A city node's outgoing messages, sent at least once, in seq order per stream.
CREATE TABLE link_outbox (
  id {{id}},
  stream TEXT NOT NULL,
  seq BIGINT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  body_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  sent_at_ms BIGINT,
  UNIQUE (stream, seq)
);
CREATE INDEX link_outbox_pending ON link_outbox (state, stream, seq);

-- PDF attachments of an application's plan (base64 of the file, at most 5 MiB each).
CREATE TABLE pilot_attachments (
  id {{id}},
  application_id BIGINT NOT NULL REFERENCES pilot_applications (id),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes BIGINT NOT NULL CHECK (bytes > 0),
  content_base64 TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at_ms BIGINT NOT NULL
);
