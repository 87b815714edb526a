-- Foundation: regions, users and roles, sessions, login throttling, provider API keys and nonces,
-- the audit chain. Instants are BIGINT milliseconds since the Unix epoch (UTC).
-- {{id}} is an auto-assigned 64-bit primary key on both backends.

CREATE TABLE regions (
  code TEXT PRIMARY KEY,
  parent_code TEXT REFERENCES regions (code),
  level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL
);

CREATE TABLE users (
  id {{id}},
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);

-- region_code is '' for roles that carry no region.
CREATE TABLE user_roles (
  user_id BIGINT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL,
  region_code TEXT NOT NULL DEFAULT '',
  granted_at_ms BIGINT NOT NULL,
  PRIMARY KEY (user_id, role, region_code)
);

-- Only the SHA-256 of a session token is stored; the token itself exists only on the client.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT,
  client_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One row per failed login; key is 'user:NAME' or 'addr:IP'.
CREATE TABLE login_failures (
  id {{id}},
  throttle_key TEXT NOT NULL,
  at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (throttle_key, at_ms);

CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  secret TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- Nonces seen within the signing window; the primary key refuses a replay.
CREATE TABLE request_nonces (
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_at ON request_nonces (at_ms);

-- The audit chain: ids are gapless and assigned by the appender, so a deleted row leaves a gap.
CREATE TABLE audit_events (
  id BIGINT PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

-- The head of the chain, one row; updating it serialises appenders on both backends.
CREATE TABLE audit_head (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  last_id BIGINT NOT NULL,
  last_hash TEXT NOT NULL
);
INSERT INTO audit_head (singleton, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
