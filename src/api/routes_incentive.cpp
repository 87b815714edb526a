#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "incentive/benefit_service.h"
#include "incentive/merchant_service.h"
#include "incentive/qr_code.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json schema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

json merchantJson(const incentive::Merchant& m) {
  const auto& a = m.application;
  return {{"id", m.id},
          {"name", a.name},
          {"licence_no", a.licence_no},
          {"category", a.category},
          {"region", a.region_code},
          {"address", a.address},
          {"contact", a.contact},
          {"applicant_user_id", m.applicant_user_id},
          {"status", m.status},
          {"decision_reason", m.decision_reason},
          {"points", m.points.value()},
          {"created_at", formatIso8601(m.created_at)},
          {"decided_at", m.decided_at ? json(formatIso8601(*m.decided_at)) : json(nullptr)}};
}

json offerJson(const incentive::Offer& o) {
  const auto& f = o.fields;
  return {{"id", o.id},
          {"merchant_id", o.merchant_id},
          {"merchant_name", o.merchant_name},
          {"title_zh", f.title_zh},
          {"title_en", f.title_en},
          {"description", f.description},
          {"image_url", f.image_url},
          {"points_cost", f.points_cost.value()},
          {"stock", f.stock},
          {"issued", o.issued},
          {"remaining", o.remaining()},
          {"per_user_limit", f.per_user_limit},
          {"valid_from", formatIso8601(f.valid_from)},
          {"valid_until", formatIso8601(f.valid_until)},
          {"voucher_valid_days", f.voucher_valid_days},
          {"regions", f.regions},
          {"status", o.status},
          {"updated_at", formatIso8601(o.updated_at)}};
}

json voucherJson(const incentive::Voucher& v) {
  return {{"id", v.id},
          {"code", v.code},
          {"offer_id", v.offer_id},
          {"merchant_id", v.merchant_id},
          {"merchant_name", v.merchant_name},
          {"title_zh", v.title_zh},
          {"title_en", v.title_en},
          {"points", v.points.value()},
          {"status", v.status},
          {"issued_at", formatIso8601(v.issued_at)},
          {"expires_at", formatIso8601(v.expires_at)},
          {"used_at", v.used_at ? json(formatIso8601(*v.used_at)) : json(nullptr)}};
}

json lineJson(const incentive::SettlementLine& l) {
  return {{"offer_id", l.offer_id},
          {"title_zh", l.title_zh},
          {"issued", l.issued},
          {"used", l.used},
          {"expired", l.expired},
          {"cancelled", l.cancelled},
          {"points_received", l.points_received.value()},
          {"points_refunded", l.points_refunded.value()},
          {"points_net", (l.points_received - l.points_refunded).value()}};
}

template <class T, class Render>
HttpResponse render(const Result<T>& r, Render fn, int status = 200) {
  if (!r) return errorResponse(r.error());
  return jsonResponse(fn(*r), status);
}

Result<std::string> idempotencyKey(const HttpRequest& request, const json& body) {
  auto key = optionalString(body, "idempotency_key");
  if (!key) return key.error();
  std::string out = key->empty() ? std::string(request.header("idempotency-key")) : *key;
  if (out.empty())
    return Error::invalid("idempotency_key",
                          "idempotency_key (or an Idempotency-Key header) is required");
  return out;
}

Result<Instant> requireInstant(const json& body, const std::string& field) {
  auto text = requireString(body, field);
  if (!text) return text.error();
  auto t = parseIso8601(*text);
  if (!t) return Error::invalid(field, field + " is an RFC 3339 instant");
  return *t;
}

