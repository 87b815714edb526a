#pragma once
// The registry of data providers: who may report which methodologies in which regions, the user
// whose API keys sign their requests, and the key they pseudonymise references with.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}

namespace tph::ingest {

inline constexpr const char* kProviderKinds[] = {
    "power_utility",    "water_utility", "gas_utility",
    "transit_operator", "bike_share",    "nev_charging",
    "recycler",         "forestry",      "other"};

struct Provider {
  std::int64_t id = 0;
  std::string key;  //!< "sz-metro"
  std::string name;
  std::string kind;
  std::optional<std::int64_t> user_id;  //!< the provider user whose API keys sign requests
  std::string pseudonym_key;            //!< shown to admins and the provider itself only
  std::string status;
  std::vector<std::string> regions;
  std::vector<std::string> methodologies;
  Instant created_at;
};

struct NewProvider {
  std::string key;
  std::string name;
  std::string kind;
  std::optional<std::int64_t> user_id;
  std::vector<std::string> regions;
  std::vector<std::string> methodologies;
  std::string pseudonym_key;  //!< "" to have one generated
};

//! The subject_ref both sides derive: hex HMAC-SHA256(pseudonym key, the identifier, trimmed).
std::string pseudonymise(const std::string& pseudonym_key, const std::string& identifier);

//! Shared between threads; holds no mutable state.
class ProviderService {
 public:
  ProviderService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! A province admin registers any provider; a region admin one whose regions lie in its own.
  Result<Provider> registerProvider(const auth::Principal& caller, const NewProvider& request);
  //! Registers or leaves alone a provider by key, without a caller (setup files, demo data).
  Result<Provider> ensureProvider(const std::string& actor, const NewProvider& request);
  Result<std::vector<Provider>> list(const auth::Principal& caller);
  //! The active providers, for residents choosing whose card or account to bind: public.
  std::vector<Provider> directory();
  Result<Provider> get(const auth::Principal& caller, std::int64_t id);
  Result<Provider> byKey(const std::string& key);
  //! The provider whose user signed this request.
  Result<Provider> forPrincipal(const auth::Principal& caller);
  Result<Provider> setMethodologies(const auth::Principal& caller, std::int64_t id,
                                    const std::vector<std::string>& methodologies);

 private:
  Status validate(const NewProvider& request) const;
  //! Inserts a validated provider (generating its pseudonym key when none is given) and audits it.
  Result<Provider> insertProvider(soci::session& sql, const NewProvider& request,
                                  const std::string& actor);
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::ingest
