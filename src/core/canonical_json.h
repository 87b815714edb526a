#pragma once
// Canonical JSON is what gets hashed (audit events, Merkle leaves, signatures): object keys sorted
// by their UTF-8 bytes, no insignificant whitespace, UTF-8 output. Two parties that agree on the
// value agree on the bytes.

#include <nlohmann/json.hpp>
#include <string>

namespace tph {

//! Serialises a JSON value canonically. Throws nlohmann::json::type_error on invalid UTF-8.
std::string canonicalJson(const nlohmann::json& value);

}  // namespace tph
