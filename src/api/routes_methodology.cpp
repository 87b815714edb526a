#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "methodology/methodology_service.h"

namespace tph::api {

namespace {

using auth::Role;
using methodology::MethodologyService;
using nlohmann::json;

json optionalText(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json summaryJson(const methodology::VersionSummary& s) {
  return {{"row_id", s.row_id},
          {"id", s.methodology_id},
          {"version", s.version},
          {"state", s.state},
          {"scope", s.scope},
          {"domain", s.domain},
          {"name_zh", s.name_zh},
          {"name_en", s.name_en},
          {"effective_from", s.effective_from},
          {"effective_until", optionalText(s.effective_until)},
          {"created_by", s.created_by},
          {"updated_at", formatIso8601(s.updated_at)},
          {"decision_reason", optionalText(s.decision_reason)},
          {"proposal_id", s.proposal_id ? json(*s.proposal_id) : json(nullptr)}};
}

json lintJson(const std::vector<methodology::LintIssue>& issues) {
  json out = json::array();
  for (const auto& i : issues) {
    out.push_back({{"line", i.line}, {"field", i.field}, {"message", i.message}});
  }
  return out;
}

json definitionJson(const methodology::MethodologyDefinition& d) {
  json inputs = json::array();
  for (const auto& in : d.inputs) {
    inputs.push_back({{"name", in.name},
                      {"unit", in.unit},
                      {"type", in.integer ? "integer" : "number"},
                      {"min", in.min},
                      {"max", in.max},
                      {"required", in.required},
                      {"description", in.description}});
  }
  json caps = json::object();
  if (d.caps.per_day_grams) caps["per_day_grams"] = *d.caps.per_day_grams;
  if (d.caps.per_month_grams) caps["per_month_grams"] = *d.caps.per_month_grams;
  if (d.caps.per_year_grams) caps["per_year_grams"] = *d.caps.per_year_grams;
  json input_caps = json::array();
  for (const auto& c : d.caps.input_caps)
    input_caps.push_back({{"input", c.input}, {"per_day", c.per_day}});
  caps["input_caps"] = input_caps;
  caps["keep"] = d.caps.keep;
  json examples = json::array();
  for (const auto& e : d.examples)
    examples.push_back({{"inputs", e.inputs}, {"grams", e.grams}, {"note", e.note}});
  return {{"description_zh", d.description_zh},
          {"description_en", d.description_en},
          {"subjects", d.subjects},
          {"formula", d.formula},
          {"points_per_kg", d.points_per_kg},
          {"inputs", inputs},
          {"caps", caps},
          {"examples", examples}};
}

json detailJson(const methodology::VersionDetail& v) {
  json out = summaryJson(v.summary);
  out["definition_toml"] = v.definition_toml;
  if (v.definition) out["definition"] = definitionJson(*v.definition);
  out["factors"] = v.factors;
  json comments = json::array();
  for (const auto& c : v.comments) {
    comments.push_back({{"id", c.id},
                        {"author", c.author},
                        {"kind", c.kind},
                        {"body", c.body},
                        {"at", formatIso8601(c.at)}});
  }
  out["comments"] = comments;
  out["lint"] = lintJson(v.lint);
  return out;
}

HttpResponse render(const Result<methodology::VersionDetail>& result, int status = 200) {
  if (!result) return errorResponse(result.error());
  return jsonResponse(detailJson(*result), status);
}

json proposalJson(const methodology::Proposal& p, bool with_contact) {
  json out = {{"id", p.id},
              {"title", p.title},
              {"domain", p.domain},
              {"description", p.description},
              {"region", p.region_code},
              {"status", p.status},
              {"created_at", formatIso8601(p.created_at)}};
  if (with_contact) out["contact"] = p.contact;
  return out;
}

const json kSummarySchema = {{"type", "object"},
                             {"properties",
                              {{"row_id", {{"type", "integer"}}},
                               {"id", {{"type", "string"}}},
                               {"version", {{"type", "integer"}}},
                               {"state", {{"type", "string"}}},
                               {"scope", {{"type", "string"}}},
                               {"domain", {{"type", "string"}}}}}};
const json kDetailSchema = {{"type", "object"},
                            {"properties",
                             {{"row_id", {{"type", "integer"}}},
                              {"definition_toml", {{"type", "string"}}},
                              {"definition", {{"type", "object"}}},
                              {"factors", {{"type", "array"}}},
                              {"comments", {{"type", "array"}}},
                              {"lint", {{"type", "array"}}}}}};
const json kReasonSchema = {{"type", "object"}, {"properties", {{"reason", {{"type", "string"}}}}}};

//! Adds one lifecycle step: POST /api/v1/methodology-versions/{id}/STEP with an optional text
//! field.
void addStep(Router& router, const std::string& step, std::vector<Role> roles,
             const std::string& summary, const std::string& field,
             std::function<Result<methodology::VersionDetail>(const auth::Principal&, std::int64_t,
                                                              const std::string&)>
                 call) {
  json schema = field.empty()
                    ? json(nullptr)
                    : json{{"type", "object"}, {"properties", {{field, {{"type", "string"}}}}}};
  router.add({
      .method = "POST",
      .pattern = "/api/v1/methodology-versions/{id}/" + step,
      .access = Access::kSession,
      .roles = std::move(roles),
      .summary = summary,
      .tag = "methodology",
      .request_schema = schema,
      .response_schema = kDetailSchema,
      .handler =
          [field, call](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string text;
            if (!field.empty() && !ctx.request.body.empty()) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto value = optionalString(*body, field);
              if (!value) return errorResponse(value.error());
              text = *value;
            }
            return render(call(ctx.caller(), *id, text));
          },
  });
}

}  // namespace

void addMethodologyRoutes(Router& router, MethodologyService& service) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/methodologies",
      .access = Access::kPublic,
      .summary =
          "Methodology versions, filtered by domain, region and state (public: active and retired)",
      .tag = "methodology",
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"methodologies", {{"type", "array"}, {"items", kSummarySchema}}}}}},
      .handler =
          [&service](RouteContext& ctx) {
            methodology::VersionFilter filter{ctx.request.queryParam("domain"),
                                              ctx.request.queryParam("region"),
                                              ctx.request.queryParam("state")};
            json out = json::array();
            for (const auto& s : service.list(ctx.principal, filter)) out.push_back(summaryJson(s));
            return jsonResponse({{"methodologies", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/methodologies/{id}",
      .access = Access::kPublic,
      .summary = "Every version of one methodology with its formula, factors, sources and history",
      .tag = "methodology",
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"versions", {{"type", "array"}, {"items", kDetailSchema}}}}}},
      .handler =
          [&service](RouteContext& ctx) {
            auto versions = service.versionsOf(ctx.principal, ctx.param("id"));
            if (!versions) return errorResponse(versions.error());
            json out = json::array();
            for (const auto& v : *versions) out.push_back(detailJson(v));
            return jsonResponse({{"id", ctx.param("id")}, {"versions", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/methodology-versions/{id}",
      .access = Access::kPublic,
      .summary = "One methodology version by its row id, with comments and (for drafts) lint",
      .tag = "methodology",
      .response_schema = kDetailSchema,
      .handler =
          [&service](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            return render(service.version(ctx.principal, *id));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/emission-factors",
      .access = Access::kPublic,
      .summary = "The emission factor library: value, unit, year, region and source of each factor",
      .tag = "methodology",
      .response_schema = {{"type", "object"}, {"properties", {{"factors", {{"type", "array"}}}}}},
      .handler =
          [&service](RouteContext&) {
            json out = json::array();
            for (const auto& f : service.factors()) {
              out.push_back({{"key", f.key},
                             {"value", f.value},
                             {"unit", f.unit},
                             {"year", f.year},
                             {"region", f.region},
                             {"source", f.source},
                             {"source_kind", f.source_kind},
                             {"note", f.note}});
            }
            auto response = jsonResponse({{"factors", out}});
            response.setHeader("cache-control", "public, max-age=60");
            return response;
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/quantify",
      .access = Access::kPublic,
      .summary =
          "Quantify one behaviour: grams CO2e with the full explanation (for calculators and apps)",
      .tag = "methodology",
      .request_schema = {{"type", "object"},
                         {"required", {"methodology", "inputs"}},
                         {"properties",
                          {{"methodology", {{"type", "string"}}},
                           {"version", {{"type", "integer"}}},
                           {"region", {{"type", "string"}}},
                           {"occurred_at", {{"type", "string"}, {"format", "date-time"}}},
                           {"inputs", {{"type", "object"}}}}}},
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"grams", {{"type", "integer"}}},
                            {"points", {{"type", "integer"}}},
                            {"methodology", {{"type", "string"}}},
                            {"version", {{"type", "integer"}}},
                            {"explanation", {{"type", "object"}}}}}},
      .handler =
          [&service](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            methodology::QuantifyRequest request;
            auto id = requireString(*body, "methodology");
            if (!id) return errorResponse(id.error());
            request.methodology = *id;
            if (body->contains("version") && !(*body)["version"].is_null()) {
              auto version = requireInteger(*body, "version");
              if (!version) return errorResponse(version.error());
              request.version = static_cast<int>(*version);
            }
            auto region = optionalString(*body, "region");
            if (!region) return errorResponse(region.error());
            if (!region->empty()) request.region = *region;
            auto at = optionalString(*body, "occurred_at");
            if (!at) return errorResponse(at.error());
            if (!at->empty()) {
              request.occurred_at = parseIso8601(*at);
              if (!request.occurred_at) {
                return errorResponse(Error::invalid(
                    "occurred_at", "occurred_at must be an ISO 8601 instant with offset"));
              }
            }
            auto inputs = body->find("inputs");
            if (inputs == body->end() || !inputs->is_object()) {
              return errorResponse(
                  Error::invalid("inputs", "inputs must be an object of name: number"));
            }
            for (const auto& [name, value] : inputs->items()) {
              if (!value.is_number())
                return errorResponse(Error::invalid("inputs." + name, name + " must be a number"));
              request.inputs.emplace_back(name, value.get<double>());
            }
            auto result = service.quantify(request);
            if (!result) return errorResponse(result.error());
            return jsonResponse({{"grams", result->grams},
                                 {"points", result->points},
                                 {"methodology", result->methodology},
                                 {"version", result->version},
                                 {"explanation", result->explanation}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/methodology-lint",
      .access = Access::kPublic,
      .summary = "Lint a methodology definition (TOML) against the factor library",
      .tag = "methodology",
      .request_schema = {{"type", "object"},
                         {"required", {"definition"}},
                         {"properties", {{"definition", {{"type", "string"}}}}}},
      .response_schema = {{"type", "object"}, {"properties", {{"issues", {{"type", "array"}}}}}},
      .handler =
          [&service](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto text = requireString(*body, "definition");
            if (!text) return errorResponse(text.error());
            if (text->size() > 64 * 1024)
              return errorResponse(Error::invalid("definition", "at most 64 KiB"));
            auto issues = service.lint(*text);
            return jsonResponse({{"ok", issues.empty()}, {"issues", lintJson(issues)}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/methodology-proposals",
      .access = Access::kPublic,
      .summary = "Propose a methodology idea (anyone; without signing in, leave a contact)",
      .tag = "methodology",
      .request_schema = {{"type", "object"},
                         {"required", {"title", "domain", "description"}},
                         {"properties",
                          {{"title", {{"type", "string"}}},
                           {"domain", {{"type", "string"}}},
                           {"description", {{"type", "string"}}},
                           {"contact", {{"type", "string"}}},
                           {"region", {{"type", "string"}}}}}},
      .response_schema = {{"type", "object"}},
      .success_status = 201,
      .handler =
          [&service](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            methodology::Proposal p;
            for (auto [field, target] : {std::pair{"title", &p.title},
                                         {"domain", &p.domain},
                                         {"description", &p.description}}) {
              auto value = requireString(*body, field);
              if (!value) return errorResponse(value.error());
              *target = *value;
            }
            auto contact = optionalString(*body, "contact");
            if (!contact) return errorResponse(contact.error());
            p.contact = *contact;
            auto region = optionalString(*body, "region");
            if (!region) return errorResponse(region.error());
            p.region_code = *region;
            auto created = service.propose(ctx.principal, p);
            if (!created) return errorResponse(created.error());
            return jsonResponse(proposalJson(*created, false), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/methodology-proposals",
      .access = Access::kSession,
      .summary = "Proposals in the caller's region (admins) or of the caller",
      .tag = "methodology",
      .response_schema = {{"type", "object"}, {"properties", {{"proposals", {{"type", "array"}}}}}},
      .handler =
          [&service](RouteContext& ctx) {
            auto list = service.proposals(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& p : *list)
              out.push_back(proposalJson(p, ctx.caller().administersRegion(p.region_code)));
            return jsonResponse({{"proposals", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/methodology-drafts",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Start a draft version from its TOML text (linted on save)",
      .tag = "methodology",
      .request_schema = {{"type", "object"},
                         {"required", {"definition"}},
                         {"properties",
                          {{"definition", {{"type", "string"}}},
                           {"proposal_id", {{"type", "integer"}}}}}},
      .response_schema = kDetailSchema,
      .success_status = 201,
      .handler =
          [&service](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto text = requireString(*body, "definition");
            if (!text) return errorResponse(text.error());
            std::optional<std::int64_t> proposal;
            if (body->contains("proposal_id") && !(*body)["proposal_id"].is_null()) {
              auto id = requireInteger(*body, "proposal_id");
              if (!id) return errorResponse(id.error());
              proposal = *id;
            }
            return render(service.createDraft(ctx.caller(), *text, proposal), 201);
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/methodology-versions/{id}",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Edit a draft's TOML text (linted on save)",
      .tag = "methodology",
      .request_schema = {{"type", "object"},
                         {"required", {"definition"}},
                         {"properties", {{"definition", {{"type", "string"}}}}}},
      .response_schema = kDetailSchema,
      .handler =
          [&service](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto text = requireString(*body, "definition");
            if (!text) return errorResponse(text.error());
            return render(service.updateDraft(ctx.caller(), *id, *text));
          },
  });
  std::vector<Role> admins = {Role::kProvinceAdmin, Role::kRegionAdmin};
  std::vector<Role> province = {Role::kProvinceAdmin};
  addStep(router, "submit", admins, "Submit a lint-clean draft for review", "",
          [&service](const auth::Principal& p, std::int64_t id, const std::string&) {
            return service.submit(p, id);
          });
  addStep(router, "review", province, "Put a submitted version under expert review", "",
          [&service](const auth::Principal& p, std::int64_t id, const std::string&) {
            return service.startReview(p, id);
          });
  addStep(router, "comments", admins, "Record a review comment", "comment",
          [&service](const auth::Principal& p, std::int64_t id, const std::string& text) {
            return service.comment(p, id, text);
          });
  addStep(router, "approve", province, "Approve a version under review", "reason",
          [&service](const auth::Principal& p, std::int64_t id, const std::string& text) {
            return service.approve(p, id, text);
          });
  addStep(router, "reject", province, "Reject a version under review, with the reason", "reason",
          [&service](const auth::Principal& p, std::int64_t id, const std::string& text) {
            return service.reject(p, id, text);
          });
  addStep(router, "activate", province,
          "Activate an approved version from a date (YYYY-MM-DD); the previous version ends the "
          "day before",
          "effective_from",
          [&service](const auth::Principal& p, std::int64_t id, const std::string& text) {
            return service.activate(p, id, text);
          });
  addStep(router, "retire", province,
          "Retire an active version (in force until a date, default today)", "effective_until",
          [&service](const auth::Principal& p, std::int64_t id, const std::string& text) {
            return service.retire(p, id, text);
          });
}

}  // namespace tph::api