Result<incentive::OfferFields> readOffer(const json& body) {
  incentive::OfferFields f;
  for (auto [field, target] : {std::pair{"title_zh", &f.title_zh}, {"title_en", &f.title_en}}) {
    auto v = requireString(body, field);
    if (!v) return v.error();
    *target = *v;
  }
  for (auto [field, target] :
       {std::pair{"description", &f.description}, {"image_url", &f.image_url}}) {
    auto v = optionalString(body, field);
    if (!v) return v.error();
    *target = *v;
  }
  auto cost = requireInteger(body, "points_cost");
  if (!cost) return cost.error();
  f.points_cost = Points(*cost);
  auto stock = requireInteger(body, "stock");
  if (!stock) return stock.error();
  f.stock = *stock;
  auto limit = requireInteger(body, "per_user_limit");
  if (!limit) return limit.error();
  if (*limit < 1 || *limit > incentive::kOfferMaxPerUserLimit)
    return Error::invalid("per_user_limit", "per_user_limit must be 1-1000");
  f.per_user_limit = static_cast<int>(*limit);
  auto from = requireInstant(body, "valid_from");
  if (!from) return from.error();
  f.valid_from = *from;
  auto until = requireInstant(body, "valid_until");
  if (!until) return until.error();
  f.valid_until = *until;
  auto days = requireInteger(body, "voucher_valid_days");
  if (!days) return days.error();
  if (*days < 1 || *days > incentive::kVoucherMaxValidDays)
    return Error::invalid("voucher_valid_days", "voucher_valid_days must be 1-366");
  f.voucher_valid_days = static_cast<int>(*days);
  if (!body.contains("regions") || !body["regions"].is_array())
    return Error::invalid("regions", "regions is an array of region codes");
  for (const auto& r : body["regions"]) {
    if (!r.is_string()) return Error::invalid("regions", "regions is an array of region codes");
    f.regions.push_back(r.get<std::string>());
  }
  return f;
}

const json kOfferSchema =
    schema({"title_zh", "title_en", "points_cost", "stock", "per_user_limit", "valid_from",
            "valid_until", "voucher_valid_days", "regions"},
           {{"title_zh", {{"type", "string"}}},
            {"title_en", {{"type", "string"}}},
            {"description", {{"type", "string"}}},
            {"image_url", {{"type", "string"}}},
            {"points_cost", {{"type", "integer"}}},
            {"stock", {{"type", "integer"}}},
            {"per_user_limit", {{"type", "integer"}}},
            {"valid_from", {{"type", "string"}, {"format", "date-time"}}},
            {"valid_until", {{"type", "string"}, {"format", "date-time"}}},
            {"voucher_valid_days", {{"type", "integer"}}},
            {"regions", {{"type", "array"}, {"items", {{"type", "string"}}}}}});

HttpResponse binary(std::string body, const std::string& content_type) {
  HttpResponse response;
  response.status = 200;
  response.body = std::move(body);
  response.setHeader("content-type", content_type);
  response.setHeader("cache-control", "private, no-store");
  return response;
}

