#include <set>

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "programme/programme_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json criteriaJson(const programme::Criteria& c) {
  json indicators = json::array();
  for (const auto& i : c.content.indicators) {
    indicators.push_back({{"key", i.key},
                          {"name", i.name},
                          {"description", i.description},
                          {"weight_percent", i.weight_percent},
                          {"max_score", i.max_score},
                          {"min_score", i.min_score}});
  }
  auto instant = [](const std::optional<Instant>& t) {
    return t ? json(formatIso8601(*t)) : json(nullptr);
  };
  return {{"id", c.id},
          {"type", c.content.programme_type},
          {"version", c.version},
          {"name", c.content.name},
          {"state", c.state},
          {"indicators", indicators},
          {"pass_mark", c.content.pass_mark},
          {"validity_months", c.content.validity_months},
          {"drafted_at", formatIso8601(c.drafted_at)},
          {"published_at", instant(c.published_at)},
          {"superseded_at", instant(c.superseded_at)}};
}

json degrees(std::int64_t micro) {
  return static_cast<double>(micro) / 1e6;
}

json applicationJson(const programme::Application& a) {
  const auto& d = a.details;
  json files = json::array();
  for (const auto& f : a.attachments) {
    files.push_back({{"id", f.id},
                     {"indicator", f.indicator_key},
                     {"name", f.name},
                     {"sha256", f.sha256},
                     {"bytes", f.bytes}});
  }
  json assessment = nullptr;
  if (a.assessment) {
    const auto& s = *a.assessment;
    assessment = {{"scores", s.scores},
                  {"total_milli", s.evaluation.total_milli},
                  {"passed", s.evaluation.passed},
                  {"below_minimum", s.evaluation.below_minimum},
                  {"comment", s.comment},
                  {"scored_by", s.scored_by},
                  {"scored_at", formatIso8601(s.scored_at)}};
  }
  return {{"id", a.id},
          {"type", a.programme_type},
          {"criteria_id", a.criteria_id},
          {"criteria_version", a.criteria_version},
          {"state", a.state},
          {"entity_name", d.entity_name},
          {"entity_type", d.entity_type},
          {"region", d.region_code},
          {"address", d.address},
          {"lon", d.coordinates ? degrees(d.coordinates->lon_micro) : json(nullptr)},
          {"lat", d.coordinates ? degrees(d.coordinates->lat_micro) : json(nullptr)},
          {"contact", d.contact},
          {"evidence", d.evidence},
          {"attachments", files},
          {"applicant_user_id", a.applicant_user_id},
          {"submitted_at", a.submitted_at ? json(formatIso8601(*a.submitted_at)) : json(nullptr)},
          {"assessment", assessment},
          {"decision_reason", a.decision_reason},
          {"title_id", a.title_id ? json(*a.title_id) : json(nullptr)}};
}

json titleJson(const programme::Title& t) {
  return {{"id", t.id},
          {"application_id", t.application_id},
          {"type", t.programme_type},
          {"criteria_id", t.criteria_id},
          {"criteria_version", t.criteria_version},
          {"entity_name", t.entity_name},
          {"region", t.region_code},
          {"address", t.address},
          {"lon", t.coordinates ? degrees(t.coordinates->lon_micro) : json(nullptr)},
          {"lat", t.coordinates ? degrees(t.coordinates->lat_micro) : json(nullptr)},
          {"total_milli", t.total_milli},
          {"awarded_on", t.awarded_on},
          {"valid_until", t.valid_until},
          {"status", t.status},
          {"revoked_reason", t.revoked_reason},
          {"revoked_at", t.revoked_at ? json(formatIso8601(*t.revoked_at)) : json(nullptr)}};
}

HttpResponse criteriaResponse(const Result<programme::Criteria>& c, int status = 200) {
  if (!c) return errorResponse(c.error());
  return jsonResponse(criteriaJson(*c), status);
}

HttpResponse applicationResponse(const Result<programme::Application>& a, int status = 200) {
  if (!a) return errorResponse(a.error());
  return jsonResponse(applicationJson(*a), status);
}

HttpResponse titleResponse(const Result<programme::Title>& t) {
  if (!t) return errorResponse(t.error());
  return jsonResponse(titleJson(*t));
}

json bodySchema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

const json kString = {{"type", "string"}};
const json kInteger = {{"type", "integer"}};
const json kObject = {{"type", "object"}};

