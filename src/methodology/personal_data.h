#pragma once
// The methodology module's part of a person's data export and erasure (DESIGN.md §4 Privacy):
// the methodology proposals the user sent. Inside the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/field_cipher.h"

namespace tph::methodology {

nlohmann::json exportProposals(soci::session& sql, const FieldCipher& cipher, std::int64_t user_id);

//! Proposals stay (officials may have drafted a methodology from one) but lose their contact.
void eraseProposalContacts(soci::session& sql, std::int64_t user_id);

//! Seals the contacts stored in clear before sealing began; how many.
std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher);

}  // namespace tph::methodology
