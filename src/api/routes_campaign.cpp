#include <cmath>

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "ingest/reduction_stats.h"
#include "region/campaign_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json campaignJson(const region::Campaign& c) {
  return {{"id", c.id},
          {"region", c.region_code},
          {"name_zh", c.name_zh},
          {"name_en", c.name_en},
          {"announcement_zh", c.announcement_zh},
          {"announcement_en", c.announcement_en},
          {"starts_at", formatIso8601(c.starts_at)},
          {"ends_at", formatIso8601(c.ends_at)},
          {"methodologies", c.methodologies},
          {"multiplier", c.multiplier_permille / 1000.0},
          {"multiplier_permille", c.multiplier_permille},
          {"status", c.status},
          {"cancel_reason", c.cancel_reason},
          {"created_at", formatIso8601(c.created_at)}};
}

HttpResponse campaignResponse(const Result<region::Campaign>& c, int status = 200) {
  if (!c) return errorResponse(c.error());
  return jsonResponse(campaignJson(*c), status);
}

//! An RFC 3339 instant, or a Shanghai day "YYYY-MM-DD": its start, or with end_of_day the start
//! of the next day (a window "to 2026-06-21" includes that whole day).
Result<Instant> windowEdge(const json& body, const std::string& field, bool end_of_day) {
  auto text = requireString(body, field);
  if (!text) return text.error();
  if (text->size() == 10) {
    auto start = shanghaiDayStart(*text);
    if (!start) return Error::invalid(field, "is not a date YYYY-MM-DD");
    return end_of_day ? *start + std::chrono::hours(24) : *start;
  }
  auto at = parseIso8601(*text);
  if (!at) return Error::invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 instant");
  return *at;
}

Result<region::CampaignDraft> draftOf(const json& body) {
  region::CampaignDraft d;
  auto region = requireString(body, "region");
  if (!region) return region.error();
  d.region_code = *region;
  auto name_zh = requireString(body, "name_zh");
  if (!name_zh) return name_zh.error();
  d.name_zh = *name_zh;
  auto name_en = optionalString(body, "name_en");
  if (!name_en) return name_en.error();
  d.name_en = *name_en;
  auto announcement_zh = requireString(body, "announcement_zh");
  if (!announcement_zh) return announcement_zh.error();
  d.announcement_zh = *announcement_zh;
  auto announcement_en = optionalString(body, "announcement_en");
  if (!announcement_en) return announcement_en.error();
  d.announcement_en = *announcement_en;
  auto starts = windowEdge(body, "starts_at", false);
  if (!starts) return starts.error();
  d.starts_at = *starts;
  auto ends = windowEdge(body, "ends_at", true);
  if (!ends) return ends.error();
  d.ends_at = *ends;
  auto methodologies = body.find("methodologies");
  if (methodologies == body.end() || !methodologies->is_array())
    return Error::invalid("methodologies", "must be a list of methodology ids");
  for (std::size_t i = 0; i < methodologies->size(); ++i) {
    if (!(*methodologies)[i].is_string()) {
      return Error::invalid("methodologies[" + std::to_string(i) + "]", "must be a methodology id");
    }
    d.methodologies.push_back((*methodologies)[i].get<std::string>());
  }
  auto multiplier = body.find("multiplier");
  if (multiplier == body.end() || !multiplier->is_number())
    return Error::invalid("multiplier", "must be a number such as 1.5 or 2");
  double permille = multiplier->get<double>() * 1000.0;
  if (!std::isfinite(permille) || std::fabs(permille - std::round(permille)) > 1e-6 ||
      std::fabs(permille) > 1e9) {
    return Error::invalid("multiplier", "must be a number with at most three decimals");
  }
  d.multiplier_permille = static_cast<int>(std::lround(permille));
  return d;
}

json figuresJson(const ingest::CampaignReductionFigures& f) {
  json days = json::array();
  for (const auto& d : f.days) {
    days.push_back({{"day", d.day},
                    {"records", d.records},
                    {"subjects", d.subjects},
                    {"grams", d.grams.value()},
                    {"points", d.points},
                    {"bonus_points", d.bonus_points}});
  }
  return {{"records", f.records}, {"subjects", f.subjects},         {"grams", f.grams.value()},
          {"points", f.points},   {"bonus_points", f.bonus_points}, {"days", days}};
}

const json kObject = {{"type", "object"}};

}  // namespace

void addCampaignRoutes(Router& router, region::CampaignService& campaigns,
                       ingest::ReductionStats& stats) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/campaigns",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Define a themed campaign: window, methodologies, points multiplier, announcement",
      .tag = "campaign",
      .request_schema = {{"type", "object"},
                         {"required",
                          {"region", "name_zh", "announcement_zh", "starts_at", "ends_at",
                           "methodologies", "multiplier"}},
                         {"properties",
                          {{"region", {{"type", "string"}}},
                           {"name_zh", {{"type", "string"}}},
                           {"name_en", {{"type", "string"}}},
                           {"announcement_zh", {{"type", "string"}}},
                           {"announcement_en", {{"type", "string"}}},
                           {"starts_at", {{"type", "string"}}},
                           {"ends_at", {{"type", "string"}}},
                           {"methodologies", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                           {"multiplier", {{"type", "number"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&campaigns](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto draft = draftOf(*body);
            if (!draft) return errorResponse(draft.error());
            return campaignResponse(campaigns.create(ctx.caller(), *draft), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/campaigns",
      .access = Access::kPublic,
      .summary = "Campaigns with their announcements; ?region= lists those covering a region",
      .tag = "campaign",
      .handler =
          [&campaigns](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = campaigns.list(ctx.request.queryParam("region"),
                                       ctx.request.queryParam("status"), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& c : *list) out.push_back(campaignJson(c));
            return jsonResponse({{"campaigns", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/campaigns/{id}",
      .access = Access::kPublic,
      .summary = "One campaign",
      .tag = "campaign",
      .handler =
          [&campaigns](RouteContext& ctx) {
            return withId(ctx,
                          [&](std::int64_t id) { return campaignResponse(campaigns.get(id)); });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/campaigns/{id}/stats",
      .access = Access::kPublic,
      .summary = "What records in the campaign earned: records, subjects, grams, bonus points",
      .tag = "campaign",
      .handler =
          [&campaigns, &stats](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto campaign = campaigns.get(*id);
            if (!campaign) return errorResponse(campaign.error());
            return jsonResponse({{"campaign", campaignJson(*campaign)},
                                 {"figures", figuresJson(stats.campaign(*id))}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/campaigns/{id}/cancel",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Cancel a campaign that has not started",
      .tag = "campaign",
      .request_schema = {{"type", "object"},
                         {"required", {"reason"}},
                         {"properties", {{"reason", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .handler =
          [&campaigns](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto reason = requireString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              return campaignResponse(campaigns.cancel(ctx.caller(), id, *reason));
            });
          },
  });
}

}  // namespace tph::api
