#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "pilot/fund_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json projectJson(const pilot::FundProject& p) {
  json payments = json::array();
  for (const auto& d : p.disbursements) {
    payments.push_back({{"id", d.id},
                        {"amount_fen", d.amount.value()},
                        {"paid_on", d.paid_on},
                        {"reference", d.reference}});
  }
  return {{"id", p.id},
          {"region", p.region_code},
          {"title", p.title},
          {"summary", p.summary},
          {"task", p.task},
          {"year", p.year},
          {"requested_fen", p.requested.value()},
          {"state", p.state},
          {"granted_fen", p.granted.value()},
          {"disbursed_fen", p.disbursed.value()},
          {"decision_reason", p.decision_reason},
          {"applied_at", formatIso8601(p.applied_at)},
          {"disbursements", payments}};
}

HttpResponse projectResponse(const Result<pilot::FundProject>& p, int status = 200) {
  if (!p) return errorResponse(p.error());
  return jsonResponse(projectJson(*p), status);
}

json bodySchema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

const json kString = {{"type", "string"}};
const json kInteger = {{"type", "integer"}};

}  // namespace

void addFundRoutes(Router& router, pilot::FundService& funds) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/funds/projects",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "A pilot region applies for provincial low-carbon special funds for a project",
      .tag = "pilot",
      .request_schema = bodySchema({"region", "title", "summary", "task", "year", "requested_fen"},
                                   {{"region", kString},
                                    {"title", kString},
                                    {"summary", kString},
                                    {"task", kString},
                                    {"year", kInteger},
                                    {"requested_fen", kInteger}}),
      .response_schema = {{"type", "object"}},
      .success_status = 201,
      .handler =
          [&funds](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            pilot::FundApplication a;
            for (auto [field, target] :
                 {std::pair{"region", &a.region_code}, std::pair{"title", &a.title},
                  std::pair{"summary", &a.summary}, std::pair{"task", &a.task}}) {
              auto text = requireString(*body, field);
              if (!text) return errorResponse(text.error());
              *target = *text;
            }
            auto year = requireInteger(*body, "year");
            if (!year) return errorResponse(year.error());
            auto requested = requireInteger(*body, "requested_fen");
            if (!requested) return errorResponse(requested.error());
            if (*year < 0 || *year > 9999)
              return errorResponse(Error::invalid("year", "must be a budget year"));
            a.year = static_cast<int>(*year);
            a.requested = Fen(*requested);
            return projectResponse(funds.apply(ctx.caller(), a), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/funds/projects",
      .access = Access::kPublic,
      .summary = "Special-fund projects of a region and below (?region=, ?year=), with payments",
      .tag = "pilot",
      .handler =
          [&funds](RouteContext& ctx) {
            auto year = queryInt(ctx.request, "year", 0);
            if (!year) return errorResponse(year.error());
            auto list = funds.projects(ctx.request.queryParam("region"), *year);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& p : *list) out.push_back(projectJson(p));
            return jsonResponse({{"projects", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/funds/projects/{id}",
      .access = Access::kPublic,
      .summary = "One special-fund project with its payments",
      .tag = "pilot",
      .handler =
          [&funds](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) { return projectResponse(funds.project(id)); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/funds/projects/{id}/decision",
      .roles = {Role::kProvinceAdmin},
      .summary = "Grant an amount up to the request, or reject with a reason",
      .tag = "pilot",
      .request_schema = bodySchema(
          {"grant"},
          {{"grant", {{"type", "boolean"}}}, {"granted_fen", kInteger}, {"reason", kString}}),
      .response_schema = {{"type", "object"}},
      .handler =
          [&funds](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto grant = body.find("grant");
              if (grant == body.end() || !grant->is_boolean())
                return errorResponse(Error::invalid("grant", "must be true or false"));
              std::int64_t granted = 0;
              if (grant->get<bool>()) {
                auto amount = requireInteger(body, "granted_fen");
                if (!amount) return errorResponse(amount.error());
                granted = *amount;
              }
              auto reason = optionalString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              return projectResponse(
                  funds.decide(ctx.caller(), id, grant->get<bool>(), Fen(granted), *reason));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/funds/projects/{id}/disbursements",
      .roles = {Role::kProvinceAdmin},
      .summary = "Record a payment of a granted project (never more than the grant in total)",
      .tag = "pilot",
      .request_schema =
          bodySchema({"amount_fen", "paid_on", "reference"},
                     {{"amount_fen", kInteger}, {"paid_on", kString}, {"reference", kString}}),
      .response_schema = {{"type", "object"}},
      .success_status = 201,
      .handler =
          [&funds](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto amount = requireInteger(body, "amount_fen");
              if (!amount) return errorResponse(amount.error());
              auto paid_on = requireString(body, "paid_on");
              if (!paid_on) return errorResponse(paid_on.error());
              auto reference = requireString(body, "reference");
              if (!reference) return errorResponse(reference.error());
              return projectResponse(
                  funds.disburse(ctx.caller(), id, Fen(*amount), *paid_on, *reference), 201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/funds/totals",
      .access = Access::kPublic,
      .summary = "Special funds requested, granted and paid per pilot region (?year=)",
      .tag = "pilot",
      .handler =
          [&funds](RouteContext& ctx) {
            auto year = queryInt(ctx.request, "year", 0);
            if (!year) return errorResponse(year.error());
            auto totals = funds.totals(*year);
            if (!totals) return errorResponse(totals.error());
            json out = json::array();
            for (const auto& t : *totals) {
              out.push_back({{"region", t.region_code},
                             {"projects", t.projects},
                             {"granted_projects", t.granted_projects},
                             {"requested_fen", t.requested.value()},
                             {"granted_fen", t.granted.value()},
                             {"disbursed_fen", t.disbursed.value()}});
            }
            return jsonResponse({{"totals", out}});
          },
  });
}

}  // namespace tph::api
