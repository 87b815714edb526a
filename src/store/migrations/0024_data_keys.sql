-- The data keys personal columns have been sealed with (core/field_cipher.h), by key id — never the
-- key itself. A server that starts with a key the database does not know refuses, so one database's
-- contacts are never sealed under two keys by mistake (a key file created in the wrong directory).
CREATE TABLE data_keys (
  key_id TEXT PRIMARY KEY,
  registered_at_ms BIGINT NOT NULL
);
