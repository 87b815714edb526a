#pragma once
// A city node's side of the link: messages wait in a durable outbox in the node's own database
// and are sent at least once, in seq order per stream, retrying with exponential back-off while
// the province is unreachable. The province's receipts are checked against its public key.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "link/link_protocol.h"
#include "link/link_signing.h"

namespace tph::store {
class Database;
}

namespace tph::link {

//! How the outbox reaches the province (HTTP in production, a direct call in tests).
class LinkTransport {
 public:
  virtual ~LinkTransport() = default;
  //! POSTs `body` to `path` ("/api/link/v1/messages"); an error when the province could not be
  //! reached or refused.
  virtual Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body) = 0;
};

struct CityNodeConfig {
  std::int64_t platform_id = 0;  //!< the id the province registered this node under
  std::string region_code;       //!< the city this node serves
  LinkKeyPair key;               //!< this node's signing key
  std::string province_public_key_hex;
};

inline constexpr std::chrono::milliseconds kFirstRetryDelay{1'000};
inline constexpr std::chrono::milliseconds kMaxRetryDelay{300'000};
inline constexpr int kMaxMessagesPerDrain = 1'000;

struct DrainReport {
  int sent = 0;
  int failed = 0;   //!< attempts that failed (each stream stops at its first failure)
  int pending = 0;  //!< left in the outbox
  std::string last_error;
};

struct ReconcileDifference {
  std::string day;
  DaySummary city;
  std::optional<DaySummary> province;
};

//! Shared between threads; drain() calls are serialised by the caller (one sender thread).
class LinkOutbox {
 public:
  LinkOutbox(store::Database& db, const Clock& clock, CityNodeConfig config)
      : db_(db), clock_(clock), config_(std::move(config)) {}

  //! Queues the day's aggregates of the node's region; returns the message id.
  Result<std::string> enqueueDay(const std::string& day);
  //! Sends due messages in order until a stream fails or the outbox is empty.
  DrainReport drain(LinkTransport& transport);
  //! Compares every day in the range on which this node credited anything with the province.
  Result<std::vector<ReconcileDifference>> reconcile(LinkTransport& transport,
                                                     const std::string& from_day,
                                                     const std::string& until_day);
  int pendingCount();

 private:
  store::Database& db_;
  const Clock& clock_;
  const CityNodeConfig config_;
};

}  // namespace tph::link
