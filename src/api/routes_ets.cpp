// ETS offsets over HTTP: offset-eligible scopes and the rules of each compliance year (the
// province), verified emissions (a verifier or the province), allowances surrendered (the
// province), surrenders (the enterprise), the compliance report and the signed export for the ETS
// registry (the province and auditors). Refusals name the rule they break in the error's field.

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "audit/audit_heads.h"
#include "ets/ets_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json scopeJson(const ets::EligibleScope& s) {
  return {{"id", s.id},
          {"methodology", s.methodology},
          {"region", s.region},
          {"vintage_from", s.vintage_from},
          {"vintage_to", s.vintage_to},
          {"effective_from", formatIso8601(s.effective_from)},
          {"suspended", s.suspended}};
}

json rulesJson(const ets::ComplianceRules& r) {
  return {{"year", r.year},
          {"max_offset_bp", r.max_offset_bp},
          {"min_home_province_bp", r.min_home_province_bp},
          {"deadline_day", r.deadline_day},
          {"configured", r.configured}};
}

json accountJson(const ets::ComplianceAccount& a) {
  return {{"account_no", a.account_no},
          {"enterprise", a.enterprise},
          {"year", a.year},
          {"verified_emissions_t",
           a.verified_emissions_t ? json(*a.verified_emissions_t) : json(nullptr)},
          {"allowances_surrendered_t", a.allowances_surrendered_t},
          {"phcer_surrendered_t", a.phcer_surrendered_t},
          {"phcer_home_province_t", a.phcer_home_province_t},
          {"status", a.status()}};
}

Result<int> parseYear(const std::string& text) {
  auto year = parseId(text, "year");
  if (!year) return year.error();
  if (*year > 9999) return Error::invalid("year", "year is a four-digit compliance year");
  return static_cast<int>(*year);
}

//! An optional integer field: absent or null gives the fallback.
Result<std::int64_t> optionalInteger(const json& body, const std::string& field,
                                     std::int64_t fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  return requireInteger(body, field);
}

Result<ets::EligibleScope> readScope(const json& body) {
  ets::EligibleScope s;
  TPH_TRY_ASSIGN(methodology, requireString(body, "methodology"));
  s.methodology = methodology;
  TPH_TRY_ASSIGN(region, optionalString(body, "region"));
  s.region = region;
  TPH_TRY_ASSIGN(from, optionalInteger(body, "vintage_from", 0));
  TPH_TRY_ASSIGN(to, optionalInteger(body, "vintage_to", 0));
  if (from > 9999 || to > 9999)
    return Error::invalid("vintage_to", "vintages are years or 0 for open");
  s.vintage_from = static_cast<int>(from);
  s.vintage_to = static_cast<int>(to);
  TPH_TRY_ASSIGN(effective, requireString(body, "effective_from"));
  auto at = parseIso8601(effective);
  if (!at) at = shanghaiDayStart(effective);
  if (!at)
    return Error::invalid("effective_from",
                          "effective_from is an ISO 8601 instant or a day YYYY-MM-DD (Shanghai)");
  s.effective_from = *at;
  return s;
}

Result<std::int64_t> readTonnes(const HttpRequest& request, const std::string& field) {
  TPH_TRY_ASSIGN(body, parseJsonObject(request));
  return requireInteger(body, field);
}

HttpResponse download(std::string body, const std::string& content_type,
                      const std::string& filename) {
  HttpResponse response;
  response.body = std::move(body);
  response.setHeader("content-type", content_type);
  response.setHeader("content-disposition", "attachment; filename=\"" + filename + "\"");
  response.setHeader("cache-control", "private, no-store");
  return response;
}

