-- Target-responsibility assessment of the cities (目标责任考核, docs/assessment.md): the province
-- sets a year's scheme (indicators from a fixed catalogue, weights, scoring rules) and the cities'
-- resident populations with their source; a computed run keeps every figure, score and the query
-- that produced it; the province publishes one run per year, after which the year is frozen.

-- A year's scheme, editable until a run of the year is published.
CREATE TABLE assessment_schemes (
  year INTEGER PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
  indicators_json TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- Resident population of a city for a year, as the province entered it, with its source.
CREATE TABLE assessment_populations (
  year INTEGER NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  residents BIGINT NOT NULL CHECK (residents > 0),
  source TEXT NOT NULL,
  entered_by TEXT NOT NULL,
  entered_at_ms BIGINT NOT NULL,
  PRIMARY KEY (year, region_code)
);

-- A computed run: the scheme and populations it used, frozen with it; published at most once a
-- year, and never changed afterwards.
CREATE TABLE assessment_runs (
  id {{id}},
  year INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('computed', 'published')),
  scheme_json TEXT NOT NULL,
  populations_json TEXT NOT NULL,
  period_from TEXT NOT NULL,
  period_until TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  computed_by TEXT NOT NULL,
  computed_at_ms BIGINT NOT NULL,
  published_by TEXT NOT NULL DEFAULT '',
  published_at_ms BIGINT
);
CREATE INDEX assessment_runs_year ON assessment_runs (year, id);
CREATE UNIQUE INDEX assessment_runs_one_published ON assessment_runs (year)
  WHERE state = 'published';

-- One city's total and rank in a run.
CREATE TABLE assessment_city_totals (
  run_id BIGINT NOT NULL REFERENCES assessment_runs (id),
  region_code TEXT NOT NULL REFERENCES regions (code),
  total_milli BIGINT NOT NULL CHECK (total_milli BETWEEN 0 AND 100000),
  city_rank INTEGER NOT NULL CHECK (city_rank > 0),
  PRIMARY KEY (run_id, region_code)
);

-- One city × indicator of a run: the raw figure and score in thousandths, and the source query.
CREATE TABLE assessment_results (
  run_id BIGINT NOT NULL REFERENCES assessment_runs (id),
  region_code TEXT NOT NULL REFERENCES regions (code),
  indicator_key TEXT NOT NULL,
  figure_milli BIGINT NOT NULL,
  score_milli BIGINT NOT NULL CHECK (score_milli >= 0),
  note TEXT NOT NULL,
  source_json TEXT NOT NULL,
  PRIMARY KEY (run_id, region_code, indicator_key)
);
