-- Methodologies: the factor library, versions with their lifecycle, review comments, proposals.

CREATE TABLE emission_factors (
  factor_key TEXT PRIMARY KEY,
  value DOUBLE PRECISION NOT NULL,
  unit TEXT NOT NULL,
  year INTEGER NOT NULL,
  region TEXT NOT NULL,
  source TEXT NOT NULL,
  source_kind TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  updated_at_ms BIGINT NOT NULL
);

-- One row per methodology version. definition_toml is the text as written; factors_json is the
-- factor values and citations frozen when the version became active, so later edits of the
-- library never change what an active version computes.
CREATE TABLE methodology_versions (
  id {{id}},
  methodology_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'under_review', 'approved', 'rejected', 'active', 'retired')),
  scope TEXT NOT NULL,
  domain TEXT NOT NULL,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  effective_from TEXT NOT NULL,
  effective_until TEXT,
  definition_toml TEXT NOT NULL,
  factors_json TEXT,
  proposal_id BIGINT,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  decision_reason TEXT,
  UNIQUE (methodology_id, version)
);
CREATE INDEX methodology_versions_state ON methodology_versions (state, methodology_id);

CREATE TABLE methodology_comments (
  id {{id}},
  version_id BIGINT NOT NULL REFERENCES methodology_versions (id),
  author TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX methodology_comments_version ON methodology_comments (version_id, id);

CREATE TABLE methodology_proposals (
  id {{id}},
  title TEXT NOT NULL,
  domain TEXT NOT NULL,
  description TEXT NOT NULL,
  contact TEXT NOT NULL,
  proposer_user_id BIGINT REFERENCES users (id),
  region_code TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('proposed', 'drafted', 'declined')),
  created_at_ms BIGINT NOT NULL
);
