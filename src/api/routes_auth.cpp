#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "auth/auth_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json userJson(const auth::User& user) {
  json roles = json::array();
  for (const auto& g : user.grants) {
    roles.push_back({{"role", auth::roleName(g.role)},
                     {"region", g.region_code.empty() ? json(nullptr) : json(g.region_code)}});
  }
  return {{"id", user.id},
          {"username", user.username},
          {"display_name", user.display_name},
          {"status", user.status},
          {"roles", roles},
          {"created_at", formatIso8601(user.created_at)}};
}

const json kRoleGrantSchema = {
    {"type", "object"},
    {"required", {"role"}},
    {"properties", {{"role", {{"type", "string"}}}, {"region", {{"type", "string"}}}}}};

const json kUserSchema = {{"type", "object"},
                          {"properties",
                           {{"id", {{"type", "integer"}}},
                            {"username", {{"type", "string"}}},
                            {"display_name", {{"type", "string"}}},
                            {"status", {{"type", "string"}}},
                            {"roles", {{"type", "array"}, {"items", kRoleGrantSchema}}},
                            {"created_at", {{"type", "string"}, {"format", "date-time"}}}}}};

const json kCredentialsSchema = {
    {"type", "object"},
    {"required", {"username", "password"}},
    {"properties", {{"username", {{"type", "string"}}}, {"password", {{"type", "string"}}}}}};

std::string bearer(const HttpRequest& request) {
  auto header = request.header("authorization");
  return header.size() > 7 ? std::string(header.substr(7)) : std::string();
}

//! Reads name, password and display_name from a body.
Result<auth::NewUser> readNewUser(const json& body) {
  auth::NewUser user;
  auto username = requireString(body, "username");
  if (!username) return username.error();
  auto password = requireString(body, "password");
  if (!password) return password.error();
  auto display = requireString(body, "display_name");
  if (!display) return display.error();
  user.username = *username;
  user.password = *password;
  user.display_name = *display;
  return user;
}

Result<std::vector<auth::RoleGrant>> readGrants(const json& body) {
  auto it = body.find("roles");
  if (it == body.end() || !it->is_array() || it->empty()) {
    return Error::invalid("roles", "roles must be a non-empty array of {role, region}");
  }
  std::vector<auth::RoleGrant> grants;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    std::string field = "roles[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Error::invalid(field, "must be an object {role, region}");
    auto name = requireString(entry, "role");
    if (!name) return Error::invalid(field + ".role", name.error().message);
    auto role = auth::parseRole(*name);
    if (!role) return Error::invalid(field + ".role", "unknown role " + *name);
    auto region = optionalString(entry, "region");
    if (!region) return Error::invalid(field + ".region", region.error().message);
    grants.push_back({*role, *region});
  }
  return grants;
}

}  // namespace

