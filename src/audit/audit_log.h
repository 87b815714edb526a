#pragma once
// The audit chain: every state change appends an event in the same transaction as the change.
// hash = SHA-256(prev_hash ‖ canonical JSON of {action, actor, at, id, payload_sha256, subject})
// where payload_sha256 is the hex SHA-256 of the payload's canonical JSON (hash_version 2; events
// written before migration 0009 have hash_version 1 and hash the payload itself), ids are
// gapless, and a one-row head records the last id and hash, so an edited, reordered or deleted
// event — the last one included — breaks verification.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace tph::audit {

struct AuditEvent {
  std::int64_t id = 0;
  Instant at;
  std::string actor;    //!< "user:12", "provider:key_ab12", "system", "cli"
  std::string action;   //!< "user.create", "api_key.create", ...
  std::string subject;  //!< what changed: "user:34"
  nlohmann::json payload;
  std::string prev_hash;
  std::string hash;
};

//! What an appender knows about the change; id, time and hashes are assigned by append().
struct AuditEntry {
  std::string actor;
  std::string action;
  std::string subject;
  nlohmann::json payload = nlohmann::json::object();
};

struct VerifyReport {
  bool ok = true;
  std::int64_t events_checked = 0;
  std::int64_t first_bad_id = 0;  //!< 0 when ok
  std::string problem;            //!< what did not match
};

//! The hash of one event given its predecessor's hash (hash_version 2).
std::string chainHash(const std::string& prev_hash, std::int64_t id, Instant at,
                      const std::string& actor, const std::string& action,
                      const std::string& subject, const nlohmann::json& payload);

//! The same from the payload's hash alone, which is what a public export carries for personal
//! payloads.
std::string chainHashOfPayloadHash(const std::string& prev_hash, std::int64_t id,
                                   std::int64_t at_ms, const std::string& actor,
                                   const std::string& action, const std::string& subject,
                                   const std::string& payload_sha256);

//! hash_version 1: the payload itself inside the hashed JSON.
std::string chainHashV1(const std::string& prev_hash, std::int64_t id, Instant at,
                        const std::string& actor, const std::string& action,
                        const std::string& subject, const nlohmann::json& payload);

//! Appends one event to the chain inside the caller's open transaction and returns it.
//! Concurrent appenders serialise on the head row.
AuditEvent appendAuditEvent(soci::session& sql, const Clock& clock, const AuditEntry& entry);

//! Walks the whole chain in id order and checks ids, links, hashes and the head.
VerifyReport verifyAuditChain(soci::session& sql);

}  // namespace tph::audit
