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

namespace tph::store {
class Database;
}

namespace tph::link {

struct LinkedPlatform {
  std::int64_t id = 0;
  std::string name;
  std::string region_code;
  std::string public_key_hex;
  std::string status;  //!< active, suspended
};

//! Shared between threads: no state beyond references and the immutable key.
class LinkHub {
 public:
  LinkHub(store::Database& db, const Clock& clock, LinkKeyPair province_key)
      : db_(db), clock_(clock), key_(std::move(province_key)) {}

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

  std::vector<ingest::DailyReductionAggregate> aggregates(std::int64_t platform_id,
                                                          const std::string& day);

 private:
  Result<std::pair<Envelope, LinkedPlatform>> authenticate(const nlohmann::json& message);

  store::Database& db_;
  const Clock& clock_;
  const LinkKeyPair key_;
};

}  // namespace tph::link
