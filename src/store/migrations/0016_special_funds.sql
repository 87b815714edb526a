-- Provincial low-carbon special funds for pilot projects: a pilot region applies for a project,
-- the province grants (or rejects) an amount and records each disbursement (docs/pilots.md).

CREATE TABLE fund_projects (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES pilots (region_code),
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  task TEXT NOT NULL,
  year INTEGER NOT NULL,
  requested_fen BIGINT NOT NULL CHECK (requested_fen > 0),
  state TEXT NOT NULL CHECK (state IN ('applied', 'granted', 'rejected')),
  granted_fen BIGINT NOT NULL DEFAULT 0 CHECK (granted_fen >= 0),
  decision_reason TEXT NOT NULL DEFAULT '',
  applied_by TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at_ms BIGINT
);
CREATE INDEX fund_projects_region ON fund_projects (region_code, year);

CREATE TABLE fund_disbursements (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES fund_projects (id),
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  paid_on TEXT NOT NULL,
  reference TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at_ms BIGINT NOT NULL
);
CREATE INDEX fund_disbursements_project ON fund_disbursements (project_id, id);