void addMerchantRoutes(Router& router, incentive::MerchantService& merchants) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/merchants",
      .summary = "Apply for a business to join the low-carbon merchant alliance",
      .tag = "incentive",
      .request_schema = schema({"name", "licence_no", "category", "region", "address", "contact"},
                               {{"name", {{"type", "string"}}},
                                {"licence_no", {{"type", "string"}}},
                                {"category", {{"type", "string"}}},
                                {"region", {{"type", "string"}}},
                                {"address", {{"type", "string"}}},
                                {"contact", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            incentive::MerchantApplication a;
            for (auto [field, target] : {std::pair{"name", &a.name},
                                         {"licence_no", &a.licence_no},
                                         {"category", &a.category},
                                         {"region", &a.region_code},
                                         {"address", &a.address},
                                         {"contact", &a.contact}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            return render(merchants.apply(ctx.caller(), a), merchantJson, 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/merchants",
      .summary = "Merchants of your regions (admins) or the ones you applied for; ?status=",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto list = merchants.merchants(ctx.caller(), ctx.request.queryParam("status"));
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& m : *list) out.push_back(merchantJson(m));
            return jsonResponse({{"merchants", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/merchants/{id}",
      .summary = "One merchant, with the points it has received",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(merchants.merchant(ctx.caller(), *id), merchantJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/merchants/{id}/decision",
      .roles = {Role::kRegionAdmin, Role::kProvinceAdmin},
      .summary = "Approve or reject (with a reason) a merchant's application",
      .tag = "incentive",
      .request_schema = schema(
          {"approve"}, {{"approve", {{"type", "boolean"}}}, {"reason", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            if (!body->contains("approve") || !(*body)["approve"].is_boolean())
              return errorResponse(Error::invalid("approve", "approve is true or false"));
            auto reason = optionalString(*body, "reason");
            if (!reason) return errorResponse(reason.error());
            return render(
                merchants.decide(ctx.caller(), *id, (*body)["approve"].get<bool>(), *reason),
                merchantJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/merchants/{id}/offers",
      .roles = {Role::kMerchant},
      .summary = "Publish an offer",
      .tag = "incentive",
      .request_schema = kOfferSchema,
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto fields = readOffer(*body);
            if (!fields) return errorResponse(fields.error());
            return render(merchants.createOffer(ctx.caller(), *id, *fields), offerJson, 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/merchants/{id}/vouchers/use",
      .roles = {Role::kMerchant},
      .summary = "Accept a voucher at the counter by its scanned or typed code",
      .tag = "incentive",
      .request_schema = schema({"code"}, {{"code", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto code = requireString(*body, "code");
            if (!code) return errorResponse(code.error());
            return render(merchants.useVoucher(ctx.caller(), *id, *code), voucherJson);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/merchants/{id}/settlements/{month}",
      .summary = "A monthly settlement statement (YYYY-MM); ?format=xlsx for the workbook",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string format = ctx.request.queryParam("format");
            if (!format.empty() && format != "json" && format != "xlsx")
              return errorResponse(Error::invalid("format", "format is json or xlsx"));
            auto s = merchants.settlement(ctx.caller(), *id, ctx.param("month"));
            if (!s) return errorResponse(s.error());
            if (format == "xlsx") {
              auto xlsx = incentive::settlementXlsx(*s);
              if (!xlsx) return errorResponse(xlsx.error());
              auto response = binary(
                  *xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
              response.setHeader("content-disposition", "attachment; filename=\"settlement-" +
                                                            std::to_string(*id) + "-" + s->month +
                                                            ".xlsx\"");
              return response;
            }
            json lines = json::array();
            for (const auto& l : s->lines) lines.push_back(lineJson(l));
            return jsonResponse({{"merchant", merchantJson(s->merchant)},
                                 {"month", s->month},
                                 {"lines", lines},
                                 {"total", lineJson(s->total)},
                                 {"generated_at", formatIso8601(s->generated_at)}});
          },
  });
}

void addOfferRoutes(Router& router, incentive::MerchantService& merchants) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/offers",
      .access = Access::kPublic,
      .summary = "Offers open now; ?region= (offered there), ?merchant=, ?limit=, ?offset=",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            incentive::OfferQuery q;
            q.region_code = ctx.request.queryParam("region");
            std::string merchant = ctx.request.queryParam("merchant");
            if (!merchant.empty()) {
              auto id = parseId(merchant, "merchant");
              if (!id) return errorResponse(id.error());
              q.merchant_id = *id;
            }
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            q.limit = *limit;
            q.offset = *offset;
            auto list = merchants.offers(q);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& o : *list) out.push_back(offerJson(o));
            return jsonResponse({{"offers", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/offers/{id}",
      .access = Access::kPublic,
      .summary = "One offer",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(merchants.offer(*id), offerJson);
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/offers/{id}",
      .roles = {Role::kMerchant},
      .summary = "Edit an offer (vouchers already issued keep their terms)",
      .tag = "incentive",
      .request_schema = kOfferSchema,
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto fields = readOffer(*body);
            if (!fields) return errorResponse(fields.error());
            return render(merchants.updateOffer(ctx.caller(), *id, *fields), offerJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/offers/{id}/status",
      .roles = {Role::kMerchant, Role::kRegionAdmin, Role::kProvinceAdmin},
      .summary = "Pause, resume or end an offer",
      .tag = "incentive",
      .request_schema = schema(
          {"action"}, {{"action", {{"type", "string"}, {"enum", {"pause", "resume", "end"}}}}}),
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto action = requireString(*body, "action");
            if (!action) return errorResponse(action.error());
            return render(merchants.changeOfferStatus(ctx.caller(), *id, *action), offerJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/offers/{id}/redeem",
      .roles = {Role::kResident},
      .summary = "Spend points on an offer for a voucher",
      .tag = "incentive",
      .request_schema = schema({}, {{"idempotency_key", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            return render(merchants.redeemOffer(ctx.caller(), *id, *key), voucherJson, 201);
          },
  });
}

void addVoucherRoutes(Router& router, incentive::MerchantService& merchants) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/vouchers",
      .summary = "Your vouchers, newest first",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = merchants.myVouchers(ctx.caller(), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& v : *list) out.push_back(voucherJson(v));
            return jsonResponse({{"vouchers", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/vouchers/{id}",
      .summary = "One of your vouchers (or one your merchant issued)",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(merchants.voucher(ctx.caller(), *id), voucherJson);
          },
  });
  for (const char* format : {"svg", "png"}) {
    std::string kind = format;
    router.add({
        .method = "GET",
        .pattern = "/api/v1/vouchers/{id}/qr." + kind,
        .summary = "The voucher's code as a QR image (" + kind + "); ?scale= for PNG pixels",
        .tag = "incentive",
        .response_schema = {{"type", "string"}, {"format", "binary"}},
        .response_content_type = kind == "svg" ? "image/svg+xml" : "image/png",
        .handler =
            [&merchants, kind](RouteContext& ctx) {
              auto id = parseId(ctx.param("id"), "id");
              if (!id) return errorResponse(id.error());
              auto v = merchants.voucher(ctx.caller(), *id);
              if (!v) return errorResponse(v.error());
              if (kind == "svg") {
                auto svg = incentive::qrSvg(v->code);
                if (!svg) return errorResponse(svg.error());
                return binary(*svg, "image/svg+xml");
              }
              auto scale = queryInt(ctx.request, "scale", 8);
              if (!scale) return errorResponse(scale.error());
              auto png = incentive::qrPng(v->code, *scale);
              if (!png) return errorResponse(png.error());
              return binary(*png, "image/png");
            },
    });
  }
  router.add({
      .method = "POST",
      .pattern = "/api/v1/vouchers/{id}/cancel",
      .summary = "Cancel an unused voucher: its points come back",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(merchants.cancelVoucher(ctx.caller(), *id), voucherJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/vouchers/expire",
      .roles = {Role::kProvinceAdmin},
      .summary = "Expire every voucher past its expiry now, returning their points",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&merchants](RouteContext& ctx) {
            auto r = merchants.expireVouchers(ctx.caller().auditActor());
            if (!r) return errorResponse(r.error());
            return jsonResponse(
                {{"expired", r->expired}, {"points_returned", r->points_returned.value()}});
          },
  });
}

json policyJson(const incentive::BenefitPolicy& p) {
  const auto& f = p.fields;
  return {{"id", p.id},
          {"region", f.region_code},
          {"kind", f.kind},
          {"name_zh", f.name_zh},
          {"name_en", f.name_en},
          {"description", f.description},
          {"points_price", f.points_price.value()},
          {"monthly_budget_units", f.monthly_budget_units},
          {"units_used_this_month", p.units_used_this_month},
          {"per_user_monthly_limit", f.per_user_monthly_limit},
          {"fulfilment", f.fulfilment},
          {"status", p.status},
          {"created_at", formatIso8601(p.created_at)}};
}

json claimJson(const incentive::BenefitClaim& c) {
  return {{"id", c.id},
          {"policy_id", c.policy_id},
          {"month", c.month},
          {"units", c.units},
          {"points", c.points.value()},
          {"status", c.status},
          {"entitlement_code", c.entitlement_code},
          {"partner_reference", c.partner_reference},
          {"failure_reason", c.failure_reason},
          {"created_at", formatIso8601(c.created_at)}};
}

void addBenefitRoutes(Router& router, incentive::BenefitService& benefits) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/benefits/policies",
      .roles = {Role::kRegionAdmin, Role::kProvinceAdmin},
      .summary =
          "Define a public-service benefit; a webhook policy answers its signing secret once",
      .tag = "incentive",
      .request_schema = schema(
          {"region", "kind", "name_zh", "name_en", "points_price", "monthly_budget_units",
           "per_user_monthly_limit", "fulfilment"},
          {{"region", {{"type", "string"}}},
           {"kind",
            {{"type", "string"}, {"enum", {"parking", "transit", "plate_lottery", "other"}}}},
           {"name_zh", {{"type", "string"}}},
           {"name_en", {{"type", "string"}}},
           {"description", {{"type", "string"}}},
           {"points_price", {{"type", "integer"}}},
           {"monthly_budget_units", {{"type", "integer"}}},
           {"per_user_monthly_limit", {{"type", "integer"}}},
           {"fulfilment", {{"type", "string"}, {"enum", {"code", "webhook"}}}},
           {"webhook_url", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&benefits](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            incentive::BenefitPolicyFields f;
            for (auto [field, target] : {std::pair{"region", &f.region_code},
                                         {"kind", &f.kind},
                                         {"name_zh", &f.name_zh},
                                         {"name_en", &f.name_en},
                                         {"fulfilment", &f.fulfilment}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            for (auto [field, target] :
                 {std::pair{"description", &f.description}, {"webhook_url", &f.webhook_url}}) {
              auto v = optionalString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            auto price = requireInteger(*body, "points_price");
            if (!price) return errorResponse(price.error());
            f.points_price = Points(*price);
            auto budget = requireInteger(*body, "monthly_budget_units");
            if (!budget) return errorResponse(budget.error());
            f.monthly_budget_units = *budget;
            auto limit = requireInteger(*body, "per_user_monthly_limit");
            if (!limit) return errorResponse(limit.error());
            if (*limit < 1 || *limit > 1000)
              return errorResponse(Error::invalid("per_user_monthly_limit",
                                                  "per_user_monthly_limit must be 1-1000"));
            f.per_user_monthly_limit = static_cast<int>(*limit);
            auto created = benefits.createPolicy(ctx.caller(), f);
            if (!created) return errorResponse(created.error());
            json out = policyJson(created->policy);
            if (!created->webhook_secret.empty()) out["webhook_secret"] = created->webhook_secret;
            return jsonResponse(out, 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/benefits/policies",
      .access = Access::kPublic,
      .summary = "Active benefits; ?region= for those offered there",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&benefits](RouteContext& ctx) {
            auto list = benefits.policies(ctx.request.queryParam("region"));
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& p : *list) out.push_back(policyJson(p));
            return jsonResponse({{"policies", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/benefits/policies/{id}/end",
      .roles = {Role::kRegionAdmin, Role::kProvinceAdmin},
      .summary = "End a benefit policy",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&benefits](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(benefits.endPolicy(ctx.caller(), *id), policyJson);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/benefits/policies/{id}/claims",
      .roles = {Role::kResident},
      .summary = "Claim units of a benefit for points (webhook: kept only if the partner confirms)",
      .tag = "incentive",
      .request_schema = schema(
          {"units"}, {{"units", {{"type", "integer"}}}, {"idempotency_key", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&benefits](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto units = requireInteger(*body, "units");
            if (!units) return errorResponse(units.error());
            return render(benefits.claim(ctx.caller(), *id, *units, *key), claimJson, 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/benefits/claims",
      .summary = "Your benefit claims, newest first",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&benefits](RouteContext& ctx) {
            auto list = benefits.myClaims(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& c : *list) out.push_back(claimJson(c));
            return jsonResponse({{"claims", out}});
          },
  });
}

}  // namespace

void addIncentiveRoutes(Router& router, incentive::MerchantService& merchants,
                        incentive::BenefitService& benefits) {
  addMerchantRoutes(router, merchants);
  addOfferRoutes(router, merchants);
  addVoucherRoutes(router, merchants);
  addBenefitRoutes(router, benefits);
}

}  // namespace tph::api
