#pragma once
// The incentive module's part of a person's data export and erasure (DESIGN.md §4 Privacy), inside
// the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "core/field_cipher.h"
#include "core/result.h"

namespace tph::incentive {

//! Vouchers, benefit claims, linked cards and conversions, and the leaderboard profile.
nlohmann::json exportIncentiveData(soci::session& sql, std::int64_t user_id);

//! Conflict while something is still in flight with a partner that the platform must be able to
//! settle: a benefit claim awaiting its partner, a card conversion the bank has not answered.
Status checkIncentiveErasable(soci::session& sql, std::int64_t user_id);

//! Cancels unused vouchers (their points return to the account, which the account module then
//! forfeits), unlinks cards, deletes the leaderboard profile (nickname, community) and takes the
//! user off every board. Audited as `actor`. Returns how many vouchers were cancelled.
Result<std::int64_t> eraseIncentiveData(soci::session& sql, const Clock& clock,
                                        std::int64_t user_id, const std::string& actor);

//! Seals merchants' contacts stored in clear before sealing began; how many.
std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher);

}  // namespace tph::incentive
