#pragma once
// The content module's part of a person's data export and erasure (DESIGN.md §4 Privacy): the
// public ideas the user posted while signed in. Inside the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

namespace tph::content {

nlohmann::json exportIdeas(soci::session& sql, std::int64_t user_id);

//! Ideas stay (others supported them; some were adopted) but show no name and keep no contact
//! or address.
void eraseIdeaAuthorship(soci::session& sql, std::int64_t user_id);

}  // namespace tph::content
