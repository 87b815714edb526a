#pragma once
// The province–city link protocol, version 1: message envelope, kinds, limits and the digests
// both sides compute the same way. docs/link-protocol.md is the reader's version of this file.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "ingest/reduction_stats.h"

namespace tph::link {

inline constexpr const char* kProtocol = "tph-link/1";
inline constexpr const char* kAggregatesStream = "aggregates";
inline constexpr const char* kDailyAggregates = "daily_aggregates";
// City → province streams and the kind each carries.
inline constexpr const char* kMethodologiesStream = "methodologies";
inline constexpr const char* kMethodologySubmission = "methodology_submission";
inline constexpr const char* kBatchesStream = "batches";
inline constexpr const char* kCertificationBatch = "certification_batch";
inline constexpr const char* kSpotChecksStream = "spot_checks";
inline constexpr const char* kSpotCheckAnswer = "spot_check_answer";
// Province → city streams (the province's feed to one platform) and their kinds.
inline constexpr const char* kCatalogueStream = "catalogue";
inline constexpr const char* kMethodologyCatalogue = "methodology_catalogue";
inline constexpr const char* kOffersStream = "offers";
inline constexpr const char* kMerchantOffers = "merchant_offers";
inline constexpr const char* kRegistryStream = "registry";
inline constexpr const char* kRegistryStatus = "registry_status";
inline constexpr const char* kSpotCheckRequest = "spot_check_request";
// Control messages (stream "control", seq 0): not stored, answered at once.
inline constexpr const char* kControlStream = "control";
inline constexpr const char* kReconcile = "reconcile";
inline constexpr const char* kPull = "pull";

inline constexpr std::size_t kMaxRowsPerMessage = 10'000;
//! Records one spot-check answer carries; an aggregate with more is answered "unavailable".
inline constexpr std::size_t kMaxSpotCheckRecords = 200'000;
//! Items of one snapshot message of the feed; more changes go in further messages.
inline constexpr std::size_t kMaxFeedItems = 500;
//! Feed messages one pull returns.
inline constexpr std::size_t kMaxPullMessages = 200;
inline constexpr std::size_t kMaxReconcileDays = 366;
inline constexpr std::size_t kMaxMessageIdChars = 64;

//! The envelope every city → province message carries (before its signature).
struct Envelope {
  std::int64_t platform_id = 0;
  std::string message_id;
  std::string stream;
  std::int64_t seq = 0;
  std::string kind;
  std::string sent_at;
  nlohmann::json body;
};

nlohmann::json envelopeToJson(const Envelope& e);
//! Validates the envelope's shape; errors name the field.
Result<Envelope> envelopeFromJson(const nlohmann::json& j);

//! One row of a day's aggregates on the wire.
nlohmann::json aggregateToJson(const ingest::DailyReductionAggregate& a);
Result<ingest::DailyReductionAggregate> aggregateFromJson(const nlohmann::json& j,
                                                          const std::string& day,
                                                          const std::string& where);

//! SHA-256 hex over the canonical JSON of a day's rows, ordered by region, methodology, version.
std::string dayDigest(std::vector<ingest::DailyReductionAggregate> rows);

//! What reconciliation compares for one day.
struct DaySummary {
  std::string day;
  std::int64_t records = 0;
  std::int64_t grams = 0;
  std::string digest;
  bool operator==(const DaySummary&) const = default;
};
DaySummary summarise(const std::string& day,
                     const std::vector<ingest::DailyReductionAggregate>& rows);

//! The SHA-256 hex a spot check compares with an aggregate's records digest: over
//! "record_id:grams\n" of each record in record id order.
std::string recordsDigest(const std::vector<std::pair<std::int64_t, std::int64_t>>& id_grams);

//! JSON Schemas of the messages, served at /api/link/v1/schema.
nlohmann::json protocolSchema();

}  // namespace tph::link
