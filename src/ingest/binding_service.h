#pragma once
// Bindings: a resident ties a provider's reference (metro card, electricity account) to a carbon
// account. The platform never sees the raw identifier: it pseudonymises it with the provider's key
// at once. The provider's system confirms the binding by issuing a code to the real holder.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::ingest {

class IngestService;

struct Binding {
  std::int64_t id = 0;
  std::int64_t provider_id = 0;
  std::string provider_key;
  std::string subject_ref;
  std::int64_t account_id = 0;
  std::string status;  //!< pending, active, unbound, cancelled
  std::optional<std::int64_t> requested_by;
  Instant created_at;
  std::optional<Instant> confirmed_at;
  bool code_issued = false;
};

inline constexpr int kBindingMaxAttempts = 5;
inline constexpr auto kBindingCodeLifetime = std::chrono::minutes(15);

class BindingService {
 public:
  BindingService(store::Database& db, const Clock& clock, IngestService& ingest)
      : db_(db), clock_(clock), ingest_(ingest) {}

  //! A resident asks to bind `identifier` at `provider_key` to one of its accounts (its person
  //! account by default, or a household it administers, or its enterprise account).
  Result<Binding> request(const auth::Principal& caller, const std::string& provider_key,
                          const std::string& identifier, std::optional<std::int64_t> account_id);
  //! The provider's system lists requests waiting for a code.
  Result<std::vector<Binding>> pending(const auth::Principal& provider_caller);
  //! The provider's system sets the code it gave the holder (stored hashed, valid 15 minutes).
  Status issueCode(const auth::Principal& provider_caller, std::int64_t binding_id,
                   const std::string& code);
  //! The resident confirms with the code; held records of the reference are then credited.
  Result<Binding> confirm(const auth::Principal& caller, std::int64_t binding_id,
                          const std::string& code);
  //! The account's member ends a binding; audited.
  Result<Binding> unbind(const auth::Principal& caller, std::int64_t binding_id);
  Result<std::vector<Binding>> mine(const auth::Principal& caller);

  //! Binds without a code, for setup files and migrations; idempotent.
  Result<Binding> bindDirect(const std::string& actor, std::int64_t provider_id,
                             const std::string& subject_ref, std::int64_t account_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  IngestService& ingest_;
};

}  // namespace tph::ingest
