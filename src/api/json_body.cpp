#include "api/json_body.h"

#include <charconv>

namespace tph::api {

Result<nlohmann::json> parseJsonObject(const HttpRequest& request) {
  auto content_type = request.header("content-type");
  if (!content_type.empty() && content_type.find("json") == std::string_view::npos) {
    return Error::badRequest("expected a JSON body (content-type application/json)", "body");
  }
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    return Error::badRequest(
        "malformed JSON at byte " + std::to_string(e.byte) + ": the body is not valid JSON",
        "body");
  }
  if (!body.is_object()) return Error::badRequest("the body must be a JSON object", "body");
  return body;
}

Result<std::string> requireString(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Error::invalid(field, field + " is required");
  if (!it->is_string()) return Error::invalid(field, field + " must be a string");
  return it->get<std::string>();
}

Result<std::string> optionalString(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error::invalid(field, field + " must be a string");
  return it->get<std::string>();
}

Result<std::int64_t> requireInteger(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Error::invalid(field, field + " is required");
  if (!it->is_number_integer()) return Error::invalid(field, field + " must be an integer");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) {
    return Error::invalid(field, field + " is too large");
  }
  return it->get<std::int64_t>();
}

Result<std::int64_t> parseId(const std::string& text, const std::string& field) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Error::notFound(field + " must be a positive integer id", field);
  }
  return id;
}

Result<int> queryInt(const HttpRequest& request, const std::string& name, int fallback) {
  auto text = request.queryParam(name);
  if (text.empty()) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error::invalid(name, name + " must be an integer");
  }
  return value;
}

}  // namespace tph::api
