#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "pilot/pilot_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json roundJson(const pilot::PilotRound& r) {
  json rubric = json::array();
  for (const auto& c : r.rubric) {
    rubric.push_back({{"key", c.key},
                      {"name", c.name},
                      {"max_score", c.max_score},
                      {"weight_percent", c.weight_percent}});
  }
  return {
      {"id", r.id}, {"name", r.name}, {"deadline", formatIso8601(r.deadline)}, {"rubric", rubric}};
}

json applicationJson(const pilot::PilotApplication& a) {
  json reviews = json::array(), attachments = json::array();
  for (const auto& r : a.reviews) {
    reviews.push_back({{"reviewer_user_id", r.reviewer_user_id},
                       {"scores", r.scores ? json(*r.scores) : json(nullptr)},
                       {"total_milli", r.total_milli ? json(*r.total_milli) : json(nullptr)},
                       {"comment", r.comment}});
  }
  for (const auto& f : a.attachments) {
    attachments.push_back(
        {{"id", f.id}, {"name", f.name}, {"sha256", f.sha256}, {"bytes", f.bytes}});
  }
  return {{"id", a.id},
          {"round_id", a.round_id},
          {"region", a.region_code},
          {"state", a.state},
          {"plan", pilot::planToJson(a.plan)},
          {"submitted_at", a.submitted_at ? json(formatIso8601(*a.submitted_at)) : json(nullptr)},
          {"decision_reason", a.decision_reason},
          {"pilot_from", a.pilot_from.empty() ? json(nullptr) : json(a.pilot_from)},
          {"reviews", reviews},
          {"attachments", attachments},
          {"mean_total_milli", a.mean_total_milli ? json(*a.mean_total_milli) : json(nullptr)}};
}

json figuresJson(const pilot::ProgressFigures& f) {
  return {{"participants", f.participants}, {"records", f.records},
          {"grams", f.grams.value()},       {"methodologies", f.methodologies},
          {"merchants", f.merchants},       {"data_providers", f.data_providers}};
}

json progressJson(const pilot::ProgressReport& r) {
  json target = nullptr;
  if (r.target) {
    target = {{"participants", r.target->participants},
              {"tonnes", r.target->tonnes},
              {"merchants", r.target->merchants},
              {"methodologies", r.target->methodologies}};
  }
  return {{"id", r.id},
          {"region", r.region_code},
          {"year", r.year},
          {"quarter", r.quarter},
          {"measured", figuresJson(r.measured)},
          {"year_to_date", figuresJson(r.year_to_date)},
          {"target", target},
          {"narrative", r.narrative},
          {"filed_at", formatIso8601(r.filed_at)}};
}

HttpResponse applicationResponse(const Result<pilot::PilotApplication>& a, int status = 200) {
  if (!a) return errorResponse(a.error());
  return jsonResponse(applicationJson(*a), status);
}

Result<pilot::PilotPlan> planOf(const json& body) {
  auto it = body.find("plan");
  if (it == body.end()) return Error::invalid("plan", "is required");
  return pilot::planFromJson(*it);
}

json bodySchema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

const json kObject = {{"type", "object"}};

}  // namespace

