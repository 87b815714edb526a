#include "audit/audit_log.h"

#include "core/canonical_json.h"
#include "core/crypto.h"

namespace tph::audit {

std::string chainHashV1(const std::string& prev_hash, std::int64_t id, Instant at,
                        const std::string& actor, const std::string& action,
                        const std::string& subject, const nlohmann::json& payload) {
  nlohmann::json body = {{"id", id},         {"at", toEpochMs(at)}, {"actor", actor},
                         {"action", action}, {"subject", subject},  {"payload", payload}};
  return sha256Hex(prev_hash + canonicalJson(body));
}

std::string chainHashOfPayloadHash(const std::string& prev_hash, std::int64_t id,
                                   std::int64_t at_ms, const std::string& actor,
                                   const std::string& action, const std::string& subject,
                                   const std::string& payload_sha256) {
  nlohmann::json body = {{"id", id},           {"at", at_ms},
                         {"actor", actor},     {"action", action},
                         {"subject", subject}, {"payload_sha256", payload_sha256}};
  return sha256Hex(prev_hash + canonicalJson(body));
}

std::string chainHash(const std::string& prev_hash, std::int64_t id, Instant at,
                      const std::string& actor, const std::string& action,
                      const std::string& subject, const nlohmann::json& payload) {
  return chainHashOfPayloadHash(prev_hash, id, toEpochMs(at), actor, action, subject,
                                sha256Hex(canonicalJson(payload)));
}

AuditEvent appendAuditEvent(soci::session& sql, const Clock& clock, const AuditEntry& entry) {
  // Taking the head row's lock first (UPDATE before SELECT) serialises appenders on PostgreSQL;
  // SQLite writers are already serialised by BEGIN IMMEDIATE.
  sql << "UPDATE audit_head SET last_id = last_id WHERE singleton = 1";
  long long last_id = 0;
  std::string last_hash;
  sql << "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1", soci::into(last_id),
      soci::into(last_hash);

  AuditEvent event;
  event.id = last_id + 1;
  event.at = clock.now();
  event.actor = entry.actor;
  event.action = entry.action;
  event.subject = entry.subject;
  event.payload = entry.payload;
  event.prev_hash = last_hash;
  event.hash = chainHash(last_hash, event.id, event.at, event.actor, event.action, event.subject,
                         event.payload);

  long long id = event.id, at_ms = toEpochMs(event.at);
  std::string payload = canonicalJson(event.payload);
  sql << "INSERT INTO audit_events (id, at_ms, actor, action, subject, payload, prev_hash, hash, "
         "hash_version) VALUES (:id, :at, :actor, :action, :subject, :payload, :prev, :hash, "
         "2)",
      soci::use(id), soci::use(at_ms), soci::use(event.actor), soci::use(event.action),
      soci::use(event.subject), soci::use(payload), soci::use(event.prev_hash),
      soci::use(event.hash);
  sql << "UPDATE audit_head SET last_id = :id, last_hash = :hash WHERE singleton = 1",
      soci::use(id), soci::use(event.hash);
  return event;
}

VerifyReport verifyAuditChain(soci::session& sql) {
  VerifyReport report;
  auto fail = [&](std::int64_t id, std::string problem) {
    report.ok = false;
    report.first_bad_id = id;
    report.problem = std::move(problem);
    return report;
  };

  long long id = 0, at_ms = 0;
  int version = 0;
  std::string actor, action, subject, payload, prev_hash, hash;
  soci::statement st =
      (sql.prepare << "SELECT id, at_ms, actor, action, subject, payload, prev_hash, hash, "
                      "hash_version FROM audit_events ORDER BY id",
       soci::into(id), soci::into(at_ms), soci::into(actor), soci::into(action),
       soci::into(subject), soci::into(payload), soci::into(prev_hash), soci::into(hash),
       soci::into(version));
  st.execute();
  std::string expected_prev(64, '0');
  long long expected_id = 1;
  while (st.fetch()) {
    if (id != expected_id) {
      return fail(expected_id, "event " + std::to_string(expected_id) +
                                   " is missing (next stored event is " + std::to_string(id) + ")");
    }
    if (prev_hash != expected_prev) {
      return fail(id, "event " + std::to_string(id) + " does not link to the event before it");
    }
    nlohmann::json parsed = nlohmann::json::parse(payload, nullptr, false);
    if (parsed.is_discarded() || canonicalJson(parsed) != payload) {
      return fail(id, "event " + std::to_string(id) + " has a payload that is not canonical JSON");
    }
    auto expected =
        version == 1
            ? chainHashV1(prev_hash, id, fromEpochMs(at_ms), actor, action, subject, parsed)
            : chainHash(prev_hash, id, fromEpochMs(at_ms), actor, action, subject, parsed);
    if (expected != hash) {
      return fail(id, "event " + std::to_string(id) + " does not match its hash");
    }
    expected_prev = hash;
    ++expected_id;
    ++report.events_checked;
  }
  long long head_id = 0;
  std::string head_hash;
  sql << "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1", soci::into(head_id),
      soci::into(head_hash);
  if (head_id != report.events_checked || head_hash != expected_prev) {
    return fail(report.events_checked + 1,
                "the chain ends at event " + std::to_string(report.events_checked) +
                    " but its head records event " + std::to_string(head_id));
  }
  return report;
}

}  // namespace tph::audit
