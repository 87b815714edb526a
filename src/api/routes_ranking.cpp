// Leaderboards, communities and residents' leaderboard profiles (nickname, listed, community).

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "incentive/points_expiry.h"
#include "incentive/ranking_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json communityJson(const incentive::Community& c) {
  return {{"id", c.id},
          {"region", c.region_code},
          {"name", c.name},
          {"members", c.members},
          {"created_at", formatIso8601(c.created_at)}};
}

json profileJson(const incentive::RankingProfile& p) {
  return {{"nickname", p.nickname},
          {"listed", p.listed},
          {"community_id", p.community_id ? json(*p.community_id) : json(nullptr)},
          {"updated_at", formatIso8601(p.updated_at)}};
}

json entryJson(const incentive::LeaderboardEntry& e) {
  return {{"rank", e.rank},
          {"nickname", e.nickname},
          {"grams", e.grams.value()},
          {"reductions", e.reductions},
          {"you", e.you}};
}

json policyJson(const incentive::ExpiryPolicyVersion& v) {
  return {{"id", v.id},
          {"region", v.region_code},
          {"version", v.version},
          {"kind", v.policy.kind},
          {"term", v.policy.term},
          {"notice_days", v.policy.notice_days},
          {"effective_from", formatIso8601(v.effective_from)},
          {"reason", v.reason},
          {"created_by", v.created_by},
          {"created_at", formatIso8601(v.created_at)}};
}

Result<int> optionalInt(const json& body, const std::string& field, int fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  auto v = requireInteger(body, field);
  if (!v) return v.error();
  if (*v < -1'000'000 || *v > 1'000'000) return Error::invalid(field, field + " is out of range");
  return static_cast<int>(*v);
}

}  // namespace

