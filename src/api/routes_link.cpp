#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "link/link_hub.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json platformJson(const link::LinkedPlatform& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"region", p.region_code},
          {"public_key", p.public_key_hex},
          {"status", p.status}};
}

HttpResponse noKey() {
  return errorResponse(
      Error{ErrorCode::kUnavailable, "", "this node has no link key (--link-key-file)"});
}

//! A signed message in, a signed reply out.
template <class Fn>
HttpResponse signedExchange(RouteContext& ctx, link::LinkHub* hub, Fn&& fn) {
  if (!hub) return noKey();
  auto body = parseJsonObject(ctx.request);
  if (!body) return errorResponse(body.error());
  auto reply = fn(*hub, *body);
  if (!reply) return errorResponse(reply.error());
  return jsonResponse(*reply);
}

}  // namespace

void addLinkRoutes(Router& router, link::LinkHub* hub) {
  router.add({
      .method = "GET",
      .pattern = "/api/link/v1/schema",
      .access = Access::kPublic,
      .summary = "JSON Schemas of the province–city link messages (tph-link/1)",
      .tag = "link",
      .handler =
          [](RouteContext&) {
            auto response = jsonResponse(link::protocolSchema());
            response.setHeader("cache-control", "public, max-age=3600");
            return response;
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/link/v1/key",
      .access = Access::kPublic,
      .summary = "This node's Ed25519 public key, which signs its link replies",
      .tag = "link",
      .handler =
          [hub](RouteContext&) {
            if (!hub) return noKey();
            return jsonResponse(
                {{"protocol", link::kProtocol}, {"public_key", hub->publicKeyHex()}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/link/v1/messages",
      .access = Access::kPublic,
      .summary = "A linked platform's signed message; answered with a signed receipt",
      .tag = "link",
      .request_schema = {{"type", "object"}},
      .handler =
          [hub](RouteContext& ctx) {
            return signedExchange(ctx, hub,
                                  [](link::LinkHub& h, const json& m) { return h.receive(m); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/link/v1/reconcile",
      .access = Access::kPublic,
      .summary = "Compare a platform's day summaries with the province's; signed differences",
      .tag = "link",
      .request_schema = {{"type", "object"}},
      .handler =
          [hub](RouteContext& ctx) {
            return signedExchange(ctx, hub,
                                  [](link::LinkHub& h, const json& m) { return h.reconcile(m); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/link/platforms",
      .roles = {Role::kProvinceAdmin},
      .summary = "Register a linked city platform with its region and Ed25519 public key",
      .tag = "link",
      .request_schema = {{"type", "object"},
                         {"required", {"name", "region", "public_key"}},
                         {"properties",
                          {{"name", {{"type", "string"}}},
                           {"region", {{"type", "string"}}},
                           {"public_key", {{"type", "string"}}}}}},
      .success_status = 201,
      .handler =
          [hub](RouteContext& ctx) {
            if (!hub) return noKey();
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto region = requireString(*body, "region");
            if (!region) return errorResponse(region.error());
            auto key = requireString(*body, "public_key");
            if (!key) return errorResponse(key.error());
            auto p = hub->registerPlatform(ctx.caller(), *name, *region, *key);
            if (!p) return errorResponse(p.error());
            return jsonResponse(platformJson(*p), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/link/platforms",
      .roles = {Role::kProvinceAdmin},
      .summary = "Linked platforms",
      .tag = "link",
      .handler =
          [hub](RouteContext&) {
            if (!hub) return noKey();
            json out = json::array();
            for (const auto& p : hub->platforms()) out.push_back(platformJson(p));
            return jsonResponse({{"platforms", out}});
          },
  });
}

}  // namespace tph::api
