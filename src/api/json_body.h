#pragma once
// Reading request bodies: malformed JSON is a 400 naming the byte where it broke; a missing or
// wrongly typed field is a 422 naming the field.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http_message.h"
#include "core/result.h"

namespace tph::api {

//! Parses the body as a JSON object.
Result<nlohmann::json> parseJsonObject(const HttpRequest& request);

//! A required string field.
Result<std::string> requireString(const nlohmann::json& body, const std::string& field);
//! An optional string field: "" when absent or null, an error when of another type.
Result<std::string> optionalString(const nlohmann::json& body, const std::string& field);
//! A required integer field (JSON numbers without a fraction).
Result<std::int64_t> requireInteger(const nlohmann::json& body, const std::string& field);

//! A path parameter that must be a positive integer id.
Result<std::int64_t> parseId(const std::string& text, const std::string& field);
//! An integer query parameter with a default, refused when not an integer.
Result<int> queryInt(const HttpRequest& request, const std::string& name, int fallback);

}  // namespace tph::api
