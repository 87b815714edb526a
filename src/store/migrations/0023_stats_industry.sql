-- Industry rollups: enterprise reductions per day and per month x GB/T 4754 industry (the
-- enterprise account's section and division, '' for an account without one) at province, city and
-- county level, kept in the crediting transaction beside stats_enterprise_daily, so the consoles'
-- industry breakdowns read a few thousand cells rather than every enterprise's. subjects is the
-- number of enterprise day cells summed (an enterprise counted once per day, county and
-- methodology), as over stats_enterprise_daily. Setting an enterprise's industry moves its cells
-- (analytics::moveIndustryCells); `tanpuhui analytics check` recomputes these from
-- stats_enterprise_daily and the accounts' current industry.
-- A query reads a range of the primary key (level, region, period): on SQLite the rows are stored in
-- that order (WITHOUT ROWID), on PostgreSQL the key carries the figures (index-only scans).
-- (The statements led by a backend's name follow a plain one: a tag must begin its statement.)

-- An enterprise's cells, found when its industry changes.
CREATE INDEX stats_enterprise_daily_account ON stats_enterprise_daily (account_id);

/*sqlite*/ CREATE TABLE stats_industry_daily (
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  region_code TEXT NOT NULL,
  day TEXT NOT NULL,
  industry_section TEXT NOT NULL,
  industry_division TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (level, region_code, day, industry_section, industry_division, domain,
               methodology_id)
) WITHOUT ROWID;
/*postgresql*/ CREATE TABLE stats_industry_daily (
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  region_code TEXT NOT NULL,
  day TEXT NOT NULL,
  industry_section TEXT NOT NULL,
  industry_division TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (level, region_code, day, industry_section, industry_division, domain,
               methodology_id) INCLUDE (records, subjects, grams, points)
);

/*sqlite*/ CREATE TABLE stats_industry_monthly (
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  region_code TEXT NOT NULL,
  month TEXT NOT NULL,
  industry_section TEXT NOT NULL,
  industry_division TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (level, region_code, month, industry_section, industry_division, domain,
               methodology_id)
) WITHOUT ROWID;
/*postgresql*/ CREATE TABLE stats_industry_monthly (
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  region_code TEXT NOT NULL,
  month TEXT NOT NULL,
  industry_section TEXT NOT NULL,
  industry_division TEXT NOT NULL,
  domain TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  records BIGINT NOT NULL,
  subjects BIGINT NOT NULL,
  grams BIGINT NOT NULL,
  points BIGINT NOT NULL,
  PRIMARY KEY (level, region_code, month, industry_section, industry_division, domain,
               methodology_id) INCLUDE (records, subjects, grams, points)
);

INSERT INTO stats_industry_daily (level, region_code, day, industry_section, industry_division,
                                  domain, methodology_id, records, subjects, grams, points)
SELECT 'county', e.region_code, e.day, COALESCE(a.industry_section, ''),
       COALESCE(a.industry_division, ''), e.domain, e.methodology_id, SUM(e.records), COUNT(*),
       SUM(e.grams), SUM(e.points)
FROM stats_enterprise_daily e JOIN carbon_accounts a ON a.id = e.account_id
GROUP BY e.region_code, e.day, COALESCE(a.industry_section, ''), COALESCE(a.industry_division, ''),
         e.domain, e.methodology_id;
INSERT INTO stats_industry_daily (level, region_code, day, industry_section, industry_division,
                                  domain, methodology_id, records, subjects, grams, points)
SELECT 'city', substr(region_code, 1, 4) || '00', day, industry_section, industry_division, domain,
       methodology_id, SUM(records), SUM(subjects), SUM(grams), SUM(points)
FROM stats_industry_daily WHERE level = 'county'
GROUP BY substr(region_code, 1, 4) || '00', day, industry_section, industry_division, domain,
         methodology_id;
INSERT INTO stats_industry_daily (level, region_code, day, industry_section, industry_division,
                                  domain, methodology_id, records, subjects, grams, points)
SELECT 'province', '440000', day, industry_section, industry_division, domain, methodology_id,
       SUM(records), SUM(subjects), SUM(grams), SUM(points)
FROM stats_industry_daily WHERE level = 'city'
GROUP BY day, industry_section, industry_division, domain, methodology_id;
INSERT INTO stats_industry_monthly (level, region_code, month, industry_section, industry_division,
                                    domain, methodology_id, records, subjects, grams, points)
SELECT level, region_code, substr(day, 1, 7), industry_section, industry_division, domain,
       methodology_id, SUM(records), SUM(subjects), SUM(grams), SUM(points)
FROM stats_industry_daily
GROUP BY level, region_code, substr(day, 1, 7), industry_section, industry_division, domain,
         methodology_id;
