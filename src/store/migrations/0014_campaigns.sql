-- Themed campaigns: a window, the methodologies it covers and a points multiplier for records
-- that occurred in it, in the campaign's region (docs/campaigns.md).

CREATE TABLE campaigns (
  id {{id}},
  region_code TEXT NOT NULL REFERENCES regions (code),
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  announcement_zh TEXT NOT NULL,
  announcement_en TEXT NOT NULL DEFAULT '',
  starts_at_ms BIGINT NOT NULL,
  ends_at_ms BIGINT NOT NULL,
  multiplier_permille INTEGER NOT NULL CHECK (multiplier_permille > 1000 AND multiplier_permille <= 10000),
  cancel_reason TEXT NOT NULL DEFAULT '',
  cancelled_at_ms BIGINT,
  created_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  CHECK (ends_at_ms > starts_at_ms)
);
CREATE INDEX campaigns_window ON campaigns (starts_at_ms, ends_at_ms);

CREATE TABLE campaign_methodologies (
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
  methodology_id TEXT NOT NULL,
  PRIMARY KEY (campaign_id, methodology_id)
);

-- The campaign that raised a reduction's points, and by how many (no foreign key: crediting read the
-- campaign in the same transaction, and campaigns are never deleted). Only campaign records are in
-- the index, so it costs other records nothing.
ALTER TABLE reductions ADD COLUMN campaign_id BIGINT;
ALTER TABLE reductions ADD COLUMN campaign_bonus_points BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reductions_campaign ON reductions (campaign_id) WHERE campaign_id IS NOT NULL;
