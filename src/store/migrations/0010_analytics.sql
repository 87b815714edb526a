-- Analytics rollups, kept in the transaction that credits the reductions they sum, and the
-- enterprise industry (GB/T 4754) they are broken down by.

-- GB/T 4754-2017: section letter A-T and two-digit division (e.g. 'C', '26'); NULL until set.
ALTER TABLE carbon_accounts ADD COLUMN industry_section TEXT;
ALTER TABLE carbon_accounts ADD COLUMN industry_division TEXT;

-- Reductions per Shanghai day x region (as reported, to county) x domain x methodology x subject
-- kind: records, distinct accounts, grams and points.
CREATE TABLE stats_daily (
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (day, region_code, domain, methodology_id, subject_kind)
);
CREATE INDEX stats_daily_region ON stats_daily (region_code, day);

-- Which accounts a stats_daily cell has counted, so a batch adds only the subjects it is the first
-- to bring to a cell.
CREATE TABLE stats_cell_subjects (
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  PRIMARY KEY (day, region_code, methodology_id, account_id)
);

-- Enterprise reductions per day x region x methodology x account: few enterprises, and the
-- industry is joined at query time, so changing an enterprise's industry never leaves a stale cell.
CREATE TABLE stats_enterprise_daily (
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  records BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (day, region_code, domain, methodology_id, account_id)
);

-- Participation: the accounts credited in a period ('d:2026-03-01', 'm:2026-03'), their count,
-- and how many of them were credited for the first time (their first day falls in the period).
CREATE TABLE stats_period_subjects (
  period TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  PRIMARY KEY (period, account_id)
);
CREATE TABLE stats_subject_first (
  account_id BIGINT PRIMARY KEY,
  first_day TEXT NOT NULL
);
CREATE TABLE stats_participation (
  period TEXT PRIMARY KEY,
  subjects BIGINT NOT NULL,
  new_subjects BIGINT NOT NULL
);
