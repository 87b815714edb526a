#pragma once
// The province's side of the link: registers linked platforms with their Ed25519 keys, accepts
// their signed messages once each and in order per stream, keeps the daily aggregates they report,
// reconciles, and signs every reply with the province's key.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"
#include "ingest/reduction_stats.h"
#include "link/link_protocol.h"
#include "link/link_signing.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}
namespace tph::certify {
class CertifyService;
}
namespace tph::registry {
class RegistryService;
}
namespace tph::incentive {
class MerchantService;
}

namespace tph::link {

struct LinkedPlatform {
  std::int64_t id = 0;
  std::string name;
  std::string region_code;
  std::string public_key_hex;
  std::string status;  //!< active, suspended
};

//! The province's services the link feeds and reads; a null one refuses its kinds with 503.
struct ProvinceServices {
  methodology::MethodologyService* methodologies = nullptr;
  certify::CertifyService* certify = nullptr;
  registry::RegistryService* registry = nullptr;
  incentive::MerchantService* merchants = nullptr;
};

//! A spot check: the province asks a platform for the records behind one of its aggregates and
//! checks them against the records digest the aggregate carried.
struct SpotCheck {
  struct Finding {
    std::string field;
    std::string message;
  };
  std::int64_t id = 0;
  std::int64_t platform_id = 0;
  std::string day, region_code, methodology_id;
  int methodology_version = 0;
  std::string records_digest;
  std::int64_t records = 0;
  std::int64_t grams = 0;
  std::string state;  //!< requested, matched, mismatched
  std::vector<Finding> findings;
  std::string requested_by;
  Instant requested_at;
  std::optional<Instant> answered_at;
};

struct SpotCheckRequest {
  std::int64_t platform_id = 0;
  std::string day, region_code, methodology_id;
  int methodology_version = 0;
};

//! What a platform submitted: a methodology version or a certification batch, and what became
//! of it at the province.
struct Submission {
  std::string kind;  //!< methodology_submission, certification_batch
  std::string message_id;
  std::string reference;  //!< "travel.metro v4", or the platform's batch id
  std::string outcome;    //!< submitted, refused
  std::string reason;
  std::optional<std::int64_t> province_id;  //!< the methodology version row or batch id
  Instant received_at;
};

//! Shared between threads: no state beyond references and the immutable key.
class LinkHub {
 public:
  LinkHub(store::Database& db, const Clock& clock, LinkKeyPair province_key,
          ProvinceServices services = {})
      : db_(db), clock_(clock), key_(std::move(province_key)), services_(services) {}

  const std::string& publicKeyHex() const { return key_.public_key_hex; }

  Result<LinkedPlatform> registerPlatform(const auth::Principal& caller, const std::string& name,
                                          const std::string& region_code,
                                          const std::string& public_key_hex);
  std::vector<LinkedPlatform> platforms();

  //! Accepts one signed message: a signed receipt, "duplicate" when the id was seen with the
  //! same content. A gap in a stream's seq is a conflict naming the seq expected.
  Result<nlohmann::json> receive(const nlohmann::json& message);
  //! Compares the platform's day summaries with what the province holds; a signed list of the
  //! days that differ.
  Result<nlohmann::json> reconcile(const nlohmann::json& message);

  //! Answers a platform's signed "pull": the province's feed messages after the seqs it holds,
  //! each signed, in a signed reply. Brings the snapshot streams (catalogue, offers, registry
  //! status) up to date first.
  Result<nlohmann::json> pull(const nlohmann::json& message);
  //! Tells a key's holder which platform it is: a signed {platform_id, region, status}. The
  //! request is signed by the platform's key over {protocol, public_key, sent_at}.
  Result<nlohmann::json> whoami(const nlohmann::json& message);

  std::vector<ingest::DailyReductionAggregate> aggregates(std::int64_t platform_id,
                                                          const std::string& day);

  //! The province admin asks a platform for the records behind one of its aggregates.
  Result<SpotCheck> requestSpotCheck(const auth::Principal& caller, const SpotCheckRequest& r);
  Result<std::vector<SpotCheck>> spotChecks(const auth::Principal& caller,
                                            std::int64_t platform_id);
  Result<std::vector<Submission>> submissions(const auth::Principal& caller,
                                              std::int64_t platform_id);

 private:
  Result<std::pair<Envelope, LinkedPlatform>> authenticate(const nlohmann::json& message);
  //! Applies an accepted stream message inside the inbox's transaction; its outcome (a
  //! submission's fate, a spot check's verdict) goes in the receipt. Errors refuse the message.
  Result<nlohmann::json> apply(soci::session& sql, const Envelope& e, const LinkedPlatform& p,
                               const nlohmann::json& parsed);
  //! Validates a message body before any transaction; what apply() needs, parsed.
  Result<nlohmann::json> parse(const Envelope& e, const LinkedPlatform& p);
  void refreshFeed(const LinkedPlatform& p);

  store::Database& db_;
  const Clock& clock_;
  const LinkKeyPair key_;
  const ProvinceServices services_;
};

}  // namespace tph::link
