#pragma once
// The account module's part of a person's data export and erasure (DESIGN.md §4 Privacy), inside
// the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace tph::account {

//! The carbon accounts the user belongs to (with balances and their role), and every points
//! posting of the user's person account.
nlohmann::json exportAccountData(soci::session& sql, std::int64_t user_id);

//! Conflict when the user administers a household that has other members: the household is
//! theirs too, so the admin hands it over or removes them first.
Status checkAccountErasable(soci::session& sql, std::int64_t user_id);

//! The user leaves every household; the person account (and a household the user was the last
//! member of) loses its name and forfeits its points balance to the `forfeited` ledger account.
//! The accounts themselves stay: their reductions back certified units and statistics.
struct AccountErasure {
  std::int64_t points_forfeited = 0;
  //! The person account and the households left empty: nobody holds them any more.
  std::vector<std::int64_t> closed_accounts;
  std::int64_t households_left = 0;
};
Result<AccountErasure> eraseAccountData(soci::session& sql, const Clock& clock,
                                        std::int64_t user_id);

}  // namespace tph::account
