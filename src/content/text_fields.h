#pragma once
// Reading text fields of request bodies the same way across the content module. Internal to
// src/content.

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace tph::content::detail {

//! Well-formed UTF-8 (lengths and continuation bytes; overlong forms are left to the renderer,
//! which validates again).
bool validUtf8(const std::string& text);

//! A string field: absent or null reads as "" (an error when `required`); blank required text,
//! text over `max_bytes` and invalid UTF-8 are errors naming `key`.
Result<std::string> textField(const nlohmann::json& body, const std::string& key, bool required,
                              std::size_t max_bytes);

//! "YYYY-MM-DD" naming a real day.
bool isIsoDay(const std::string& text);

}  // namespace tph::content::detail
