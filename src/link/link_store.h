#pragma once
// SQL of the link module. Internal to src/link.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "link/link_hub.h"

namespace tph::link::detail {

std::int64_t insertPlatform(soci::session& sql, const std::string& name,
                            const std::string& region_code, const std::string& public_key_hex,
                            const std::string& actor, std::int64_t now_ms);
std::optional<LinkedPlatform> findPlatform(soci::session& sql, std::int64_t id);
bool publicKeyTaken(soci::session& sql, const std::string& public_key_hex);
std::vector<LinkedPlatform> listPlatforms(soci::session& sql);

struct InboxEntry {
  std::int64_t seq = 0;
  std::string body_digest;
};
std::optional<InboxEntry> findInbox(soci::session& sql, std::int64_t platform_id,
                                    const std::string& message_id);
//! The highest seq accepted on the stream, 0 when none.
std::int64_t lastSeq(soci::session& sql, std::int64_t platform_id, const std::string& stream);
void insertInbox(soci::session& sql, const Envelope& e, const std::string& body_digest,
                 std::int64_t now_ms);
//! Replaces the platform's aggregates of a day.
void replaceDay(soci::session& sql, std::int64_t platform_id, const std::string& day,
                const std::vector<ingest::DailyReductionAggregate>& rows,
                const std::string& message_id);
std::vector<ingest::DailyReductionAggregate> aggregatesOfDay(soci::session& sql,
                                                             std::int64_t platform_id,
                                                             const std::string& day);

struct OutboxRow {
  std::int64_t id = 0;
  std::string stream;
  std::int64_t seq = 0;
  std::string message_id, kind, body_json;
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;
};
std::int64_t nextOutboxSeq(soci::session& sql, const std::string& stream);
void insertOutbox(soci::session& sql, const OutboxRow& row, std::int64_t now_ms);
//! The first pending message of each stream, in stream order.
std::vector<OutboxRow> headsOfStreams(soci::session& sql);
void markSent(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void markFailed(soci::session& sql, std::int64_t id, int attempts, std::int64_t next_attempt_ms,
                const std::string& error);
int pendingOutbox(soci::session& sql);

}  // namespace tph::link::detail