void addPilotRoutes(Router& router, pilot::PilotService& pilots) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/rounds",
      .roles = {Role::kProvinceAdmin},
      .summary = "Open a pilot application round with its deadline and scoring rubric",
      .tag = "pilot",
      .request_schema = bodySchema({"name", "deadline", "rubric"},
                                   {{"name", {{"type", "string"}}},
                                    {"deadline", {{"type", "string"}, {"format", "date-time"}}},
                                    {"rubric", {{"type", "array"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&pilots](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto deadline_text = requireString(*body, "deadline");
            if (!deadline_text) return errorResponse(deadline_text.error());
            auto deadline = parseIso8601(*deadline_text);
            if (!deadline) {
              return errorResponse(Error::invalid("deadline", "must be an ISO 8601 instant"));
            }
            auto rubric_json = body->find("rubric");
            if (rubric_json == body->end() || !rubric_json->is_array()) {
              return errorResponse(Error::invalid("rubric", "must be a list of criteria"));
            }
            std::vector<pilot::RubricCriterion> rubric;
            for (std::size_t i = 0; i < rubric_json->size(); ++i) {
              const auto& c = (*rubric_json)[i];
              std::string where = "rubric[" + std::to_string(i) + "]";
              if (!c.is_object()) return errorResponse(Error::invalid(where, "must be an object"));
              auto key = requireString(c, "key");
              auto cname = requireString(c, "name");
              auto max = requireInteger(c, "max_score");
              auto weight = requireInteger(c, "weight_percent");
              for (const Error* e :
                   {key ? nullptr : &key.error(), cname ? nullptr : &cname.error(),
                    max ? nullptr : &max.error(), weight ? nullptr : &weight.error()}) {
                if (e) return errorResponse(Error::invalid(where + "." + e->field, e->message));
              }
              if (*max < 1 || *max > 1000 || *weight < 1 || *weight > 100) {
                return errorResponse(
                    Error::invalid(where, "max_score must be 1 to 1000, weight_percent 1 to 100"));
              }
              rubric.push_back({*key, *cname, static_cast<int>(*max), static_cast<int>(*weight)});
            }
            auto round = pilots.openRound(ctx.caller(), *name, *deadline, rubric);
            if (!round) return errorResponse(round.error());
            return jsonResponse(roundJson(*round), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/pilot/rounds",
      .access = Access::kPublic,
      .summary = "Pilot application rounds with their deadlines and published rubrics",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext&) {
            json out = json::array();
            for (const auto& r : pilots.rounds()) out.push_back(roundJson(r));
            return jsonResponse({{"rounds", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/rounds/{id}/applications",
      .roles = {Role::kRegionAdmin},
      .summary = "Draft a city's or county's pilot implementation plan",
      .tag = "pilot",
      .request_schema =
          bodySchema({"region", "plan"}, {{"region", {{"type", "string"}}}, {"plan", kObject}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto region = requireString(body, "region");
              if (!region) return errorResponse(region.error());
              auto plan = planOf(body);
              if (!plan) return errorResponse(plan.error());
              return applicationResponse(pilots.draft(ctx.caller(), id, *region, *plan), 201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/pilot/rounds/{id}/applications",
      .summary = "The round's applications the caller may read",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto list = pilots.applications(ctx.caller(), *id);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& a : *list) out.push_back(applicationJson(a));
            return jsonResponse({{"applications", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/pilot/applications/{id}",
      .summary = "One pilot application (the province, the region's admins, its reviewers)",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return applicationResponse(pilots.application(ctx.caller(), *id));
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/pilot/applications/{id}/plan",
      .roles = {Role::kRegionAdmin},
      .summary = "Revise a draft's plan",
      .tag = "pilot",
      .request_schema = bodySchema({"plan"}, {{"plan", kObject}}),
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto plan = planOf(body);
              if (!plan) return errorResponse(plan.error());
              return applicationResponse(pilots.revise(ctx.caller(), id, *plan));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/applications/{id}/attachments",
      .roles = {Role::kRegionAdmin},
      .summary = "Attach a PDF (base64) to a draft",
      .tag = "pilot",
      .request_schema =
          bodySchema({"name", "content_base64"},
                     {{"name", {{"type", "string"}}}, {"content_base64", {{"type", "string"}}}}),
      .success_status = 201,
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto name = requireString(body, "name");
              if (!name) return errorResponse(name.error());
              auto content = requireString(body, "content_base64");
              if (!content) return errorResponse(content.error());
              auto f = pilots.attach(ctx.caller(), id, *name, *content);
              if (!f) return errorResponse(f.error());
              return jsonResponse(
                  {{"id", f->id}, {"name", f->name}, {"sha256", f->sha256}, {"bytes", f->bytes}},
                  201);
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/applications/{id}/submit",
      .roles = {Role::kRegionAdmin},
      .summary = "Submit a draft before the round's deadline",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return applicationResponse(pilots.submit(ctx.caller(), *id));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/applications/{id}/reviewers",
      .roles = {Role::kProvinceAdmin},
      .summary = "Assign reviewers to a submitted application",
      .tag = "pilot",
      .request_schema = bodySchema({"reviewers"}, {{"reviewers", {{"type", "array"}}}}),
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto it = body.find("reviewers");
              if (it == body.end() || !it->is_array()) {
                return errorResponse(Error::invalid("reviewers", "must be a list of user ids"));
              }
              std::vector<std::int64_t> users;
              for (std::size_t i = 0; i < it->size(); ++i) {
                if (!(*it)[i].is_number_integer()) {
                  return errorResponse(
                      Error::invalid("reviewers[" + std::to_string(i) + "]", "must be a user id"));
                }
                users.push_back((*it)[i]);
              }
              return applicationResponse(pilots.assignReviewers(ctx.caller(), id, users));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/applications/{id}/scores",
      .summary = "An assigned reviewer scores the application against the rubric",
      .tag = "pilot",
      .request_schema =
          bodySchema({"scores"}, {{"scores", kObject}, {"comment", {{"type", "string"}}}}),
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto it = body.find("scores");
              if (it == body.end() || !it->is_object()) {
                return errorResponse(Error::invalid("scores", "must map criteria to scores"));
              }
              std::map<std::string, int> scores;
              for (const auto& [key, value] : it->items()) {
                if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
                    value.get<std::int64_t>() > 1000) {
                  return errorResponse(Error::invalid("scores." + key, "must be a whole score"));
                }
                scores[key] = value.get<int>();
              }
              auto comment = optionalString(body, "comment");
              if (!comment) return errorResponse(comment.error());
              return applicationResponse(pilots.score(ctx.caller(), id, scores, *comment));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilot/applications/{id}/decision",
      .roles = {Role::kProvinceAdmin},
      .summary = "Approve (a pilot from a day) or reject with reasons",
      .tag = "pilot",
      .request_schema = bodySchema({"approve"}, {{"approve", {{"type", "boolean"}}},
                                                 {"reason", {{"type", "string"}}},
                                                 {"pilot_from", {{"type", "string"}}}}),
      .handler =
          [&pilots](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto approve = body.find("approve");
              if (approve == body.end() || !approve->is_boolean()) {
                return errorResponse(Error::invalid("approve", "must be true or false"));
              }
              auto reason = optionalString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              auto from = optionalString(body, "pilot_from");
              if (!from) return errorResponse(from.error());
              return applicationResponse(
                  pilots.decide(ctx.caller(), id, approve->get<bool>(), *reason, *from));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/pilots",
      .access = Access::kPublic,
      .summary = "Designated pilot regions and the day each became a pilot",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext&) {
            json out = json::array();
            for (const auto& p : pilots.pilots()) {
              out.push_back({{"region", p.region_code},
                             {"application_id", p.application_id},
                             {"pilot_from", p.pilot_from}});
            }
            return jsonResponse({{"pilots", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/pilots/{region}/progress",
      .roles = {Role::kRegionAdmin},
      .summary = "File a quarter's progress: the platform measures, the region narrates",
      .tag = "pilot",
      .request_schema =
          bodySchema({"year", "quarter", "narrative"}, {{"year", {{"type", "integer"}}},
                                                        {"quarter", {{"type", "integer"}}},
                                                        {"narrative", {{"type", "string"}}}}),
      .success_status = 201,
      .handler =
          [&pilots](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto year = requireInteger(*body, "year");
            if (!year) return errorResponse(year.error());
            auto quarter = requireInteger(*body, "quarter");
            if (!quarter) return errorResponse(quarter.error());
            auto narrative = requireString(*body, "narrative");
            if (!narrative) return errorResponse(narrative.error());
            if (*year < 2015 || *year > 2100) {
              return errorResponse(Error::invalid("year", "must be 2015 to 2100"));
            }
            if (*quarter < 1 || *quarter > 4) {
              return errorResponse(Error::invalid("quarter", "must be 1 to 4"));
            }
            auto r = pilots.fileProgress(ctx.caller(), ctx.param("region"), static_cast<int>(*year),
                                         static_cast<int>(*quarter), *narrative);
            if (!r) return errorResponse(r.error());
            return jsonResponse(progressJson(*r), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/pilots/{region}/progress",
      .access = Access::kPublic,
      .summary = "A pilot's quarterly progress reports, measured figures beside targets",
      .tag = "pilot",
      .handler =
          [&pilots](RouteContext& ctx) {
            json out = json::array();
            for (const auto& r : pilots.progressReports(ctx.param("region"))) {
              out.push_back(progressJson(r));
            }
            return jsonResponse({{"reports", out}});
          },
  });
}

}  // namespace tph::api
