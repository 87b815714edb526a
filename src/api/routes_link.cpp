#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "link/link_city.h"
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

json spotCheckJson(const link::SpotCheck& c) {
  json findings = json::array();
  for (const auto& f : c.findings) findings.push_back({{"field", f.field}, {"message", f.message}});
  return {{"id", c.id},
          {"platform_id", c.platform_id},
          {"day", c.day},
          {"region", c.region_code},
          {"methodology_id", c.methodology_id},
          {"methodology_version", c.methodology_version},
          {"records_digest", c.records_digest},
          {"records", c.records},
          {"grams", c.grams},
          {"state", c.state},
          {"findings", findings},
          {"requested_by", c.requested_by},
          {"requested_at", formatIso8601(c.requested_at)},
          {"answered_at", c.answered_at ? json(formatIso8601(*c.answered_at)) : json()}};
}

json submissionJson(const link::Submission& s) {
  return {{"kind", s.kind},
          {"message_id", s.message_id},
          {"reference", s.reference},
          {"outcome", s.outcome},
          {"reason", s.reason},
          {"province_id", s.province_id ? json(*s.province_id) : json()},
          {"received_at", formatIso8601(s.received_at)}};
}

//! A city node's submission: {field: id} in, the queued message's id out.
template <class Fn>
HttpResponse submitToProvince(RouteContext& ctx, const std::string& field,
                              link::LinkCityRunner& runner, Fn&& fn) {
  auto body = parseJsonObject(ctx.request);
  if (!body) return errorResponse(body.error());
  auto id = requireInteger(*body, field);
  if (!id) return errorResponse(id.error());
  auto queued = fn(*id);
  if (!queued) return errorResponse(queued.error());
  runner.poke();
  return jsonResponse({{"message_id", *queued}, {"state", "pending"}}, 202);
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
  router.add({
      .method = "POST",
      .pattern = "/api/link/v1/feed",
      .access = Access::kPublic,
      .summary = "A platform's signed pull: the province's signed messages after the seqs it holds",
      .tag = "link",
      .request_schema = {{"type", "object"}},
      .handler =
          [hub](RouteContext& ctx) {
            return signedExchange(ctx, hub,
                                  [](link::LinkHub& h, const json& m) { return h.pull(m); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/link/v1/whoami",
      .access = Access::kPublic,
      .summary = "Which platform a key belongs to; signed by the key's holder, answered signed",
      .tag = "link",
      .request_schema = {{"type", "object"}},
      .handler =
          [hub](RouteContext& ctx) {
            return signedExchange(ctx, hub,
                                  [](link::LinkHub& h, const json& m) { return h.whoami(m); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/link/platforms/{id}/spot-checks",
      .roles = {Role::kProvinceAdmin},
      .summary = "Ask a platform for the records behind one of its aggregates",
      .tag = "link",
      .request_schema = {{"type", "object"},
                         {"required", {"day", "region", "methodology_id", "methodology_version"}},
                         {"properties",
                          {{"day", {{"type", "string"}}},
                           {"region", {{"type", "string"}}},
                           {"methodology_id", {{"type", "string"}}},
                           {"methodology_version", {{"type", "integer"}}}}}},
      .success_status = 201,
      .handler =
          [hub](RouteContext& ctx) {
            if (!hub) return noKey();
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              link::SpotCheckRequest r;
              r.platform_id = id;
              for (auto [field, out] :
                   {std::pair{"day", &r.day}, std::pair{"region", &r.region_code},
                    std::pair{"methodology_id", &r.methodology_id}}) {
                auto value = requireString(body, field);
                if (!value) return errorResponse(value.error());
                *out = *value;
              }
              auto version = requireInteger(body, "methodology_version");
              if (!version) return errorResponse(version.error());
              if (*version < 1 || *version > 100'000) {
                return errorResponse(
                    Error::invalid("methodology_version", "must be a version number"));
              }
              r.methodology_version = static_cast<int>(*version);
              auto check = hub->requestSpotCheck(ctx.caller(), r);
              if (!check) return errorResponse(check.error());
              return jsonResponse(spotCheckJson(*check), 201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/link/platforms/{id}/spot-checks",
      .roles = {Role::kProvinceAdmin, Role::kAuditor},
      .summary = "A platform's spot checks, newest first, with their findings",
      .tag = "link",
      .handler =
          [hub](RouteContext& ctx) {
            if (!hub) return noKey();
            return withId(ctx, [&](std::int64_t id) {
              auto checks = hub->spotChecks(ctx.caller(), id);
              if (!checks) return errorResponse(checks.error());
              json out = json::array();
              for (const auto& c : *checks) out.push_back(spotCheckJson(c));
              return jsonResponse({{"spot_checks", out}});
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/link/platforms/{id}/submissions",
      .roles = {Role::kProvinceAdmin, Role::kAuditor},
      .summary = "Methodology versions and certification batches a platform submitted",
      .tag = "link",
      .handler =
          [hub](RouteContext& ctx) {
            if (!hub) return noKey();
            return withId(ctx, [&](std::int64_t id) {
              auto list = hub->submissions(ctx.caller(), id);
              if (!list) return errorResponse(list.error());
              json out = json::array();
              for (const auto& s : *list) out.push_back(submissionJson(s));
              return jsonResponse({{"submissions", out}});
            });
          },
  });
}

void addLinkCityRoutes(Router& router, link::CityNode& node, link::LinkCityRunner& runner) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/link/outbox/methodologies",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "City node: submit a locally approved methodology version for provincial approval",
      .tag = "link",
      .request_schema = {{"type", "object"},
                         {"required", {"version_id"}},
                         {"properties", {{"version_id", {{"type", "integer"}}}}}},
      .success_status = 202,
      .handler =
          [&node, &runner](RouteContext& ctx) {
            return submitToProvince(ctx, "version_id", runner, [&](std::int64_t id) {
              return node.submitMethodology(ctx.caller(), id);
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/link/outbox/batches",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "City node: submit a certification batch with its report for provincial issuance",
      .tag = "link",
      .request_schema = {{"type", "object"},
                         {"required", {"batch_id"}},
                         {"properties", {{"batch_id", {{"type", "integer"}}}}}},
      .success_status = 202,
      .handler =
          [&node, &runner](RouteContext& ctx) {
            return submitToProvince(ctx, "batch_id", runner, [&](std::int64_t id) {
              return node.submitBatch(ctx.caller(), id);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/link/outbox",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin, Role::kAuditor},
      .summary = "City node: the link's state and the outbox's latest messages with their outcomes",
      .tag = "link",
      .handler =
          [&node, &runner](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            if (*limit < 1 || *limit > 500) {
              return errorResponse(Error::invalid("limit", "must be 1-500"));
            }
            auto out = node.outboxStatus(*limit);
            auto last = runner.lastReport();
            out["last_sync"] = {
                {"connected", last.connected},
                {"days_queued", last.days_queued},
                {"sent", last.drained.sent},
                {"failed", last.drained.failed},
                {"applied", last.pulled.applied},
                {"error", last.error.empty() ? last.drained.last_error : last.error}};
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/link/province/{stream}",
      .access = Access::kPublic,
      .summary = "City node: the province's catalogue, offers or registry status as last received",
      .tag = "link",
      .handler =
          [&node](RouteContext& ctx) {
            auto items = node.provinceItems(ctx.param("stream"));
            if (!items) return errorResponse(items.error());
            return jsonResponse({{"stream", ctx.param("stream")}, {"items", *items}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/link/v1/inbound",
      .access = Access::kPublic,
      .summary = "City node: a province-signed message delivered to the node",
      .tag = "link",
      .request_schema = {{"type", "object"}},
      .handler =
          [&node](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto applied = node.applyMessage(*body);
            if (!applied) return errorResponse(applied.error());
            return jsonResponse(
                {{"message_id", body->value("message_id", "")}, {"status", *applied}});
          },
  });
}

}  // namespace tph::api
