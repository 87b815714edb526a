// Carbon credit cards and green finance: bank partners, card links, conversions, the daily signed
// export and the bank's reconciliation.

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "incentive/card_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json schema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

json partnerJson(const incentive::CardPartner& p) {
  return {{"id", p.id},
          {"code", p.fields.code},
          {"name", p.fields.name},
          {"rate_points", p.fields.rate_points},
          {"rate_reward", p.fields.rate_reward},
          {"status", p.status},
          {"points", p.points.value()},
          {"created_at", formatIso8601(p.created_at)},
          {"updated_at", formatIso8601(p.updated_at)}};
}

json linkJson(const incentive::CardLink& k) {
  return {{"id", k.id},
          {"partner_id", k.partner_id},
          {"partner_name", k.partner_name},
          {"card_token", k.card_token},
          {"status", k.status},
          {"created_at", formatIso8601(k.created_at)}};
}

json conversionJson(const incentive::CardConversion& c) {
  return {{"id", c.id},
          {"link_id", c.link_id},
          {"partner_id", c.partner_id},
          {"points", c.points.value()},
          {"reward_points", c.reward_points},
          {"rate_points", c.rate_points},
          {"rate_reward", c.rate_reward},
          {"day", c.day},
          {"status", c.status},
          {"bank_reference", c.bank_reference},
          {"bank_reason", c.bank_reason},
          {"created_at", formatIso8601(c.created_at)}};
}

json reportJson(const incentive::ReconciliationReport& r) {
  return {
      {"partner_id", r.partner_id},
      {"day", r.day},
      {"exported", r.exported},
      {"confirmed", r.confirmed},
      {"rejected", r.rejected},
      {"unconfirmed", r.unconfirmed},
      {"points_confirmed", r.points_confirmed.value()},
      {"points_refunded", r.points_refunded.value()},
      {"reward_points_confirmed", r.reward_points_confirmed},
      {"discrepancies", r.discrepancies},
      {"reconciled_at", r.reconciled_at ? json(formatIso8601(*r.reconciled_at)) : json(nullptr)}};
}

template <class T, class Render>
HttpResponse render(const Result<T>& r, Render fn, int status = 200) {
  if (!r) return errorResponse(r.error());
  return jsonResponse(fn(*r), status);
}

template <class T, class Render>
HttpResponse renderList(const Result<std::vector<T>>& r, const char* key, Render fn) {
  if (!r) return errorResponse(r.error());
  json out = json::array();
  for (const auto& x : *r) out.push_back(fn(x));
  return jsonResponse({{key, out}});
}

Result<std::pair<std::int64_t, std::int64_t>> readRate(const json& body) {
  auto points = requireInteger(body, "rate_points");
  if (!points) return points.error();
  auto reward = requireInteger(body, "rate_reward");
  if (!reward) return reward.error();
  return std::pair{*points, *reward};
}

