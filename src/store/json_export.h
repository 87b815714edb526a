#pragma once
// Rows of a query as JSON objects, for exports that hand a person their own data (DESIGN.md §4
// Privacy). Column names become keys; a column named *_at_ms becomes *_at, an ISO 8601 UTC
// instant; a column named *_json holds JSON text and becomes the parsed value under the name
// without the suffix; NULL stays null.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/field_cipher.h"

namespace tph::store {

//! Runs `query`, which binds one integer as :id, and returns its rows as a JSON array.
nlohmann::json queryAsJson(soci::session& sql, const std::string& query, std::int64_t id);

//! Opens, in each row of `rows`, the sealed value under `key`, which was read from `column`
//! ("table.column"), so an export shows the person what they gave, not its sealed form.
void revealSealed(nlohmann::json& rows, const FieldCipher& cipher, const std::string& key,
                  const std::string& column);

}  // namespace tph::store
