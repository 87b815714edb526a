#pragma once
// The auth module's part of a person's data export and erasure (DESIGN.md §4 Privacy). Both run
// inside the caller's open transaction, so an erasure commits with every other module's part or
// not at all.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/clock.h"

namespace tph::auth {

//! The user's profile, role grants, sign-in sessions (times and addresses) and API keys (labels,
//! never secrets).
nlohmann::json exportUserData(soci::session& sql, std::int64_t user_id);

//! Removes what identifies the user: the username becomes "deleted-{id}", the display name and
//! password go, every role, session and API key is revoked, session addresses and throttling
//! records are cleared, and the user is marked deleted. The row itself stays, so records that
//! name its id (audit events, ledger postings) keep pointing at something.
void eraseUserData(soci::session& sql, const Clock& clock, std::int64_t user_id);

}  // namespace tph::auth