void addPartnerRoutes(Router& router, incentive::CardService& cards) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/card-partners",
      .roles = {Role::kProvinceAdmin},
      .summary = "Register a bank partner with its published rate; answers its secret once",
      .tag = "incentive",
      .request_schema = schema({"code", "name", "rate_points", "rate_reward"},
                               {{"code", {{"type", "string"}}},
                                {"name", {{"type", "string"}}},
                                {"rate_points", {{"type", "integer"}}},
                                {"rate_reward", {{"type", "integer"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&cards](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            incentive::CardPartnerFields f;
            for (auto [field, target] : {std::pair{"code", &f.code}, {"name", &f.name}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            auto rate = readRate(*body);
            if (!rate) return errorResponse(rate.error());
            std::tie(f.rate_points, f.rate_reward) = *rate;
            auto created = cards.registerPartner(ctx.caller(), f);
            if (!created) return errorResponse(created.error());
            json out = partnerJson(created->partner);
            out["export_secret"] = created->export_secret;
            return jsonResponse(out, 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/card-partners",
      .access = Access::kPublic,
      .summary = "Bank partners and their published rates",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext&) { return renderList(cards.partners(), "partners", partnerJson); },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/card-partners/{id}/rate",
      .roles = {Role::kProvinceAdmin},
      .summary = "Publish a partner's new rate (conversions made keep theirs)",
      .tag = "incentive",
      .request_schema =
          schema({"rate_points", "rate_reward"},
                 {{"rate_points", {{"type", "integer"}}}, {"rate_reward", {{"type", "integer"}}}}),
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto rate = readRate(*body);
            if (!rate) return errorResponse(rate.error());
            return render(cards.setRate(ctx.caller(), *id, rate->first, rate->second), partnerJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/card-partners/{id}/status",
      .roles = {Role::kProvinceAdmin},
      .summary = "Suspend or resume a partner",
      .tag = "incentive",
      .request_schema =
          schema({"action"}, {{"action", {{"type", "string"}, {"enum", {"suspend", "resume"}}}}}),
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto action = requireString(*body, "action");
            if (!action) return errorResponse(action.error());
            return render(cards.setPartnerStatus(ctx.caller(), *id, *action), partnerJson);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/card-partners/{id}/exports/{day}",
      .roles = {Role::kProvinceAdmin},
      .summary = "The signed CSV export of a Shanghai day's conversions (x-tph-signature header)",
      .tag = "incentive",
      .response_schema = {{"type", "string"}},
      .response_content_type = "text/csv",
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto e = cards.exportDay(ctx.caller(), *id, ctx.param("day"));
            if (!e) return errorResponse(e.error());
            HttpResponse response;
            response.status = 200;
            response.body = e->body;
            response.setHeader("content-type", "text/csv; charset=utf-8");
            response.setHeader("x-tph-signature", e->signature);
            response.setHeader("content-disposition", "attachment; filename=\"card-export-" +
                                                          std::to_string(*id) + "-" + e->day +
                                                          ".csv\"");
            return response;
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/card-partners/{id}/reconciliations/{day}",
      .roles = {Role::kProvinceAdmin},
      .summary = "Apply the bank's signed confirmation file of an exported day",
      .tag = "incentive",
      .request_schema = schema(
          {"day", "lines"},
          {{"day", {{"type", "string"}}}, {"lines", {{"type", "array"}, {"items", kObject}}}}),
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string signature(ctx.request.header("x-tph-signature"));
            if (signature.empty())
              return errorResponse(
                  Error::invalid("signature", "the bank's x-tph-signature header is required"));
            return render(
                cards.reconcile(ctx.caller(), *id, ctx.param("day"), ctx.request.body, signature),
                reportJson);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/card-partners/{id}/reconciliations/{day}",
      .roles = {Role::kProvinceAdmin},
      .summary = "What the bank confirmed of an exported day",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(cards.reconciliation(ctx.caller(), *id, ctx.param("day")), reportJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/card-partners/{id}/confirmations",
      .access = Access::kPublic,
      .summary = "The bank's system confirms (credited) or rejects exported conversions by id; "
                 "signed with the partner's secret (X-Tph-Timestamp, X-Tph-Nonce, "
                 "X-Tph-Signature)",
      .tag = "incentive",
      .request_schema =
          schema({"confirmations"}, {{"confirmations", {{"type", "array"}, {"items", kObject}}}}),
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            incentive::SignedPartnerRequest r{
                *id,
                ctx.request.method,
                ctx.request.target,
                std::string(ctx.request.header("x-tph-timestamp")),
                std::string(ctx.request.header("x-tph-nonce")),
                std::string(ctx.request.header("x-tph-signature")),
                ctx.request.body,
            };
            auto outcomes = cards.confirmSigned(r);
            if (!outcomes) return errorResponse(outcomes.error());
            json out = json::array();
            for (const auto& o : *outcomes)
              out.push_back({{"conversion_id", o.conversion_id},
                             {"outcome", o.outcome},
                             {"status", o.status.empty() ? json(nullptr) : json(o.status)},
                             {"message", o.message}});
            return jsonResponse({{"results", out}});
          },
  });
}

void addLinkRoutes(Router& router, incentive::CardService& cards) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/cards",
      .roles = {Role::kResident},
      .summary = "Link a carbon credit card by the bank's tokenized reference",
      .tag = "incentive",
      .request_schema =
          schema({"partner_id", "card_token"},
                 {{"partner_id", {{"type", "integer"}}}, {"card_token", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&cards](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto partner = requireInteger(*body, "partner_id");
            if (!partner) return errorResponse(partner.error());
            auto token = requireString(*body, "card_token");
            if (!token) return errorResponse(token.error());
            return render(cards.linkCard(ctx.caller(), *partner, *token), linkJson, 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/cards",
      .summary = "Your linked cards",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            return renderList(cards.links(ctx.caller()), "cards", linkJson);
          },
  });
  router.add({
      .method = "DELETE",
      .pattern = "/api/v1/cards/{id}",
      .summary = "Unlink a card (its conversions stay)",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(cards.unlinkCard(ctx.caller(), *id), linkJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/cards/{id}/conversions",
      .roles = {Role::kResident},
      .summary = "Convert points into the card's reward points at the partner's rate",
      .tag = "incentive",
      .request_schema = schema({"points"}, {{"points", {{"type", "integer"}}},
                                            {"idempotency_key", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&cards](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto points = requireInteger(*body, "points");
            if (!points) return errorResponse(points.error());
            auto key = optionalString(*body, "idempotency_key");
            if (!key) return errorResponse(key.error());
            std::string k =
                key->empty() ? std::string(ctx.request.header("idempotency-key")) : *key;
            if (k.empty())
              return errorResponse(Error::invalid(
                  "idempotency_key", "idempotency_key (or an Idempotency-Key header) is required"));
            return render(cards.convert(ctx.caller(), *id, Points(*points), k), conversionJson,
                          201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/card-conversions",
      .summary = "Your card conversions, newest first",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&cards](RouteContext& ctx) {
            return renderList(cards.conversions(ctx.caller()), "conversions", conversionJson);
          },
  });
}

}  // namespace

void addCardRoutes(Router& router, incentive::CardService& cards) {
  addPartnerRoutes(router, cards);
  addLinkRoutes(router, cards);
}

}  // namespace tph::api
