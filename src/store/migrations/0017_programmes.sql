-- Low-carbon creation programmes (低碳社区、园区、交通、校园、酒店、景区): the province publishes a
-- versioned criteria set per programme type; an entity applies with evidence per indicator; the
-- region admin scores, awards a title with a validity period or rejects; titles are listed
-- publicly and may be revoked (docs/pilots.md).

-- A criteria set: indicators with weights and minimum scores, a pass mark and the validity of a
-- title. Drafts are edited; a published set is immutable and supersedes the type's previous one.
CREATE TABLE programme_criteria (
  id {{id}},
  programme_type TEXT NOT NULL CHECK (programme_type IN
    ('community', 'park', 'transport', 'campus', 'hotel', 'scenic_area')),
  version INTEGER NOT NULL CHECK (version > 0),
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'superseded')),
  indicators_json TEXT NOT NULL,
  pass_mark INTEGER NOT NULL CHECK (pass_mark BETWEEN 0 AND 100),
  validity_months INTEGER NOT NULL CHECK (validity_months BETWEEN 1 AND 120),
  drafted_by TEXT NOT NULL,
  drafted_at_ms BIGINT NOT NULL,
  published_by TEXT NOT NULL DEFAULT '',
  published_at_ms BIGINT,
  superseded_at_ms BIGINT,
  UNIQUE (programme_type, version)
);
-- One set in force per type, whatever two publishers do at once.
CREATE UNIQUE INDEX programme_criteria_one_published ON programme_criteria (programme_type)
  WHERE state = 'published';

-- An entity's application under one criteria version, from draft to decision.
CREATE TABLE programme_applications (
  id {{id}},
  criteria_id BIGINT NOT NULL REFERENCES programme_criteria (id),
  programme_type TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'scored', 'awarded', 'rejected')),
  entity_name TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  address TEXT NOT NULL,
  lon_micro BIGINT,
  lat_micro BIGINT,
  contact TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  applicant_user_id BIGINT NOT NULL REFERENCES users (id),
  submitted_at_ms BIGINT,
  scores_json TEXT,
  total_milli BIGINT,
  passed INTEGER,
  score_comment TEXT NOT NULL DEFAULT '',
  scored_by TEXT NOT NULL DEFAULT '',
  scored_at_ms BIGINT,
  decision_reason TEXT NOT NULL DEFAULT '',
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at_ms BIGINT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX programme_applications_region ON programme_applications (region_code, state);
CREATE INDEX programme_applications_applicant ON programme_applications (applicant_user_id);

-- PDF evidence of an indicator (base64 of the file, at most 5 MiB each).
CREATE TABLE programme_attachments (
  id {{id}},
  application_id BIGINT NOT NULL REFERENCES programme_applications (id),
  indicator_key TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes BIGINT NOT NULL CHECK (bytes > 0),
  content_base64 TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at_ms BIGINT NOT NULL
);
CREATE INDEX programme_attachments_application ON programme_attachments (application_id, id);

-- Awarded titles: one per application, valid from the award day to valid_until inclusive
-- (Asia/Shanghai days), unless revoked.
CREATE TABLE programme_titles (
  id {{id}},
  application_id BIGINT NOT NULL UNIQUE REFERENCES programme_applications (id),
  criteria_id BIGINT NOT NULL REFERENCES programme_criteria (id),
  programme_type TEXT NOT NULL,
  entity_name TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  address TEXT NOT NULL,
  lon_micro BIGINT,
  lat_micro BIGINT,
  total_milli BIGINT NOT NULL,
  awarded_on TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  awarded_by TEXT NOT NULL,
  awarded_at_ms BIGINT NOT NULL,
  revoked_reason TEXT NOT NULL DEFAULT '',
  revoked_by TEXT NOT NULL DEFAULT '',
  revoked_at_ms BIGINT
);
CREATE INDEX programme_titles_type_region ON programme_titles (programme_type, region_code);
