// Carbon-neutral events over HTTP: the footprint calculator (public), registering an event (any
// signed-in user), neutralising it with PHCER or with points (its organiser), the public page and
// certificate, and the published points rate (set by the province).

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "neutral/neutral_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json retirementJson(const neutral::EventRetirement& r) {
  return {{"operation_id", r.operation_id}, {"units", r.units},     {"from", r.from_account_no},
          {"beneficiary", r.beneficiary},   {"serials", r.serials}, {"at", formatIso8601(r.at)}};
}

json eventJson(const neutral::Event& e) {
  json retirements = json::array();
  for (const auto& r : e.retirements) retirements.push_back(retirementJson(r));
  std::string id = std::to_string(e.id);
  return {
      {"id", e.id},
      {"slug", e.slug},
      {"kind", e.kind},
      {"name", e.name},
      {"organiser", e.organiser_name},
      {"starts_on", e.starts_on},
      {"ends_on", e.ends_on},
      {"city", e.city},
      {"venue", e.venue},
      {"footprint",
       {{"grams", e.footprint.value()},
        {"tonnes", static_cast<double>(e.footprint.value()) / neutral::kGramsPerUnit},
        {"calculator", e.calculator},
        {"inputs", e.inputs},
        {"explanation", e.explanation}}},
      {"units_required", e.units_required},
      {"units_retired", e.units_retired},
      {"status", e.neutralised() ? "neutralised" : "registered"},
      {"neutralised_with", e.neutralised_with.empty() ? json(nullptr) : json(e.neutralised_with)},
      {"points_paid", e.points_paid},
      {"neutralised_at", e.neutralised_at ? json(formatIso8601(*e.neutralised_at)) : json()},
      {"created_at", formatIso8601(e.created_at)},
      {"retirements", retirements},
      {"page", "/neutral/events/" + id},
      {"certificate",
       e.neutralised() ? json("/api/v1/neutral/events/" + id + "/certificate.pdf") : json()}};
}

json footprintJson(const neutral::Footprint& f) {
  return {{"grams", f.grams.value()},
          {"tonnes", static_cast<double>(f.grams.value()) / neutral::kGramsPerUnit},
          {"units_required", f.units_required},
          {"calculator", f.calculator},
          {"explanation", f.explanation}};
}

json rateJson(const neutral::PointsRate& r) {
  if (!r.configured) return {{"configured", false}};
  return {{"configured", true},
          {"points_per_unit", r.points_per_unit},
          {"inventory_account_no", r.inventory_account_no},
          {"inventory_held", r.inventory_held.value()},
          {"set_at", formatIso8601(r.set_at)}};
}

Result<neutral::FootprintInputs> readFootprint(const json& body) {
  if (!body.contains("footprint") || body["footprint"].is_null())
    return Error::invalid("footprint", "footprint is required");
  return neutral::FootprintInputs::fromJson(body["footprint"]);
}

std::string keyOf(const HttpRequest& request, const std::string& from_body) {
  return from_body.empty() ? std::string(request.header("idempotency-key")) : from_body;
}

Result<std::optional<std::int64_t>> optionalInteger(const json& body, const std::string& field) {
  if (!body.contains(field) || body[field].is_null()) return std::optional<std::int64_t>();
  TPH_TRY_ASSIGN(v, requireInteger(body, field));
  return std::optional<std::int64_t>(v);
}

HttpResponse neutralisationResponse(const Result<neutral::Neutralisation>& n) {
  if (!n) return errorResponse(n.error());
  json out = eventJson(n->event);
  out["duplicate"] = n->duplicate;
  return jsonResponse(out, n->duplicate ? 200 : 201);
}

