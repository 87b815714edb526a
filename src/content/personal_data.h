#pragma once
// The content module's part of a person's data export and erasure (DESIGN.md §4 Privacy): the
// public ideas the user posted while signed in. Inside the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/field_cipher.h"

namespace tph::content {

nlohmann::json exportIdeas(soci::session& sql, const FieldCipher& cipher, std::int64_t user_id);

//! Ideas stay (others supported them; some were adopted) but show no name and keep no contact
//! or address.
void eraseIdeaAuthorship(soci::session& sql, std::int64_t user_id);

//! Seals ideas' contacts, and replaces clients' addresses by their fingerprints, where rows
//! written before sealing began hold them in clear; how many values it changed.
std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher);

}  // namespace tph::content
