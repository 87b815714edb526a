#include "account/carbon_accounts.h"
#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "core/region_code.h"
#include "ingest/ingest_service.h"

namespace tph::api {

namespace {

using nlohmann::json;

constexpr int kDefaultDays = 30;
constexpr int kMaxWindowDays = 3660;  // ten years of days

json accountJson(const account::CarbonAccount& a) {
  json members = json::array();
  for (const auto& m : a.members) {
    members.push_back({{"user_id", m.user_id},
                       {"username", m.username},
                       {"display_name", m.display_name},
                       {"role", m.role}});
  }
  return {{"id", a.id},
          {"kind", account::toString(a.kind)},
          {"name", a.name},
          {"region", a.region_code},
          {"points", a.points.value()},
          {"members", members},
          {"created_at", formatIso8601(a.created_at)}};
}

//! An account with its totals: grams and points, by domain, by day over a window.
json statementJson(const account::CarbonAccount& a, const ingest::AccountSummary& s) {
  json out = accountJson(a);
  json by_day = json::array();
  for (const auto& [day, grams] : s.grams_by_day)
    by_day.push_back({{"day", day}, {"grams", grams}});
  out["totals"] = {{"grams", s.grams},
                   {"points_earned", s.points_earned},
                   {"records", s.records},
                   {"by_domain", s.grams_by_domain},
                   {"by_day", by_day}};
  return out;
}

//! The from/to days of a statement: ?from=&to= (YYYY-MM-DD) or the last 30 days.
//! The ?from=&to= days of a statement (YYYY-MM-DD, Asia/Shanghai), by default the last 30 days.
Result<std::pair<std::string, std::string>> window(const HttpRequest& request, const Clock& clock) {
  std::string to = request.queryParam("to"), from = request.queryParam("from");
  if (to.empty()) to = shanghaiDay(clock.now());
  if (from.empty()) from = shanghaiDay(clock.now() - std::chrono::hours(24 * (kDefaultDays - 1)));
  auto from_at = shanghaiDayStart(from);
  if (!from_at) return Error::invalid("from", "from must be a day YYYY-MM-DD");
  auto to_at = shanghaiDayStart(to);
  if (!to_at) return Error::invalid("to", "to must be a day YYYY-MM-DD");
  if (*to_at < *from_at) return Error::invalid("to", "to must not be before from");
  if (*to_at - *from_at > std::chrono::hours(24 * kMaxWindowDays)) {
    return Error::invalid("from",
                          "a statement covers at most " + std::to_string(kMaxWindowDays) + " days");
  }
  return std::pair{from, to};
}

HttpResponse history(ingest::IngestService& ingest, const account::CarbonAccount& a,
                     const HttpRequest& request) {
  auto limit = queryInt(request, "limit", 50);
  if (!limit) return errorResponse(limit.error());
  auto offset = queryInt(request, "offset", 0);
  if (!offset) return errorResponse(offset.error());
  if (*limit < 1 || *limit > 500)
    return errorResponse(Error::invalid("limit", "limit must be 1-500"));
  if (*offset < 0) return errorResponse(Error::invalid("offset", "offset must not be negative"));
  json out = json::array();
  for (const auto& e : ingest.history(a.id, *limit, *offset)) {
    out.push_back({{"record_id", e.record_id},
                   {"provider", e.provider_key},
                   {"provider_record_id", e.provider_record_id},
                   {"methodology", e.methodology},
                   {"version", e.version},
                   {"domain", e.domain},
                   {"occurred_at", formatIso8601(e.occurred_at)},
                   {"region", e.region},
                   {"grams", e.grams},
                   {"points", e.points},
                   {"cap_applied", e.cap_applied},
                   {"explanation", e.explanation}});
  }
  return jsonResponse(
      {{"account_id", a.id}, {"records", out}, {"limit", *limit}, {"offset", *offset}});
}

const json kObject = {{"type", "object"}};

}  // namespace

void addAccountRoutes(Router& router, account::CarbonAccountService& accounts,
                      ingest::IngestService& ingest, const Clock& clock) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/accounts",
      .access = Access::kSession,
      .summary =
          "Every carbon account you belong to (person, household, enterprise) with its points",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts](RouteContext& ctx) {
            auto list = accounts.accountsOf(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& a : *list) out.push_back(accountJson(a));
            return jsonResponse({{"accounts", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/accounts/me",
      .access = Access::kSession,
      .summary = "Your carbon account: grams and points, by domain and by day (?from=&to=, default "
                 "30 days)",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts, &ingest, &clock](RouteContext& ctx) {
            auto a = accounts.personAccount(ctx.caller());
            if (!a) return errorResponse(a.error());
            auto days = window(ctx.request, clock);
            if (!days) return errorResponse(days.error());
            auto [from, to] = *days;
            return jsonResponse(statementJson(*a, ingest.summary(a->id, from, to)));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/accounts/me/records",
      .access = Access::kSession,
      .summary = "Your credited records, newest first, each with its explanation (limit, offset)",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts, &ingest](RouteContext& ctx) {
            auto a = accounts.personAccount(ctx.caller());
            if (!a) return errorResponse(a.error());
            return history(ingest, *a, ctx.request);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/accounts/{id}",
      .access = Access::kSession,
      .summary = "A household or enterprise account's totals; a household also shows its members' "
                 "shared total",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts, &ingest, &clock](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto a = accounts.account(ctx.caller(), *id);
            if (!a) return errorResponse(a.error());
            auto days = window(ctx.request, clock);
            if (!days) return errorResponse(days.error());
            auto [from, to] = *days;
            auto own = ingest.summary(a->id, from, to);
            json out = statementJson(*a, own);
            if (a->kind == account::AccountKind::kHousehold) {
              // Shared totals: the household's own records plus each member's personal account.
              std::int64_t shared = own.grams;
              for (const auto& m : a->members) {
                auth::Principal member{m.user_id, m.username, m.display_name, {}, {}};
                auto mine = accounts.accountsOf(member);
                if (!mine) continue;
                for (const auto& personal : *mine) {
                  if (personal.kind == account::AccountKind::kPerson)
                    shared += ingest.summary(personal.id, from, to).grams;
                }
              }
              out["totals"]["household_shared_grams"] = shared;
            }
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/accounts/{id}/records",
      .access = Access::kSession,
      .summary = "A household or enterprise account's credited records with explanations",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts, &ingest](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto a = accounts.account(ctx.caller(), *id);
            if (!a) return errorResponse(a.error());
            return history(ingest, *a, ctx.request);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/households",
      .access = Access::kSession,
      .summary = "Open a household account; you become its admin",
      .tag = "account",
      .request_schema = {{"type", "object"}, {"required", {"name", "region"}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&accounts](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto region = requireString(*body, "region");
            if (!region) return errorResponse(region.error());
            auto a = accounts.createHousehold(ctx.caller(), *name, *region);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a), 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/households/{id}/members",
      .access = Access::kSession,
      .summary = "Add a member to your household (admin only)",
      .tag = "account",
      .request_schema = {{"type", "object"}, {"required", {"username"}}},
      .response_schema = kObject,
      .handler =
          [&accounts](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto username = requireString(*body, "username");
            if (!username) return errorResponse(username.error());
            auto a = accounts.addHouseholdMember(ctx.caller(), *id, *username);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a));
          },
  });
  router.add({
      .method = "DELETE",
      .pattern = "/api/v1/households/{id}/members/{user_id}",
      .access = Access::kSession,
      .summary = "Remove a member (admin) or leave a household (yourself)",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&accounts](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto user = parseId(ctx.param("user_id"), "user_id");
            if (!user) return errorResponse(user.error());
            auto a = accounts.removeHouseholdMember(ctx.caller(), *id, *user);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/enterprises",
      .access = Access::kSession,
      .roles = {auth::Role::kEnterprise},
      .summary = "Open your enterprise (SME) carbon account",
      .tag = "account",
      .request_schema = {{"type", "object"}, {"required", {"name", "region"}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&accounts](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto region = requireString(*body, "region");
            if (!region) return errorResponse(region.error());
            auto a = accounts.createEnterprise(ctx.caller(), *name, *region);
            if (!a) return errorResponse(a.error());
            return jsonResponse(accountJson(*a), 201);
          },
  });
}

}  // namespace tph::api