const json kFootprintSchema = {
    {"type", "object"},
    {"properties",
     {{"travel",
       {{"type", "array"},
        {"items",
         {{"type", "object"},
          {"properties",
           {{"mode", {{"type", "string"}, {"enum", {"car", "rail", "air"}}}},
            {"band", {{"type", "string"}, {"enum", {"local", "regional", "national"}}}},
            {"attendees", {{"type", "integer"}}}}}}}}},
      {"round_trip_km", {{"type", "object"}}},
      {"hotel_nights", {{"type", "integer"}}},
      {"electricity_kwh", {{"type", "number"}}},
      {"printed_kg", {{"type", "number"}}},
      {"meals",
       {{"type", "object"},
        {"properties",
         {{"meat", {{"type", "integer"}}}, {"vegetarian", {{"type", "integer"}}}}}}}}}};

void addEventRoutes(Router& router, neutral::NeutralService& neutral,
                    const std::string& public_url) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/neutral/events",
      .access = Access::kSession,
      .summary = "Register a carbon-neutral event (or, kind personal, your own footprint) with its "
                 "footprint inputs; answers the footprint and its explanation",
      .tag = "neutral",
      .request_schema = {{"type", "object"},
                         {"required", {"name", "starts_on", "ends_on", "city", "footprint"}},
                         {"properties",
                          {{"kind", {{"type", "string"}, {"enum", {"event", "personal"}}}},
                           {"name", {{"type", "string"}}},
                           {"organiser_name", {{"type", "string"}}},
                           {"starts_on", {{"type", "string"}, {"format", "date"}}},
                           {"ends_on", {{"type", "string"}, {"format", "date"}}},
                           {"city", {{"type", "string"}}},
                           {"venue", {{"type", "string"}}},
                           {"footprint", kFootprintSchema}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            neutral::NewEvent e;
            for (auto [field, target] : {std::pair{"name", &e.name},
                                         {"starts_on", &e.starts_on},
                                         {"ends_on", &e.ends_on},
                                         {"city", &e.city}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            for (auto [field, target] : {std::pair{"organiser_name", &e.organiser_name},
                                         {"venue", &e.venue},
                                         {"kind", &e.kind}}) {
              auto v = optionalString(*body, field);
              if (!v) return errorResponse(v.error());
              if (!v->empty()) *target = *v;
            }
            auto footprint = readFootprint(*body);
            if (!footprint) return errorResponse(footprint.error());
            e.footprint = *footprint;
            auto created = neutral.registerEvent(ctx.caller(), e);
            if (!created) return errorResponse(created.error());
            return jsonResponse(eventJson(*created), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/events",
      .access = Access::kPublic,
      .summary = "Neutralised carbon-neutral events, newest first (?limit, ?offset)",
      .tag = "neutral",
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = neutral.neutralisedEvents(*limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& e : *list) out.push_back(eventJson(e));
            return jsonResponse({{"events", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/my-events",
      .access = Access::kSession,
      .summary = "The events and personal footprints you registered, newest first",
      .tag = "neutral",
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = neutral.eventsOf(ctx.caller(), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& e : *list) out.push_back(eventJson(e));
            return jsonResponse({{"events", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/events/{id}",
      .access = Access::kPublic,
      .summary = "The public page of an event: footprint with its explanation, retired serial "
                 "blocks, certificate link",
      .tag = "neutral",
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto e = neutral.event(*id);
            if (!e) return errorResponse(e.error());
            return jsonResponse(eventJson(*e));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/neutral/events/{id}/neutralise",
      .access = Access::kSession,
      .summary = "The organiser retires PHCER from a registry account it belongs to, at least "
                 "the footprint in whole units, with the event as beneficiary",
      .tag = "neutral",
      .request_schema = {{"type", "object"},
                         {"required", {"account_no"}},
                         {"properties",
                          {{"account_no", {{"type", "string"}}},
                           {"units", {{"type", "integer"}}},
                           {"batch", {{"type", "integer"}}},
                           {"idempotency_key", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = optionalString(*body, "idempotency_key");
            if (!key) return errorResponse(key.error());
            auto account = requireString(*body, "account_no");
            if (!account) return errorResponse(account.error());
            auto units = optionalInteger(*body, "units");
            if (!units) return errorResponse(units.error());
            auto batch = optionalInteger(*body, "batch");
            if (!batch) return errorResponse(batch.error());
            return neutralisationResponse(neutral.neutraliseWithUnits(
                ctx.caller(), *id, {keyOf(ctx.request, *key), *account, *units, *batch}));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/neutral/events/{id}/neutralise-with-points",
      .access = Access::kSession,
      .summary = "The organiser pays points at the published rate; the platform retires the "
                 "units from its inventory with the event as beneficiary",
      .tag = "neutral",
      .request_schema = {{"type", "object"},
                         {"properties", {{"idempotency_key", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string from_body;
            if (!ctx.request.body.empty()) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto key = optionalString(*body, "idempotency_key");
              if (!key) return errorResponse(key.error());
              from_body = *key;
            }
            return neutralisationResponse(
                neutral.neutraliseWithPoints(ctx.caller(), *id, keyOf(ctx.request, from_body)));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/events/{id}/certificate.pdf",
      .access = Access::kPublic,
      .summary = "The carbon-neutral certificate (PDF, Chinese and English) with a QR code of the "
                 "public page",
      .tag = "neutral",
      .response_content_type = "application/pdf",
      .handler =
          [&neutral, public_url](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            std::string base = public_url;
            if (base.empty()) {
              std::string host(ctx.request.header("host"));
              base = "http://" + (host.empty() ? std::string("127.0.0.1:8080") : host);
            }
            while (!base.empty() && base.back() == '/') base.pop_back();
            auto pdf = neutral.certificate(*id, base + "/neutral/events/" + std::to_string(*id));
            if (!pdf) return errorResponse(pdf.error());
            HttpResponse response;
            response.setHeader("content-type", "application/pdf");
            response.setHeader("content-disposition", "inline; filename=\"carbon-neutral-" +
                                                          std::to_string(*id) + ".pdf\"");
            response.body = std::move(*pdf);
            return response;
          },
  });
}

void addCalculatorAndRateRoutes(Router& router, neutral::NeutralService& neutral) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/calculator",
      .access = Access::kPublic,
      .summary = "The event footprint calculator: inputs, formula, factors with their sources",
      .tag = "neutral",
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext&) { return jsonResponse(neutral.calculator().describe()); },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/neutral/footprint",
      .access = Access::kPublic,
      .summary = "Compute a footprint without registering anything: grams, tonnes, units to "
                 "retire and the explanation",
      .tag = "neutral",
      .request_schema = {{"type", "object"},
                         {"required", {"footprint"}},
                         {"properties", {{"footprint", kFootprintSchema}}}},
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto inputs = readFootprint(*body);
            if (!inputs) return errorResponse(inputs.error());
            auto f = neutral.estimate(*inputs);
            if (!f) return errorResponse(f.error());
            return jsonResponse(footprintJson(*f));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/neutral/points-rate",
      .access = Access::kPublic,
      .summary = "The published rate: points per PHCER unit, and the platform inventory's units",
      .tag = "neutral",
      .response_schema = kObject,
      .handler = [&neutral](RouteContext&) { return jsonResponse(rateJson(neutral.pointsRate())); },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/neutral/points-rate",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "Publish the points rate and name the platform's inventory registry account",
      .tag = "neutral",
      .request_schema = {{"type", "object"},
                         {"required", {"points_per_unit", "inventory_account_no"}},
                         {"properties",
                          {{"points_per_unit", {{"type", "integer"}}},
                           {"inventory_account_no", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .handler =
          [&neutral](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto points = requireInteger(*body, "points_per_unit");
            if (!points) return errorResponse(points.error());
            auto account = requireString(*body, "inventory_account_no");
            if (!account) return errorResponse(account.error());
            auto rate = neutral.setPointsRate(ctx.caller(), *points, *account);
            if (!rate) return errorResponse(rate.error());
            return jsonResponse(rateJson(*rate));
          },
  });
}

}  // namespace

void addNeutralRoutes(Router& router, neutral::NeutralService& neutral,
                      const std::string& public_url) {
  addCalculatorAndRateRoutes(router, neutral);
  addEventRoutes(router, neutral, public_url);
}

}  // namespace tph::api
