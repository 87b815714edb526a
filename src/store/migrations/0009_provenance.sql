-- Provenance and public verifiability: each certification batch's Merkle commitment to its
-- reductions, the audit chain's hashed payloads, and the daily signed heads of the chain.

-- The Merkle root over a batch's locked reductions (docs/provenance.md). The salt makes leaf
-- subjects unlinkable across batches; opened_root is the commitment made when the batch opened,
-- root the one over what is locked now (after deductions; for an issued batch, what was issued).
CREATE TABLE batch_merkle (
  batch_id BIGINT PRIMARY KEY REFERENCES certification_batches (id),
  salt TEXT NOT NULL,
  opened_root TEXT NOT NULL,
  opened_leaves BIGINT NOT NULL,
  root TEXT NOT NULL,
  leaves BIGINT NOT NULL CHECK (leaves >= 0),
  grams BIGINT NOT NULL CHECK (grams >= 0),
  updated_at_ms BIGINT NOT NULL
);

-- Events appended from this version on hash SHA-256 of their canonical payload into the chain
-- rather than the payload itself (hash_version 2), so a public export can replace a personal
-- payload by its hash and still verify. Earlier events keep version 1.
ALTER TABLE audit_events ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;

-- One signed head of the audit chain per Asia/Shanghai day: the Ed25519 signature (hex) of the
-- canonical JSON {"day", "events", "last_hash", "signed_at"} by the platform key public_key (hex).
CREATE TABLE audit_signed_heads (
  day TEXT PRIMARY KEY,
  events BIGINT NOT NULL,
  last_hash TEXT NOT NULL,
  signed_at_ms BIGINT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
