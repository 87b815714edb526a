#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "assessment/assessment_service.h"

namespace tph::api {

namespace {

using assessment::AssessmentService;
using auth::Role;
using nlohmann::json;

json milli(std::int64_t value) {
  if (value % 1000 == 0) return value / 1000;
  return static_cast<double>(value) / 1000.0;
}

json schemeJson(const assessment::Scheme& s) {
  return {{"year", s.year},
          {"indicators", assessment::indicatorsToJson(s.indicators)},
          {"updated_by", s.updated_by},
          {"updated_at", formatIso8601(s.updated_at)},
          {"published", s.published}};
}

json populationsJson(const std::vector<assessment::Population>& list) {
  json out = json::array();
  for (const auto& p : list) {
    out.push_back({{"region", p.region_code},
                   {"residents", p.residents},
                   {"source", p.source},
                   {"entered_by", p.entered_by},
                   {"entered_at", formatIso8601(p.entered_at)}});
  }
  return out;
}

//! With detail: each figure, its note and its source query; without: the scores alone.
json cityJson(const assessment::CityAssessment& c, bool detail) {
  json results = json::array();
  for (const auto& r : c.results) {
    json item = {{"indicator", r.indicator_key}, {"score", milli(r.score_milli)}};
    if (detail) {
      item["figure"] = milli(r.figure_milli);
      item["note"] = r.note;
      item["source"] = r.source;
    }
    results.push_back(std::move(item));
  }
  return {{"region", c.region_code}, {"name_zh", c.name_zh},          {"name_en", c.name_en},
          {"rank", c.rank},          {"total", milli(c.total_milli)}, {"results", results}};
}

json runJson(const assessment::Run& r, bool with_cities, bool detail) {
  json out = {{"id", r.id},
              {"year", r.year},
              {"state", r.state},
              {"indicators", assessment::indicatorsToJson(r.scheme)},
              {"period_from", r.period_from},
              {"period_until", r.period_until},
              {"content_sha256", r.content_sha256},
              {"computed_by", r.computed_by},
              {"computed_at", formatIso8601(r.computed_at)},
              {"published_by", r.published_by},
              {"published_at", r.published_at ? json(formatIso8601(*r.published_at)) : json()},
              {"tie_rule",
               "equal totals share the better rank and the next rank is skipped (1, 2, 2, 4); "
               "tied cities are listed by region code"}};
  if (detail) out["populations"] = populationsJson(r.populations);
  if (with_cities) {
    json cities = json::array();
    for (const auto& c : r.cities) cities.push_back(cityJson(c, detail));
    out["cities"] = cities;
    out["report_xlsx"] = "/api/v1/assessment/runs/" + std::to_string(r.id) + "/report.xlsx";
    out["report_pdf"] = "/api/v1/assessment/runs/" + std::to_string(r.id) + "/report.pdf";
  }
  return out;
}

const auth::Principal* optionalCaller(RouteContext& ctx) {
  return ctx.principal ? &*ctx.principal : nullptr;
}

bool isProvince(RouteContext& ctx) {
  return ctx.principal && ctx.principal->hasRole(Role::kProvinceAdmin);
}

Result<int> yearParam(RouteContext& ctx) {
  auto year = parseId(ctx.param("year"), "year");
  if (!year) return year.error();
  if (*year < 2000 || *year > 2100) return Error::invalid("year", "must be 2000 to 2100");
  return static_cast<int>(*year);
}

template <class Fn>
HttpResponse withYear(RouteContext& ctx, Fn&& fn) {
  auto year = yearParam(ctx);
  if (!year) return errorResponse(year.error());
  return fn(*year);
}

Result<std::vector<assessment::Population>> populationsFromJson(const json& body) {
  auto list = body.find("populations");
  if (list == body.end() || !list->is_array()) {
    return Error::invalid("populations", "must be a list of {region, residents, source}");
  }
  std::vector<assessment::Population> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& item = (*list)[i];
    std::string where = "populations[" + std::to_string(i) + "]";
    if (!item.is_object()) return Error::invalid(where, "must be an object");
    assessment::Population p;
    auto region = item.find("region");
    if (region == item.end() || !region->is_string()) {
      return Error::invalid(where + ".region", "must be a region code");
    }
    auto residents = item.find("residents");
    if (residents == item.end() || !residents->is_number_integer()) {
      return Error::invalid(where + ".residents", "must be a whole number");
    }
    auto source = item.find("source");
    if (source == item.end() || !source->is_string()) {
      return Error::invalid(where + ".source", "must name the statistics it comes from");
    }
    p.region_code = region->get<std::string>();
    p.residents = residents->get<std::int64_t>();
    p.source = source->get<std::string>();
    out.push_back(std::move(p));
  }
  return out;
}

HttpResponse download(Result<std::string> bytes, const std::string& content_type,
                      const std::string& filename, bool attachment) {
  if (!bytes) return errorResponse(bytes.error());
  HttpResponse response;
  response.body = std::move(*bytes);
  response.setHeader("content-type", content_type);
  response.setHeader("content-disposition", std::string(attachment ? "attachment" : "inline") +
                                                "; filename=\"" + filename + "\"");
  response.setHeader("cache-control", "private, no-store");
  return response;
}

const json kObject = {{"type", "object"}};
const json kRuleSchema = {
    {"type", "object"},
    {"required", {"kind"}},
    {"properties",
     {{"kind", {{"type", "string"}, {"enum", {"linear", "bands"}}}},
      {"floor", {{"type", "number"}}},
      {"full", {{"type", "number"}}},
      {"bands",
       {{"type", "array"},
        {"items",
         {{"type", "object"},
          {"required", {"min", "percent"}},
          {"properties",
           {{"min", {{"type", "number"}}}, {"percent", {{"type", "integer"}}}}}}}}}}}};
const json kSchemeSchema = {{"type", "object"},
                            {"required", {"indicators"}},
                            {"properties",
                             {{"indicators",
                               {{"type", "array"},
                                {"items",
                                 {{"type", "object"},
                                  {"required", {"key", "weight", "rule"}},
                                  {"properties",
                                   {{"key", {{"type", "string"}}},
                                    {"weight", {{"type", "integer"}}},
                                    {"rule", kRuleSchema}}}}}}}}}};
const json kPopulationsSchema = {{"type", "object"},
                                 {"required", {"populations"}},
                                 {"properties",
                                  {{"populations",
                                    {{"type", "array"},
                                     {"items",
                                      {{"type", "object"},
                                       {"required", {"region", "residents", "source"}},
                                       {"properties",
                                        {{"region", {{"type", "string"}}},
                                         {"residents", {{"type", "integer"}}},
                                         {"source", {{"type", "string"}}}}}}}}}}}};

void addSchemeRoutes(Router& router, AssessmentService& assessments) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/indicators",
      .access = Access::kPublic,
      .summary = "The catalogue of assessment indicators a scheme chooses from",
      .tag = "assessment",
      .handler =
          [](RouteContext&) {
            json out = json::array();
            for (const auto& i : assessment::indicatorCatalogue()) {
              out.push_back({{"key", i.key},
                             {"name_zh", i.name_zh},
                             {"name_en", i.name_en},
                             {"unit", i.unit}});
            }
            return jsonResponse({{"indicators", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/schemes/{year}",
      .roles = {Role::kProvinceAdmin},
      .summary = "The year's scheme: indicators, weights and scoring rules",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withYear(ctx, [&](int year) {
              auto s = assessments.scheme(ctx.caller(), year);
              if (!s) return errorResponse(s.error());
              return jsonResponse(schemeJson(*s));
            });
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/assessment/schemes/{year}",
      .roles = {Role::kProvinceAdmin},
      .summary = "Set the year's scheme (weights sum to 100); refused once the year is published",
      .tag = "assessment",
      .request_schema = kSchemeSchema,
      .response_schema = kObject,
      .handler =
          [&assessments](RouteContext& ctx) {
            return withYear(ctx, [&](int year) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto it = body->find("indicators");
              if (it == body->end()) {
                return errorResponse(Error::invalid("indicators", "is required"));
              }
              auto indicators = assessment::indicatorsFromJson(*it);
              if (!indicators) return errorResponse(indicators.error());
              auto s = assessments.setScheme(ctx.caller(), year, *indicators);
              if (!s) return errorResponse(s.error());
              return jsonResponse(schemeJson(*s));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/populations/{year}",
      .roles = {Role::kProvinceAdmin},
      .summary = "The cities' resident populations for the year, with their sources",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withYear(ctx, [&](int year) {
              auto list = assessments.populations(ctx.caller(), year);
              if (!list) return errorResponse(list.error());
              return jsonResponse({{"year", year}, {"populations", populationsJson(*list)}});
            });
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/assessment/populations/{year}",
      .roles = {Role::kProvinceAdmin},
      .summary = "Set cities' resident populations for the year, each with its statistical source",
      .tag = "assessment",
      .request_schema = kPopulationsSchema,
      .response_schema = kObject,
      .handler =
          [&assessments](RouteContext& ctx) {
            return withYear(ctx, [&](int year) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto entries = populationsFromJson(*body);
              if (!entries) return errorResponse(entries.error());
              auto list = assessments.setPopulations(ctx.caller(), year, *entries);
              if (!list) return errorResponse(list.error());
              return jsonResponse({{"year", year}, {"populations", populationsJson(*list)}});
            });
          },
  });
}

void addRunRoutes(Router& router, AssessmentService& assessments) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/assessment/runs",
      .roles = {Role::kProvinceAdmin},
      .summary = "Compute the year's assessment of every city from platform data and store the run",
      .tag = "assessment",
      .request_schema = {{"type", "object"},
                         {"required", {"year"}},
                         {"properties", {{"year", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&assessments](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto year = requireInteger(*body, "year");
            if (!year) return errorResponse(year.error());
            if (*year < 2000 || *year > 2100) {
              return errorResponse(Error::invalid("year", "must be 2000 to 2100"));
            }
            auto run = assessments.compute(ctx.caller(), static_cast<int>(*year));
            if (!run) return errorResponse(run.error());
            return jsonResponse(runJson(*run, true, true), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/runs",
      .roles = {Role::kProvinceAdmin},
      .summary = "Runs of a year (?year=), newest first",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            auto year = queryInt(ctx.request, "year", 0);
            if (!year) return errorResponse(year.error());
            auto list = assessments.runs(ctx.caller(), *year);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& r : *list) out.push_back(runJson(r, false, false));
            return jsonResponse({{"runs", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/runs/{id}",
      .access = Access::kPublic,
      .summary = "A run: the province sees any with every figure and source; others the "
                 "published ranking",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto run = assessments.run(optionalCaller(ctx), id);
              if (!run) return errorResponse(run.error());
              return jsonResponse(runJson(*run, true, isProvince(ctx)));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/assessment/runs/{id}/publish",
      .roles = {Role::kProvinceAdmin},
      .summary = "Publish a run: the year's ranking, immutable afterwards",
      .tag = "assessment",
      .response_schema = kObject,
      .handler =
          [&assessments](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto run = assessments.publish(ctx.caller(), id);
              if (!run) return errorResponse(run.error());
              return jsonResponse(runJson(*run, true, true));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/runs/{id}/cities/{code}",
      .summary = "One city's figures, scores and source queries (the province; the city's admins "
                 "in a published run)",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto city = assessments.city(ctx.caller(), id, ctx.param("code"));
              if (!city) return errorResponse(city.error());
              return jsonResponse(cityJson(*city, true));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/runs/{id}/report.xlsx",
      .access = Access::kPublic,
      .summary = "The run's workbook: every city × indicator with figure, score and source query",
      .tag = "assessment",
      .response_content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return download(assessments.reportXlsx(optionalCaller(ctx), id),
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              "assessment-run-" + std::to_string(id) + ".xlsx", true);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/runs/{id}/report.pdf",
      .access = Access::kPublic,
      .summary = "The run's report (PDF): chart of totals, ranking, scheme",
      .tag = "assessment",
      .response_content_type = "application/pdf",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return download(assessments.reportPdf(optionalCaller(ctx), id), "application/pdf",
                              "assessment-run-" + std::to_string(id) + ".pdf", false);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/assessment/published/{year}",
      .access = Access::kPublic,
      .summary = "The year's published ranking: totals and scores per indicator",
      .tag = "assessment",
      .handler =
          [&assessments](RouteContext& ctx) {
            return withYear(ctx, [&](int year) {
              auto run = assessments.published(year);
              if (!run) return errorResponse(run.error());
              return jsonResponse(runJson(*run, true, false));
            });
          },
  });
}

}  // namespace

void addAssessmentRoutes(Router& router, AssessmentService& assessments) {
  addSchemeRoutes(router, assessments);
  addRunRoutes(router, assessments);
}

}  // namespace tph::api
