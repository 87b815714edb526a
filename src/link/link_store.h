#pragma once
// SQL of the link module. Internal to src/link.

#include <soci/soci.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "link/link_hub.h"

namespace tph::link::detail {

struct ParsedDay {
  std::string day;
  std::vector<ingest::DailyReductionAggregate> rows;
};
//! Validates a daily_aggregates body: rows within the platform's region, digest matching.
Result<ParsedDay> parseDailyAggregates(const nlohmann::json& body, const LinkedPlatform& platform);

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

//! The outcome an accepted message's receipt carried (null when none), for duplicates.
nlohmann::json inboxOutcome(soci::session& sql, std::int64_t platform_id,
                            const std::string& message_id);
void setInboxOutcome(soci::session& sql, std::int64_t platform_id, const std::string& message_id,
                     const nlohmann::json& outcome);

// Submissions and spot checks (province).
void insertMethodologySubmission(soci::session& sql, std::int64_t platform_id,
                                 const std::string& message_id, const std::string& methodology_id,
                                 int version, const std::string& sha256,
                                 std::optional<std::int64_t> row_id, const std::string& reason,
                                 std::int64_t now_ms);
void insertBatchSubmission(soci::session& sql, std::int64_t platform_id,
                           const std::string& message_id, std::int64_t city_batch_id,
                           std::optional<std::int64_t> batch_id, const std::string& reason,
                           std::int64_t now_ms);
std::vector<Submission> listSubmissions(soci::session& sql, std::int64_t platform_id);
//! (the platform's batch id, the province's batch id) of every batch submitted and opened.
std::vector<std::pair<std::int64_t, std::int64_t>> submittedBatches(soci::session& sql,
                                                                    std::int64_t platform_id);
//! Version row ids of the methodology versions a platform submitted.
std::vector<std::int64_t> submittedVersions(soci::session& sql, std::int64_t platform_id);

std::int64_t insertSpotCheck(soci::session& sql, const SpotCheck& c, std::int64_t now_ms);
std::optional<SpotCheck> findSpotCheck(soci::session& sql, std::int64_t id, bool for_update);
void answerSpotCheck(soci::session& sql, std::int64_t id, const std::string& state,
                     const std::vector<SpotCheck::Finding>& findings,
                     const std::string& answer_digest, std::int64_t now_ms);
std::vector<SpotCheck> listSpotChecks(soci::session& sql, std::int64_t platform_id);

// The province's feed to a platform.
struct FeedMessage {
  std::string stream;
  std::int64_t seq = 0;
  std::string message_id, kind, body_json;
  std::int64_t created_at_ms = 0;
};
std::int64_t lastFeedSeq(soci::session& sql, std::int64_t platform_id, const std::string& stream);
void insertFeed(soci::session& sql, std::int64_t platform_id, const FeedMessage& m);
std::vector<FeedMessage> feedAfter(soci::session& sql, std::int64_t platform_id,
                                   const std::string& stream, std::int64_t after_seq, int limit);
std::map<std::string, std::string> feedItems(soci::session& sql, std::int64_t platform_id,
                                             const std::string& stream);
void putFeedItem(soci::session& sql, std::int64_t platform_id, const std::string& stream,
                 const std::string& key, const std::string& digest);
void dropFeedItem(soci::session& sql, std::int64_t platform_id, const std::string& stream,
                  const std::string& key);

// A city node's side of the feed, its settings and its outbox receipts.
struct CityInboxEntry {
  std::string message_id;
  std::string body_digest;
};
std::optional<CityInboxEntry> findCityInbox(soci::session& sql, const std::string& stream,
                                            std::int64_t seq);
std::int64_t lastCitySeq(soci::session& sql, const std::string& stream);
void insertCityInbox(soci::session& sql, const std::string& stream, std::int64_t seq,
                     const std::string& message_id, const std::string& kind,
                     const std::string& body_digest, std::int64_t now_ms);
void clearProvinceItems(soci::session& sql, const std::string& stream);
void putProvinceItem(soci::session& sql, const std::string& stream, const std::string& key,
                     const std::string& item_json, const std::string& message_id,
                     std::int64_t now_ms);
void dropProvinceItem(soci::session& sql, const std::string& stream, const std::string& key);
std::vector<nlohmann::json> provinceItems(soci::session& sql, const std::string& stream);
std::optional<std::string> nodeSetting(soci::session& sql, const std::string& name);
void putNodeSetting(soci::session& sql, const std::string& name, const std::string& value);

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
void markSent(soci::session& sql, std::int64_t id, std::int64_t now_ms,
              const std::string& receipt_json);
//! The latest messages of the outbox, newest first.
struct OutboxEntry {
  OutboxRow row;
  std::string state, last_error, receipt_json;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> sent_at_ms;
};
std::vector<OutboxEntry> recentOutbox(soci::session& sql, int limit);
void markFailed(soci::session& sql, std::int64_t id, int attempts, std::int64_t next_attempt_ms,
                const std::string& error);
int pendingOutbox(soci::session& sql);

}  // namespace tph::link::detail
