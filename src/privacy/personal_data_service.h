#pragma once
// A resident's rights over their own data (DESIGN.md §4 Privacy): a complete export, and deleting
// the account. Each module contributes its part through its personal_data.h, inside one
// transaction, so a deletion is all or nothing.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}
namespace tph::auth {
class AuthService;
}

namespace tph::privacy {

//! The export's format name; a change to its layout gets a new number.
inline constexpr const char* kExportFormat = "tanpuhui-personal-data/1";

struct DeletionReceipt {
  std::int64_t user_id = 0;
  Instant deleted_at;
  std::int64_t points_forfeited = 0;
  std::int64_t vouchers_cancelled = 0;
  std::int64_t bindings_ended = 0;
  std::int64_t households_left = 0;
};

//! Seals, under the database's data key, the personal values that rows written before sealing began
//! still hold in clear (contacts of proposals, merchants, ideas and programme applications; ideas'
//! client addresses become fingerprints), in one transaction; returns how many. Run after
//! migrating, once the deployment's key is attached.
std::int64_t sealPlainPersonalData(store::Database& db);

//! Shared between threads; holds no mutable state.
class PersonalDataService {
 public:
  PersonalDataService(store::Database& db, const Clock& clock, auth::AuthService& auth)
      : db_(db), clock_(clock), auth_(auth) {}

  //! Everything the platform holds about the signed-in user, as one JSON document.
  Result<nlohmann::json> exportData(const auth::Principal& caller);

  //! Deletes the signed-in resident's account after checking the password: personal data is
  //! erased, points are forfeited, bindings end, unused vouchers are cancelled, and the user can
  //! no longer sign in. Refused (conflict, naming what stands in the way) for users holding roles
  //! other than resident and household admin, a household admin with members, and a claim or card
  //! conversion still with a partner.
  Result<DeletionReceipt> deleteAccount(const auth::Principal& caller, const std::string& password);

 private:
  store::Database& db_;
  const Clock& clock_;
  auth::AuthService& auth_;
};

}  // namespace tph::privacy
