#pragma once
// The programme module's part of a person's data export and erasure (DESIGN.md §4 Privacy): the
// creation-programme applications the user filed. Inside the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/field_cipher.h"

namespace tph::programme {

nlohmann::json exportApplications(soci::session& sql, const FieldCipher& cipher,
                                  std::int64_t user_id);

//! Applications stay (a title may rest on one) but lose the contact person.
void eraseApplicationContacts(soci::session& sql, std::int64_t user_id);

//! Seals the contacts stored in clear before sealing began; how many.
std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher);

}  // namespace tph::programme