void addAuthRoutes(Router& router, auth::AuthService& auth) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/auth/register",
      .access = Access::kPublic,
      .summary = "Sign up as a resident",
      .tag = "auth",
      .request_schema = {{"type", "object"},
                         {"required", {"username", "password", "display_name"}},
                         {"properties",
                          {{"username", {{"type", "string"}}},
                           {"password", {{"type", "string"}, {"minLength", 10}}},
                           {"display_name", {{"type", "string"}}}}}},
      .response_schema = kUserSchema,
      .success_status = 201,
      .handler =
          [&auth](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto request = readNewUser(*body);
            if (!request) return errorResponse(request.error());
            auto user = auth.registerResident(*request);
            if (!user) return errorResponse(user.error());
            return jsonResponse(userJson(*user), 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/auth/login",
      .access = Access::kPublic,
      .summary = "Sign in; returns a bearer token",
      .tag = "auth",
      .request_schema = kCredentialsSchema,
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"token", {{"type", "string"}}},
                            {"expires_at", {{"type", "string"}, {"format", "date-time"}}},
                            {"user", kUserSchema}}}},
      .handler =
          [&auth](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto username = requireString(*body, "username");
            if (!username) return errorResponse(username.error());
            auto password = requireString(*body, "password");
            if (!password) return errorResponse(password.error());
            auto result = auth.login(*username, *password, ctx.request.client_address);
            if (!result) return errorResponse(result.error());
            return jsonResponse({{"token", result->token},
                                 {"expires_at", formatIso8601(result->expires_at)},
                                 {"user", userJson(result->user)}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/auth/logout",
      .access = Access::kSession,
      .summary = "Sign out: the token stops working at once",
      .tag = "auth",
      .response_schema = {{"type", "object"}},
      .handler =
          [&auth](RouteContext& ctx) {
            auto done = auth.logout(bearer(ctx.request));
            if (!done) return errorResponse(done.error());
            return jsonResponse({{"signed_out", true}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/me",
      .access = Access::kSessionOrSigned,
      .summary = "Who is calling: the user and its roles",
      .tag = "auth",
      .response_schema = kUserSchema,
      .handler =
          [](RouteContext& ctx) {
            const auto& p = ctx.caller();
            auth::User user{p.user_id, p.username, p.display_name, "active", p.grants, {}};
            json out = userJson(user);
            out.erase("created_at");
            if (!p.api_key_id.empty()) out["api_key_id"] = p.api_key_id;
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/users",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Create a user with roles (province admin; region admin within its region)",
      .tag = "auth",
      .request_schema = {{"type", "object"},
                         {"required", {"username", "password", "display_name", "roles"}},
                         {"properties",
                          {{"username", {{"type", "string"}}},
                           {"password", {{"type", "string"}}},
                           {"display_name", {{"type", "string"}}},
                           {"roles", {{"type", "array"}, {"items", kRoleGrantSchema}}}}}},
      .response_schema = kUserSchema,
      .success_status = 201,
      .handler =
          [&auth](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto request = readNewUser(*body);
            if (!request) return errorResponse(request.error());
            auto grants = readGrants(*body);
            if (!grants) return errorResponse(grants.error());
            request->grants = *grants;
            auto user = auth.createUser(ctx.caller(), *request);
            if (!user) return errorResponse(user.error());
            return jsonResponse(userJson(*user), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/users",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "List users, filtered by role, region and text (limit, offset)",
      .tag = "auth",
      .response_schema = {{"type", "object"},
                          {"properties", {{"users", {{"type", "array"}, {"items", kUserSchema}}}}}},
      .handler =
          [&auth](RouteContext& ctx) {
            auth::UserQuery query;
            auto role = ctx.request.queryParam("role");
            if (!role.empty()) {
              query.role = auth::parseRole(role);
              if (!query.role) return errorResponse(Error::invalid("role", "unknown role " + role));
            }
            query.region_code = ctx.request.queryParam("region");
            query.text = ctx.request.queryParam("q");
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            query.limit = *limit;
            query.offset = *offset;
            auto users = auth.listUsers(ctx.caller(), query);
            if (!users) return errorResponse(users.error());
            json out = json::array();
            for (const auto& u : *users) out.push_back(userJson(u));
            return jsonResponse({{"users", out}, {"limit", query.limit}, {"offset", query.offset}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/users/{id}",
      .access = Access::kSession,
      .summary = "One user (yourself, or one an admin may see)",
      .tag = "auth",
      .response_schema = kUserSchema,
      .handler =
          [&auth](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto user = auth.getUser(ctx.caller(), *id);
            if (!user) return errorResponse(user.error());
            return jsonResponse(userJson(*user));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/users/{id}/api-keys",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Create an API key for a provider user; the secret is shown only here",
      .tag = "auth",
      .request_schema = {{"type", "object"}, {"properties", {{"label", {{"type", "string"}}}}}},
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"key_id", {{"type", "string"}}},
                            {"secret", {{"type", "string"}}},
                            {"user_id", {{"type", "integer"}}},
                            {"label", {{"type", "string"}}}}}},
      .success_status = 201,
      .handler =
          [&auth](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string label;
            if (!ctx.request.body.empty()) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto l = optionalString(*body, "label");
              if (!l) return errorResponse(l.error());
              label = *l;
            }
            auto key = auth.createApiKey(ctx.caller(), *id, label);
            if (!key) return errorResponse(key.error());
            return jsonResponse({{"key_id", key->key_id},
                                 {"secret", key->secret},
                                 {"user_id", key->user_id},
                                 {"label", key->label},
                                 {"created_at", formatIso8601(key->created_at)}},
                                201);
          },
  });
  router.add({
      .method = "DELETE",
      .pattern = "/api/v1/api-keys/{key_id}",
      .access = Access::kSessionOrSigned,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin, Role::kProvider},
      .summary = "Revoke an API key (an admin, or the provider with the key itself)",
      .tag = "auth",
      .response_schema = {{"type", "object"}},
      .handler =
          [&auth](RouteContext& ctx) {
            auto done = auth.revokeApiKey(ctx.caller(), ctx.param("key_id"));
            if (!done) return errorResponse(done.error());
            return jsonResponse({{"revoked", true}});
          },
  });
}

}  // namespace tph::api