void addScopeAndRuleRoutes(Router& router, ets::EtsService& ets) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/ets/scopes",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "Admit PHCER of a methodology (optionally one region and a vintage range) as "
                 "ETS-offset-eligible from a date",
      .tag = "ets",
      .request_schema = {{"type", "object"},
                         {"required", {"methodology", "effective_from"}},
                         {"properties",
                          {{"methodology", {{"type", "string"}}},
                           {"region", {{"type", "string"}}},
                           {"vintage_from", {{"type", "integer"}}},
                           {"vintage_to", {{"type", "integer"}}},
                           {"effective_from", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&ets](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto scope = readScope(*body);
            if (!scope) return errorResponse(scope.error());
            auto admitted = ets.admitScope(ctx.caller(), *scope);
            if (!admitted) return errorResponse(admitted.error());
            return jsonResponse(scopeJson(*admitted), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/scopes",
      .access = Access::kPublic,
      .summary = "The offset-eligible scopes, suspended ones included",
      .tag = "ets",
      .response_schema = kObject,
      .handler =
          [&ets](RouteContext&) {
            json out = json::array();
            for (const auto& s : ets.scopes()) out.push_back(scopeJson(s));
            return jsonResponse({{"scopes", out}});
          },
  });
  for (bool suspend : {true, false}) {
    router.add({
        .method = "POST",
        .pattern = std::string("/api/v1/ets/scopes/{id}/") + (suspend ? "suspend" : "resume"),
        .access = Access::kSession,
        .roles = {Role::kProvinceAdmin},
        .summary = suspend ? "Suspend an offset-eligible scope" : "Resume a suspended scope",
        .tag = "ets",
        .response_schema = kObject,
        .handler =
            [&ets, suspend](RouteContext& ctx) {
              auto id = parseId(ctx.param("id"), "id");
              if (!id) return errorResponse(id.error());
              auto s = ets.setScopeSuspended(ctx.caller(), *id, suspend);
              if (!s) return errorResponse(s.error());
              return jsonResponse(scopeJson(*s));
            },
    });
  }
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/rules/{year}",
      .access = Access::kPublic,
      .summary = "The offset rules of a compliance year (as set, or Guangdong's defaults)",
      .tag = "ets",
      .response_schema = kObject,
      .handler =
          [&ets](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            auto r = ets.rules(*year);
            if (!r) return errorResponse(r.error());
            return jsonResponse(rulesJson(*r));
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/ets/rules/{year}",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "Set the offset rules of a compliance year: cap, home-province share, deadline",
      .tag = "ets",
      .request_schema = {{"type", "object"},
                         {"required", {"max_offset_bp", "min_home_province_bp", "deadline_day"}},
                         {"properties",
                          {{"max_offset_bp", {{"type", "integer"}}},
                           {"min_home_province_bp", {{"type", "integer"}}},
                           {"deadline_day", {{"type", "string"}, {"format", "date"}}}}}},
      .response_schema = kObject,
      .handler =
          [&ets](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto cap = requireInteger(*body, "max_offset_bp");
            if (!cap) return errorResponse(cap.error());
            auto home = requireInteger(*body, "min_home_province_bp");
            if (!home) return errorResponse(home.error());
            auto deadline = requireString(*body, "deadline_day");
            if (!deadline) return errorResponse(deadline.error());
            if (*cap < 0 || *cap > 10000)
              return errorResponse(Error::invalid("max_offset_bp", "max_offset_bp is 0-10000"));
            if (*home < 0 || *home > 10000)
              return errorResponse(
                  Error::invalid("min_home_province_bp", "min_home_province_bp is 0-10000"));
            ets::ComplianceRules rules{*year, static_cast<int>(*cap), static_cast<int>(*home),
                                       *deadline};
            auto set = ets.setRules(ctx.caller(), rules);
            if (!set) return errorResponse(set.error());
            return jsonResponse(rulesJson(*set));
          },
  });
}

using TonnesSetter = Result<ets::ComplianceAccount> (ets::EtsService::*)(const auth::Principal&,
                                                                         const std::string&, int,
                                                                         std::int64_t);

//! PUT .../accounts/{account_no}/years/{year}/{tail} {field: tonnes}: one figure of a compliance
//! year, set through `setter`.
RouteSpec tonnesRoute(ets::EtsService& ets, const std::string& tail, const std::string& field,
                      std::vector<Role> roles, const std::string& summary, TonnesSetter setter) {
  return {
      .method = "PUT",
      .pattern = "/api/v1/ets/accounts/{account_no}/years/{year}/" + tail,
      .access = Access::kSession,
      .roles = std::move(roles),
      .summary = summary,
      .tag = "ets",
      .request_schema = {{"type", "object"},
                         {"required", {field}},
                         {"properties", {{field, {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .handler =
          [&ets, field, setter](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            auto tonnes = readTonnes(ctx.request, field);
            if (!tonnes) return errorResponse(tonnes.error());
            auto a = (ets.*setter)(ctx.caller(), ctx.param("account_no"), *year, *tonnes);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a));
          },
  };
}

void addComplianceRoutes(Router& router, ets::EtsService& ets) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/accounts/{account_no}/years/{year}",
      .access = Access::kSession,
      .roles = {Role::kEtsEnterprise, Role::kVerifier, Role::kProvinceAdmin, Role::kAuditor},
      .summary = "An enterprise's compliance account for a year (its own users, verifiers, the "
                 "province, auditors)",
      .tag = "ets",
      .response_schema = kObject,
      .handler =
          [&ets](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            auto a = ets.account(ctx.caller(), ctx.param("account_no"), *year);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a));
          },
  });
  router.add(tonnesRoute(ets, "verified-emissions", "verified_emissions_t",
                         {Role::kVerifier, Role::kProvinceAdmin},
                         "Enter an enterprise's verified emissions of a year, in tonnes",
                         &ets::EtsService::setVerifiedEmissions));
  router.add(
      tonnesRoute(ets, "allowances-surrendered", "allowances_surrendered_t", {Role::kProvinceAdmin},
                  "Record the allowances (GDEA) an enterprise surrendered in the ETS registry",
                  &ets::EtsService::setAllowancesSurrendered));
  router.add({
      .method = "POST",
      .pattern = "/api/v1/ets/accounts/{account_no}/years/{year}/surrenders",
      .access = Access::kSession,
      .roles = {Role::kEtsEnterprise},
      .summary = "Surrender eligible PHCER against a compliance year: retired with reason "
                 "ets_offset and the enterprise as beneficiary; a refusal names its rule "
                 "(max_offset_bp, min_home_province_bp, deadline_day, verified_emissions_t)",
      .tag = "ets",
      .request_schema = {{"type", "object"},
                         {"required", {"units"}},
                         {"properties",
                          {{"units", {{"type", "integer"}}},
                           {"batch", {{"type", "integer"}}},
                           {"idempotency_key", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&ets](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = optionalString(*body, "idempotency_key");
            if (!key) return errorResponse(key.error());
            std::string idempotency_key =
                key->empty() ? std::string(ctx.request.header("idempotency-key")) : *key;
            if (idempotency_key.empty())
              return errorResponse(Error::invalid(
                  "idempotency_key", "idempotency_key (or an Idempotency-Key header) is required"));
            auto units = requireInteger(*body, "units");
            if (!units) return errorResponse(units.error());
            ets::SurrenderRequest request{idempotency_key, ctx.param("account_no"), *year, *units,
                                          std::nullopt};
            if (body->contains("batch") && !(*body)["batch"].is_null()) {
              auto batch = requireInteger(*body, "batch");
              if (!batch) return errorResponse(batch.error());
              request.batch_no = *batch;
            }
            auto s = ets.surrender(ctx.caller(), request);
            if (!s) return errorResponse(s.error());
            return jsonResponse({{"account_no", s->account_no},
                                 {"year", s->year},
                                 {"units", s->units},
                                 {"home_province_units", s->home_province_units},
                                 {"operations", s->operation_ids},
                                 {"serials", s->serials},
                                 {"duplicate", s->duplicate},
                                 {"account", accountJson(s->account)}},
                                s->duplicate ? 200 : 201);
          },
  });
}

void addReportRoutes(Router& router, ets::EtsService& ets, const audit::SigningKey* key) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/reports/{year}",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kAuditor},
      .summary = "The compliance report of a year: every enterprise, complied or short, by "
                 "allowances and offsets; ?format=xlsx for the workbook",
      .tag = "ets",
      .response_schema = kObject,
      .handler =
          [&ets](RouteContext& ctx) {
            auto year = parseYear(ctx.param("year"));
            if (!year) return errorResponse(year.error());
            std::string format = ctx.request.queryParam("format");
            if (!format.empty() && format != "json" && format != "xlsx")
              return errorResponse(Error::invalid("format", "format is json or xlsx"));
            if (format == "xlsx") {
              auto xlsx = ets.reportXlsx(ctx.caller(), *year);
              if (!xlsx) return errorResponse(xlsx.error());
              return download(std::move(*xlsx),
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              "ets-compliance-" + std::to_string(*year) + ".xlsx");
            }
            auto rows = ets.report(ctx.caller(), *year);
            if (!rows) return errorResponse(rows.error());
            auto rules = ets.rules(*year);
            if (!rules) return errorResponse(rules.error());
            json accounts = json::array();
            for (const auto& a : *rows) {
              json row = accountJson(a);
              row["offset_cap_t"] =
                  a.verified_emissions_t
                      ? json(*a.verified_emissions_t * rules->max_offset_bp / 10000)
                      : json(nullptr);
              accounts.push_back(row);
            }
            return jsonResponse(
                {{"year", *year}, {"rules", rulesJson(*rules)}, {"accounts", accounts}});
          },
  });
  auto exported = [&ets, key](RouteContext& ctx) -> Result<ets::SignedOffsetExport> {
    TPH_TRY_ASSIGN(year, parseYear(ctx.param("year")));
    if (!key) return Error{ErrorCode::kUnavailable, "", "this node holds no signing key"};
    return ets.offsetExport(ctx.caller(), year, *key);
  };
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/exports/{year}",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kAuditor},
      .summary = "The export file for the ETS registry: every offset surrender of the year as "
                 "canonical JSON; its Ed25519 signature in X-Signature-Ed25519 and at "
                 "./signature, the key at /api/v1/audit/public-key",
      .tag = "ets",
      .response_schema = kObject,
      .handler =
          [exported](RouteContext& ctx) {
            auto e = exported(ctx);
            if (!e) return errorResponse(e.error());
            auto response = download(e->file.bytes, "application/json", e->file.filename());
            response.setHeader("x-signature-ed25519", e->signature_hex);
            response.setHeader("x-public-key-ed25519", e->public_key_hex);
            return response;
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ets/exports/{year}/signature",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kAuditor},
      .summary = "The detached Ed25519 signature (hex) of the year's export file",
      .tag = "ets",
      .response_content_type = "text/plain",
      .handler =
          [exported](RouteContext& ctx) {
            auto e = exported(ctx);
            if (!e) return errorResponse(e.error());
            return download(e->signature_hex + "\n", "text/plain; charset=utf-8",
                            e->file.filename() + ".sig");
          },
  });
}

}  // namespace

void addEtsRoutes(Router& router, ets::EtsService& ets, const audit::SigningKey* signing_key) {
  addScopeAndRuleRoutes(router, ets);
  addComplianceRoutes(router, ets);
  addReportRoutes(router, ets, signing_key);
}

}  // namespace tph::api
