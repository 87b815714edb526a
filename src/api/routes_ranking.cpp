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
            return jsonResponse(
                {{"period", board->period},
                 {"scope", board->scope},
                 {"from", formatIso8601(board->from)},
                 {"until", formatIso8601(board->until)},
                 {"entries", entries},
                 {"yours", board->yours ? entryJson(*board->yours) : json(nullptr)}});
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
            json out = json::array();
            for (const auto& n : *list)
              out.push_back({{"cohort_year", n.cohort_year},
                             {"points", n.points.value()},
                             {"expires_at", formatIso8601(n.expires_at)},
                             {"noticed_at", formatIso8601(n.noticed_at)}});
            return jsonResponse({{"notices", out}});
          },
  });
}

}  // namespace tph::api
