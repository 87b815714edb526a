#include "core/canonical_json.h"

namespace tph {

std::string canonicalJson(const nlohmann::json& value) {
  // nlohmann::json keeps objects in a std::map<std::string, ...>, so keys already come out in
  // byte order; dump() without an indent emits no whitespace.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

}  // namespace tph