void addRankingRoutes(Router& router, incentive::RankingService& rankings) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/communities",
      .roles = {Role::kRegionAdmin, Role::kProvinceAdmin},
      .summary = "Create a community (社区) in your region",
      .tag = "incentive",
      .request_schema = {{"type", "object"},
                         {"required", {"region", "name"}},
                         {"properties",
                          {{"region", {{"type", "string"}}}, {"name", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto region = requireString(*body, "region");
            if (!region) return errorResponse(region.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto c = rankings.createCommunity(ctx.caller(), *region, *name);
            if (!c) return errorResponse(c.error());
            return jsonResponse(communityJson(*c), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/communities",
      .access = Access::kPublic,
      .summary = "Communities; ?region= for those within a region",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto list = rankings.communities(ctx.request.queryParam("region"));
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& c : *list) out.push_back(communityJson(c));
            return jsonResponse({{"communities", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/rankings/profile",
      .summary = "Your leaderboard profile (unlisted until you choose a nickname)",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto p = rankings.profile(ctx.caller());
            if (!p) return errorResponse(p.error());
            if (!*p)
              return jsonResponse(
                  {{"nickname", nullptr}, {"listed", false}, {"community_id", nullptr}});
            return jsonResponse(profileJson(**p));
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/rankings/profile",
      .roles = {Role::kResident},
      .summary = "Choose a nickname, whether to be listed, and the community you join",
      .tag = "incentive",
      .request_schema = {{"type", "object"},
                         {"required", {"nickname", "listed"}},
                         {"properties",
                          {{"nickname", {{"type", "string"}}},
                           {"listed", {{"type", "boolean"}}},
                           {"community_id", {{"type", {"integer", "null"}}}}}}},
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto nickname = requireString(*body, "nickname");
            if (!nickname) return errorResponse(nickname.error());
            if (!body->contains("listed") || !(*body)["listed"].is_boolean())
              return errorResponse(Error::invalid("listed", "listed is true or false"));
            std::optional<std::int64_t> community;
            if (body->contains("community_id") && !(*body)["community_id"].is_null()) {
              auto c = requireInteger(*body, "community_id");
              if (!c) return errorResponse(c.error());
              community = *c;
            }
            auto p = rankings.setProfile(ctx.caller(), *nickname, (*body)["listed"].get<bool>(),
                                         community);
            if (!p) return errorResponse(p.error());
            return jsonResponse(profileJson(*p));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/rankings/opt-out",
      .summary = "Leave every leaderboard at once",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto p = rankings.optOut(ctx.caller());
            if (!p) return errorResponse(p.error());
            return jsonResponse(profileJson(*p));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/leaderboards",
      .access = Access::kPublic,
      .summary =
          "Residents by reductions: ?period=week|month|all, ?region= or ?community=, ?limit=",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            incentive::LeaderboardQuery q;
            q.period = ctx.request.queryParam("period");
            if (q.period.empty()) q.period = "week";
            q.region_code = ctx.request.queryParam("region");
            std::string community = ctx.request.queryParam("community");
            if (!community.empty()) {
              auto id = parseId(community, "community");
              if (!id) return errorResponse(id.error());
              q.community_id = *id;
            }
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            q.limit = *limit;
            auth::Principal anonymous;
            auto board = rankings.leaderboard(ctx.principal ? *ctx.principal : anonymous, q);
            if (!board) return errorResponse(board.error());
            json entries = json::array();
            for (const auto& e : board->entries) entries.push_back(entryJson(e));
            return jsonResponse({{"period", board->period},
                                 {"scope", board->scope},
                                 {"from", formatIso8601(board->from)},
                                 {"until", formatIso8601(board->until)},
                                 {"entries", entries},
                                 {"yours", board->yours ? entryJson(*board->yours) : json(nullptr)},
                                 {"as_of", formatIso8601(board->as_of)}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/leaderboards/refresh",
      .roles = {Role::kProvinceAdmin},
      .summary = "Bring the leaderboard rollup up to date with the credited reductions now",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&rankings](RouteContext& ctx) {
            auto r = rankings.refresh(ctx.caller(), 1'000);
            if (!r) return errorResponse(r.error());
            return jsonResponse({{"reductions", r->reductions},
                                 {"account_days", r->account_days},
                                 {"watermark", r->watermark},
                                 {"gaps", r->gaps},
                                 {"caught_up", r->caught_up},
                                 {"refreshed_at", formatIso8601(r->refreshed_at)}});
          },
  });
}

void addPointsExpiryRoutes(Router& router, incentive::PointsExpiryService& expiry) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/points/expiry-notices",
      .summary = "Notices of your points about to expire (written by the daily expiry run)",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&expiry](RouteContext& ctx) {
            auto list = expiry.notices(ctx.caller());
            if (!list) return errorResponse(list.error());
            auto next = expiry.upcoming(ctx.caller());
            if (!next) return errorResponse(next.error());
            json out = json::array();
            for (const auto& n : *list)
              out.push_back(
                  {{"cohort_year", n.cohort_year},
                   {"credited_before",
                    n.credited_before ? json(formatIso8601(*n.credited_before)) : json(nullptr)},
                   {"points", n.points.value()},
                   {"expires_at", formatIso8601(n.expires_at)},
                   {"noticed_at", formatIso8601(n.noticed_at)}});
            json upcoming = nullptr;
            if (*next)
              upcoming = {{"cohort_year", (*next)->cohort_year},
                          {"credited_before", formatIso8601((*next)->credited_before)},
                          {"points", (*next)->points.value()},
                          {"expires_at", formatIso8601((*next)->expires_at)},
                          {"notice_days", (*next)->notice_days},
                          {"policy_id", (*next)->policy_id}};
            return jsonResponse({{"notices", out}, {"upcoming", upcoming}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/points/expiry-policies",
      .access = Access::kPublic,
      .summary = "Points expiry policy versions (?region= one region's) and the one in force "
                 "there (?region=, default the province)",
      .tag = "incentive",
      .response_schema = kObject,
      .handler =
          [&expiry](RouteContext& ctx) {
            std::string region = ctx.request.queryParam("region");
            auto list = expiry.policies(region);
            if (!list) return errorResponse(list.error());
            auto in_force = expiry.policyInForce(region.empty() ? "440000" : region);
            if (!in_force) return errorResponse(in_force.error());
            json out = json::array();
            for (const auto& v : *list) out.push_back(policyJson(v));
            return jsonResponse({{"policies", out}, {"in_force", policyJson(*in_force)}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/points/expiry-policies",
      .roles = {Role::kProvinceAdmin},
      .summary = "Store a new version of a region's points expiry policy (province default or a "
                 "city or county override), effective now or from a later date",
      .tag = "incentive",
      .request_schema = {{"type", "object"},
                         {"required", {"region", "kind", "reason"}},
                         {"properties",
                          {{"region", {{"type", "string"}}},
                           {"kind",
                            {{"type", "string"}, {"enum", {"year_end", "months", "never"}}}},
                           {"term", {{"type", "integer"}}},
                           {"notice_days", {{"type", "integer"}}},
                           {"effective_from", {{"type", "string"}, {"format", "date-time"}}},
                           {"reason", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&expiry](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            incentive::NewExpiryPolicy p;
            for (auto [field, target] : {std::pair{"region", &p.region_code},
                                         {"kind", &p.policy.kind},
                                         {"reason", &p.reason}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            auto term = optionalInt(*body, "term", p.policy.kind == "never" ? 0 : -1);
            if (!term) return errorResponse(term.error());
            if (*term < 0)
              return errorResponse(Error::invalid("term", "term is required for this kind"));
            p.policy.term = *term;
            auto notice = optionalInt(*body, "notice_days", 30);
            if (!notice) return errorResponse(notice.error());
            p.policy.notice_days = *notice;
            auto from = optionalString(*body, "effective_from");
            if (!from) return errorResponse(from.error());
            if (!from->empty()) {
              auto at = parseIso8601(*from);
              if (!at)
                return errorResponse(Error::invalid(
                    "effective_from", "effective_from is an ISO 8601 instant with its offset"));
              p.effective_from = *at;
            }
            auto stored = expiry.setPolicy(ctx.caller(), p);
            if (!stored) return errorResponse(stored.error());
            return jsonResponse(policyJson(*stored), 201);
          },
  });
}

}  // namespace tph::api
