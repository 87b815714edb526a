#pragma once
// The ingest module's part of a person's data export and erasure (DESIGN.md §4 Privacy), inside
// the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/clock.h"

namespace tph::ingest {

//! The bindings of the user's accounts (or that the user requested), and every record credited
//! to or held for the user's person account with its inputs, outcome and reduction (grams,
//! points, methodology version, explanation).
nlohmann::json exportSubjectData(soci::session& sql, std::int64_t user_id);

//! Ends every active or pending binding of these accounts, so a provider's later records for
//! those references are held for nobody and expire. Returns how many bindings ended.
std::int64_t endBindingsOf(soci::session& sql, const Clock& clock,
                           const std::vector<std::int64_t>& account_ids);

}  // namespace tph::ingest
