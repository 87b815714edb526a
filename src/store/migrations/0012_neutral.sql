-- Carbon-neutral events, continued (0007 made neutral_events and neutral_event_retirements): who
-- organises, how the footprint was computed, how it was neutralised, and the published rate at
-- which residents' points buy PHCER from the platform's inventory.
ALTER TABLE neutral_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'personal'));
ALTER TABLE neutral_events ADD COLUMN organiser_name TEXT NOT NULL DEFAULT '';
ALTER TABLE neutral_events ADD COLUMN venue TEXT NOT NULL DEFAULT '';
ALTER TABLE neutral_events ADD COLUMN calculator TEXT NOT NULL DEFAULT '';
ALTER TABLE neutral_events ADD COLUMN neutralised_with TEXT CHECK (neutralised_with IN ('units', 'points'));
ALTER TABLE neutral_events ADD COLUMN points_paid BIGINT NOT NULL DEFAULT 0 CHECK (points_paid >= 0);
ALTER TABLE neutral_events ADD COLUMN points_entry_id BIGINT REFERENCES journal_entries (id);
ALTER TABLE neutral_events ADD COLUMN neutralise_key TEXT;
CREATE INDEX neutral_events_organiser ON neutral_events (organiser_user_id, id);
CREATE INDEX neutral_events_neutralised ON neutral_events (neutralised_at_ms);

-- The published rate: points per PHCER unit and the registry account the platform sells from. The
-- newest row is in force; older rows stay as the record of what was published when.
CREATE TABLE neutral_points_rates (
  id {{id}},
  points_per_unit BIGINT NOT NULL CHECK (points_per_unit > 0),
  inventory_account_id BIGINT NOT NULL REFERENCES registry_accounts (id),
  set_by TEXT NOT NULL,
  set_at_ms BIGINT NOT NULL
);
