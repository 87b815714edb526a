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
inline constexpr std::size_t kMaxRowsPerMessage = 10'000;
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

//! JSON Schemas of the messages, served at /api/link/v1/schema.
nlohmann::json protocolSchema();

}  // namespace tph::link