const json kCriteriaSchema =
    bodySchema({"type", "name", "indicators", "pass_mark", "validity_months"},
               {{"type",
                 {{"type", "string"},
                  {"enum", {"community", "park", "transport", "campus", "hotel", "scenic_area"}}}},
                {"name", kString},
                {"indicators",
                 {{"type", "array"},
                  {"items", bodySchema({"key", "name", "weight_percent", "max_score", "min_score"},
                                       {{"key", kString},
                                        {"name", kString},
                                        {"description", kString},
                                        {"weight_percent", kInteger},
                                        {"max_score", kInteger},
                                        {"min_score", kInteger}})}}},
                {"pass_mark", kInteger},
                {"validity_months", kInteger}});

const json kEntitySchema =
    bodySchema({"entity_name", "entity_type", "region", "address", "contact"},
               {{"type", kString},
                {"entity_name", kString},
                {"entity_type", kString},
                {"region", kString},
                {"address", kString},
                {"lon", {{"type", "number"}}},
                {"lat", {{"type", "number"}}},
                {"contact", kString},
                {"evidence", {{"type", "object"}, {"additionalProperties", kString}}}});

const auth::Principal* optionalCaller(RouteContext& ctx) {
  return ctx.principal ? &*ctx.principal : nullptr;
}

}  // namespace

