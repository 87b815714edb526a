#include "api/openapi.h"

#include <cctype>

namespace tph::api {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string operationId(const RouteSpec& route) {
  std::string id = lower(route.method);
  for (char c : route.pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += c;
    } else if (!id.empty() && id.back() != '_') {
      id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

nlohmann::json errorRef() {
  return {
      {"description", "error"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

nlohmann::json buildOpenApi(const Router& router, const std::string& version) {
  nlohmann::json doc = {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Tanpuhui API"},
        {"version", version},
        {"description",
         "Carbon-inclusive platform (碳普惠): behaviour data in, carbon accounts, incentives, "
         "PHCER certification and registry. Errors are "
         "{\"error\":{\"code\",\"field\",\"message\"}}."}}},
      {"paths", nlohmann::json::object()},
      {"components",
       {{"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"providerSignature",
           {{"type", "apiKey"},
            {"in", "header"},
            {"name", "X-Tph-Key"},
            {"description",
             "HMAC-SHA256 request signing with X-Tph-Timestamp, X-Tph-Nonce and X-Tph-Signature; "
             "see docs/api.md"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", {"code", "field", "message"}},
                {"properties",
                 {{"code", {{"type", "string"}}},
                  {"field", {{"type", "string"}}},
                  {"message", {{"type", "string"}}}}}}}}}}}}}}}};

  for (const auto& route : router.routes()) {
    nlohmann::json op = {
        {"summary", route.summary}, {"operationId", operationId(route)}, {"tags", {route.tag}}};
    nlohmann::json parameters = nlohmann::json::array();
    for (std::size_t pos = route.pattern.find('{'); pos != std::string::npos;
         pos = route.pattern.find('{', pos + 1)) {
      auto end = route.pattern.find('}', pos);
      parameters.push_back({{"name", route.pattern.substr(pos + 1, end - pos - 1)},
                            {"in", "path"},
                            {"required", true},
                            {"schema", {{"type", "string"}}}});
    }
    if (!parameters.empty()) op["parameters"] = parameters;
    switch (route.access) {
      case Access::kPublic:
        op["security"] = nlohmann::json::array();
        break;
      case Access::kSession:
        op["security"] = {{{"bearer", nlohmann::json::array()}}};
        break;
      case Access::kSigned:
        op["security"] = {{{"providerSignature", nlohmann::json::array()}}};
        break;
      case Access::kSessionOrSigned:
        op["security"] = {{{"bearer", nlohmann::json::array()}},
                          {{"providerSignature", nlohmann::json::array()}}};
        break;
    }
    if (!route.roles.empty()) {
      auto roles = nlohmann::json::array();
      for (auto role : route.roles) roles.push_back(auth::roleName(role));
      op["x-roles"] = roles;
    }
    if (!route.request_schema.is_null()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", route.request_schema}}}}}};
    }
    nlohmann::json responses;
    responses[std::to_string(route.success_status)] = {
        {"description", "success"},
        {"content", {{route.response_content_type, {{"schema", route.response_schema}}}}}};
    responses["default"] = errorRef();
    op["responses"] = responses;
    doc["paths"][route.pattern][lower(route.method)] = op;
  }
  return doc;
}

}  // namespace tph::api
