-- Coarser analytics rollups, kept beside stats_daily in the same crediting transaction, so the
-- public portal's and the consoles' province- and city-wide queries read thousands of rows rather
-- than a year of county cells: per day and per month at city level (region_code a city) and at
-- province level (region_code '440000'), and per month at county level (the county cells of
-- stats_daily summed by month). subjects is the sum of the county cells' distinct subjects
-- (subject-days, as over any set of cells); max_cell_subjects is the largest of those county cells,
-- a lower bound on the distinct subjects a figure covers, which public suppression tests.

CREATE TABLE stats_daily_area (
  level TEXT NOT NULL CHECK (level IN ('province', 'city')),
  day TEXT NOT NULL,
  region_code TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  max_cell_subjects BIGINT NOT NULL,
  PRIMARY KEY (level, day, region_code, domain, methodology_id, subject_kind)
);
CREATE INDEX stats_daily_area_region ON stats_daily_area (level, region_code, day);

CREATE TABLE stats_monthly_area (
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  month TEXT NOT NULL,
  region_code TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  max_cell_subjects BIGINT NOT NULL,
  PRIMARY KEY (level, month, region_code, domain, methodology_id, subject_kind)
);
CREATE INDEX stats_monthly_area_region ON stats_monthly_area (level, region_code, month);

INSERT INTO stats_daily_area (level, day, region_code, domain, methodology_id, subject_kind,
                              records, subjects, grams, points, max_cell_subjects)
SELECT 'city', day, substr(region_code, 1, 4) || '00', domain, methodology_id, subject_kind,
       SUM(records), SUM(subjects), SUM(grams), SUM(points), MAX(subjects)
FROM stats_daily GROUP BY day, substr(region_code, 1, 4) || '00', domain, methodology_id,
                          subject_kind;
INSERT INTO stats_daily_area (level, day, region_code, domain, methodology_id, subject_kind,
                              records, subjects, grams, points, max_cell_subjects)
SELECT 'province', day, '440000', domain, methodology_id, subject_kind, SUM(records),
       SUM(subjects), SUM(grams), SUM(points), MAX(max_cell_subjects)
FROM stats_daily_area WHERE level = 'city'
GROUP BY day, domain, methodology_id, subject_kind;
INSERT INTO stats_monthly_area (level, month, region_code, domain, methodology_id, subject_kind,
                                records, subjects, grams, points, max_cell_subjects)
SELECT level, substr(day, 1, 7), region_code, domain, methodology_id, subject_kind, SUM(records),
       SUM(subjects), SUM(grams), SUM(points), MAX(max_cell_subjects)
FROM stats_daily_area
GROUP BY level, substr(day, 1, 7), region_code, domain, methodology_id, subject_kind;
INSERT INTO stats_monthly_area (level, month, region_code, domain, methodology_id, subject_kind,
                                records, subjects, grams, points, max_cell_subjects)
SELECT 'county', substr(day, 1, 7), region_code, domain, methodology_id, subject_kind, SUM(records),
       SUM(subjects), SUM(grams), SUM(points), MAX(subjects)
FROM stats_daily
GROUP BY substr(day, 1, 7), region_code, domain, methodology_id, subject_kind;

-- Enterprise cells per month, per account like stats_enterprise_daily (the industry is still joined
-- when queried), for the consoles' industry breakdowns over months and years.
CREATE TABLE stats_enterprise_monthly (
  month TEXT NOT NULL,
  region_code TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  records BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  subject_days BIGINT NOT NULL,  -- the account's days in this cell (its stats_enterprise_daily rows)
  PRIMARY KEY (month, region_code, domain, methodology_id, account_id)
);
INSERT INTO stats_enterprise_monthly (month, region_code, domain, methodology_id, account_id,
                                      records, grams, points, subject_days)
SELECT substr(day, 1, 7), region_code, domain, methodology_id, account_id, SUM(records),
       SUM(grams), SUM(points), COUNT(*)
FROM stats_enterprise_daily
GROUP BY substr(day, 1, 7), region_code, domain, methodology_id, account_id;