void addProgrammeRoutes(Router& router, programme::ProgrammeService& programmes) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/criteria",
      .roles = {Role::kProvinceAdmin},
      .summary = "Draft a new version of a creation programme's criteria (indicators, weights, "
                 "minimum scores, pass mark, validity)",
      .tag = "programme",
      .request_schema = kCriteriaSchema,
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&programmes](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto content = programme::criteriaFromJson(*body);
            if (!content) return errorResponse(content.error());
            return criteriaResponse(programmes.draftCriteria(ctx.caller(), *content), 201);
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/programmes/criteria/{id}",
      .roles = {Role::kProvinceAdmin},
      .summary = "Rewrite a draft criteria set (a published one never changes)",
      .tag = "programme",
      .request_schema = kCriteriaSchema,
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto content = programme::criteriaFromJson(body);
              if (!content) return errorResponse(content.error());
              return criteriaResponse(programmes.reviseCriteria(ctx.caller(), id, *content));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/criteria/{id}/publish",
      .roles = {Role::kProvinceAdmin},
      .summary = "Publish a draft; it supersedes the type's published set for new applications",
      .tag = "programme",
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return criteriaResponse(programmes.publishCriteria(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/criteria",
      .access = Access::kPublic,
      .summary = "Criteria sets, newest version first (?type=); drafts only to the province",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            auto list =
                programmes.criteriaList(optionalCaller(ctx), ctx.request.queryParam("type"));
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& c : *list) out.push_back(criteriaJson(c));
            return jsonResponse({{"criteria", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/criteria/{id}",
      .access = Access::kPublic,
      .summary = "One criteria set",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return criteriaResponse(programmes.criteria(optionalCaller(ctx), id));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications",
      .summary = "Draft an entity's application under the type's published criteria",
      .tag = "programme",
      .request_schema = kEntitySchema,
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&programmes](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto type = requireString(*body, "type");
            if (!type) return errorResponse(type.error());
            auto details = programme::entityFromJson(*body);
            if (!details) return errorResponse(details.error());
            return applicationResponse(programmes.draftApplication(ctx.caller(), *type, *details),
                                       201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/applications",
      .summary = "Applications the caller made or administers (?state=, ?type=), newest first",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            programme::ApplicationFilter filter{ctx.request.queryParam("state"),
                                                ctx.request.queryParam("type")};
            static const std::set<std::string> states = {"",       "draft",   "submitted",
                                                         "scored", "awarded", "rejected"};
            if (!states.count(filter.state)) {
              return errorResponse(Error::invalid("state", "is not an application state"));
            }
            if (!filter.programme_type.empty() &&
                !programme::isProgrammeType(filter.programme_type)) {
              return errorResponse(Error::invalid("type", "is not a programme type"));
            }
            json out = json::array();
            for (const auto& a : programmes.applications(ctx.caller(), filter)) {
              out.push_back(applicationJson(a));
            }
            return jsonResponse({{"applications", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/applications/{id}",
      .summary = "One application (its applicant and the admins of its region)",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return applicationResponse(programmes.application(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/programmes/applications/{id}",
      .summary = "The applicant rewrites a draft",
      .tag = "programme",
      .request_schema = kEntitySchema,
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto details = programme::entityFromJson(body);
              if (!details) return errorResponse(details.error());
              return applicationResponse(programmes.reviseApplication(ctx.caller(), id, *details));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications/{id}/attachments",
      .summary = "Attach a PDF (base64, at most 5 MiB) as evidence of an indicator of a draft",
      .tag = "programme",
      .request_schema =
          bodySchema({"indicator", "name", "content_base64"},
                     {{"indicator", kString}, {"name", kString}, {"content_base64", kString}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto indicator = requireString(body, "indicator");
              if (!indicator) return errorResponse(indicator.error());
              auto name = requireString(body, "name");
              if (!name) return errorResponse(name.error());
              auto content = requireString(body, "content_base64");
              if (!content) return errorResponse(content.error());
              auto f = programmes.attach(ctx.caller(), id, *indicator, *name, *content);
              if (!f) return errorResponse(f.error());
              return jsonResponse({{"id", f->id},
                                   {"indicator", f->indicator_key},
                                   {"name", f->name},
                                   {"sha256", f->sha256},
                                   {"bytes", f->bytes}},
                                  201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/applications/{id}/attachments/{attachment_id}",
      .summary = "An attached PDF (its applicant and the admins of its region)",
      .tag = "programme",
      .response_schema = {{"type", "string"}, {"format", "binary"}},
      .response_content_type = "application/pdf",
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto attachment_id = parseId(ctx.param("attachment_id"), "attachment_id");
              if (!attachment_id) return errorResponse(attachment_id.error());
              auto file = programmes.attachmentFile(ctx.caller(), id, *attachment_id);
              if (!file) return errorResponse(file.error());
              HttpResponse response;
              response.setHeader("content-type", "application/pdf");
              response.setHeader(
                  "content-disposition",
                  "attachment; filename=\"evidence-" + std::to_string(*attachment_id) + ".pdf\"");
              response.body = std::move(file->bytes);
              return response;
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications/{id}/submit",
      .summary = "The applicant submits a draft with evidence for every indicator",
      .tag = "programme",
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return applicationResponse(programmes.submit(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications/{id}/scores",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "An admin of the entity's region scores every indicator; the platform computes "
                 "the weighted total and applies the thresholds",
      .tag = "programme",
      .request_schema = bodySchema({"scores"}, {{"scores", kObject}, {"comment", kString}}),
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto it = body.find("scores");
              if (it == body.end() || !it->is_object()) {
                return errorResponse(Error::invalid("scores", "must map indicators to scores"));
              }
              std::map<std::string, int> scores;
              for (const auto& [key, value] : it->items()) {
                if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
                    value.get<std::int64_t>() > programme::kMaxIndicatorScore) {
                  return errorResponse(Error::invalid("scores." + key, "must be a whole score"));
                }
                scores[key] = value.get<int>();
              }
              auto comment = optionalString(body, "comment");
              if (!comment) return errorResponse(comment.error());
              return applicationResponse(programmes.score(ctx.caller(), id, scores, *comment));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications/{id}/award",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Award the title from today for the criteria's validity, if the scores pass",
      .tag = "programme",
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return applicationResponse(programmes.award(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/applications/{id}/reject",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Reject a submitted or scored application with reasons",
      .tag = "programme",
      .request_schema = bodySchema({"reason"}, {{"reason", kString}}),
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto reason = optionalString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              return applicationResponse(programmes.reject(ctx.caller(), id, *reason));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/titles",
      .access = Access::kPublic,
      .summary = "Awarded titles with coordinates for a map (?type=, ?region=, ?status=valid|"
                 "expired|revoked, ?limit=, ?offset=), newest award first",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            programme::TitleFilter filter{ctx.request.queryParam("type"),
                                          ctx.request.queryParam("region"),
                                          ctx.request.queryParam("status"), *limit, *offset};
            auto page = programmes.titles(filter);
            if (!page) return errorResponse(page.error());
            json out = json::array();
            for (const auto& t : page->titles) out.push_back(titleJson(t));
            return jsonResponse({{"titles", out}, {"total", page->total}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/programmes/titles/{id}",
      .access = Access::kPublic,
      .summary = "One title",
      .tag = "programme",
      .handler =
          [&programmes](RouteContext& ctx) {
            return withId(ctx,
                          [&](std::int64_t id) { return titleResponse(programmes.title(id)); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/programmes/titles/{id}/revoke",
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Revoke a valid title with a reason (an admin of its region)",
      .tag = "programme",
      .request_schema = bodySchema({"reason"}, {{"reason", kString}}),
      .response_schema = kObject,
      .handler =
          [&programmes](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto reason = optionalString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              return titleResponse(programmes.revoke(ctx.caller(), id, *reason));
            });
          },
  });
}

}  // namespace tph::api
