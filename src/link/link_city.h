#pragma once
// A city node (`tanpuhui serve --node city`): learns its platform id and pins the province's key,
// queues its days' aggregates, locally approved methodology versions and certification batches
// in the outbox, pulls the province's signed feed and applies it once each and in order per
// stream, and answers the province's spot checks. LinkCityRunner does all of it on a timer.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"
#include "link/link_outbox.h"
#include "link/link_signing.h"

namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}
namespace tph::certify {
class CertifyService;
}

namespace tph::link {

//! How a city node reaches its province.
struct CityNodeOptions {
  std::string region_code;   //!< the city this node serves: 440300
  std::string province_url;  //!< http://HOST:PORT
  //! The province's public key; empty: learnt at first contact and pinned in the database.
  std::string province_public_key_hex;
  std::chrono::milliseconds interval{5'000};  //!< between sync rounds
};

//! The city's local services a node submits from; a null one refuses those submissions.
struct CityServices {
  methodology::MethodologyService* methodologies = nullptr;
  certify::CertifyService* certify = nullptr;
};

//! Days re-checked on each day sync, so a late record of a recent day is sent again.
inline constexpr int kResendDays = 7;
//! How often the node looks for days to send.
inline constexpr std::chrono::minutes kDaySyncEvery{10};
//! Pull rounds one sync makes while the province says there is more.
inline constexpr int kMaxPullRounds = 20;

struct ApplyReport {
  int applied = 0;
  int duplicates = 0;
  int refused = 0;
  std::string last_error;
};

struct SyncReport {
  bool connected = false;
  int days_queued = 0;
  DrainReport drained;
  ApplyReport pulled;
  std::string error;  //!< why the round stopped early, if it did
};

//! Shared between threads; sync rounds are serialised by the caller (LinkCityRunner).
class CityNode {
 public:
  CityNode(store::Database& db, const Clock& clock, LinkKeyPair key, CityNodeOptions options,
           CityServices services = {});

  const CityNodeOptions& options() const { return options_; }
  //! The platform id and the province's key, once learnt.
  std::optional<CityNodeConfig> config();
  //! Asks the province which platform this node's key belongs to; pins the province's key.
  Status connect(LinkTransport& transport);

  //! Queues days (up to yesterday) whose aggregates changed since they were last queued.
  Result<int> syncDays();
  //! Queues a locally approved (or active) methodology version for provincial approval.
  Result<std::string> submitMethodology(const auth::Principal& caller, std::int64_t version_row_id);
  //! Queues a local certification batch with its monitoring report for provincial issuance.
  Result<std::string> submitBatch(const auth::Principal& caller, std::int64_t batch_id);

  //! Pulls the province's feed and applies it.
  Result<ApplyReport> pull(LinkTransport& transport);
  //! Applies one province message: signature, recipient, order and once-only checked.
  //! "applied" or "duplicate".
  Result<std::string> applyMessage(const nlohmann::json& message);

  //! One round: connect if needed, queue days, send, pull, send the answers.
  SyncReport syncOnce(LinkTransport& transport);

  //! The province's items as last applied: stream catalogue, offers or registry.
  Result<std::vector<nlohmann::json>> provinceItems(const std::string& stream);
  //! The outbox's latest messages, newest first, with the province's receipts.
  nlohmann::json outboxStatus(int limit);

 private:
  Result<std::string> enqueue(const std::string& stream, const std::string& kind,
                              const std::string& message_id, const nlohmann::json& body);

  store::Database& db_;
  const Clock& clock_;
  const LinkKeyPair key_;
  const CityNodeOptions options_;
  const CityServices services_;
};

//! Runs CityNode::syncOnce every interval on its own thread until stopped.
class LinkCityRunner {
 public:
  LinkCityRunner(CityNode& node, std::unique_ptr<LinkTransport> transport);
  ~LinkCityRunner();
  void start();
  void stop();
  //! Wakes the runner for a round now (after a submission).
  void poke();
  SyncReport lastReport();

 private:
  void run();

  CityNode& node_;
  std::unique_ptr<LinkTransport> transport_;  //!< used by the runner's thread only
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool poked_ = false;     // guarded by mu_
  SyncReport last_;        // guarded by mu_
  std::thread thread_;
};

}  // namespace tph::link
