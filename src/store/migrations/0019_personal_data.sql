-- A user who deleted their account (DESIGN.md §4 Privacy): the row stays, anonymised, so the
-- records naming its id still resolve; this is when it was erased.
ALTER TABLE users ADD COLUMN deleted_at_ms BIGINT;
