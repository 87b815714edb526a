#include <sstream>

#include "account/carbon_accounts.h"
#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json providerJson(const ingest::Provider& p, bool with_key) {
  json out = {{"id", p.id},
              {"key", p.key},
              {"name", p.name},
              {"kind", p.kind},
              {"status", p.status},
              {"regions", p.regions},
              {"methodologies", p.methodologies},
              {"user_id", p.user_id ? json(*p.user_id) : json(nullptr)},
              {"created_at", formatIso8601(p.created_at)}};
  if (with_key) out["pseudonym_key"] = p.pseudonym_key;
  return out;
}

json bindingJson(const ingest::Binding& b) {
  return {{"id", b.id},
          {"provider", b.provider_key},
          {"subject_ref", b.subject_ref},
          {"account_id", b.account_id},
          {"status", b.status},
          {"code_issued", b.code_issued},
          {"created_at", formatIso8601(b.created_at)},
          {"confirmed_at", b.confirmed_at ? json(formatIso8601(*b.confirmed_at)) : json(nullptr)}};
}

json recordJson(const ingest::StoredRecord& r) {
  return {{"id", r.id},
          {"provider", r.provider_key},
          {"provider_record_id", r.provider_record_id},
          {"subject_ref", r.subject_ref},
          {"methodology", r.methodology},
          {"occurred_at", formatIso8601(r.occurred_at)},
          {"region", r.region},
          {"inputs", r.inputs},
          {"status", r.status},
          {"reason", r.reason},
          {"received_at", formatIso8601(r.received_at)}};
}

Result<std::vector<std::string>> stringList(const json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_array())
    return Error::invalid(field, field + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return Error::invalid(field, field + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

//! Splits a batch body into records: a JSON array, or NDJSON (one object per line).
Result<std::vector<ingest::IncomingRecord>> readBatch(const HttpRequest& request) {
  std::vector<ingest::IncomingRecord> records;
  auto first = request.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Error::badRequest("the batch is empty", "body");
  if (request.body[first] == '[') {
    json array;
    try {
      array = json::parse(request.body);
    } catch (const json::parse_error& e) {
      return Error::badRequest("malformed JSON at byte " + std::to_string(e.byte), "body");
    }
    if (array.size() > ingest::kBatchMaxRecords) {
      return Error{
          ErrorCode::kPayloadTooLarge, "body",
          "a batch holds at most " + std::to_string(ingest::kBatchMaxRecords) + " records"};
    }
    for (auto& r : array) records.push_back({std::move(r), ""});
    return records;
  }
  std::istringstream lines(request.body);
  std::string line;
  std::size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (records.size() == ingest::kBatchMaxRecords) {
      return Error{
          ErrorCode::kPayloadTooLarge, "body",
          "a batch holds at most " + std::to_string(ingest::kBatchMaxRecords) + " records"};
    }
    auto parsed = json::parse(line, nullptr, false);
    if (parsed.is_discarded()) {
      records.push_back({json(), "line " + std::to_string(number) + " is not valid JSON"});
    } else {
      records.push_back({std::move(parsed), ""});
    }
  }
  return records;
}

json batchJson(const ingest::BatchReport& r) {
  json quarantined = json::array();
  for (const auto& q : r.quarantined_records) {
    quarantined.push_back(
        {{"index", q.index},
         {"provider_record_id",
          q.provider_record_id.empty() ? json(nullptr) : json(q.provider_record_id)},
         {"reason", q.reason},
         {"message", q.message}});
  }
  json duplicates = json::array();
  for (const auto& d : r.duplicates) {
    duplicates.push_back(
        {{"provider_record_id", d.provider_record_id}, {"first_outcome", d.first_outcome}});
  }
  return {{"batch_id", r.batch_id},   {"records", r.records}, {"credited", r.credited},
          {"duplicate", r.duplicate}, {"held", r.held},       {"quarantined", r.quarantined},
          {"grams", r.grams},         {"points", r.points},   {"quarantined_records", quarantined},
          {"duplicates", duplicates}};
}

const json kObject = {{"type", "object"}};

}  // namespace

void addIngestRoutes(Router& router, ingest::ProviderService& providers,
                     ingest::IngestService& ingest, ingest::BindingService& bindings) {
  std::vector<Role> admins = {Role::kProvinceAdmin, Role::kRegionAdmin};
  router.add({
      .method = "POST",
      .pattern = "/api/v1/providers",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Register a data provider with its regions, methodologies and signing user",
      .tag = "ingest",
      .request_schema = {{"type", "object"},
                         {"required", {"key", "name", "kind", "regions", "methodologies"}},
                         {"properties",
                          {{"key", {{"type", "string"}}},
                           {"name", {{"type", "string"}}},
                           {"kind", {{"type", "string"}}},
                           {"user_id", {{"type", "integer"}}},
                           {"regions", {{"type", "array"}}},
                           {"methodologies", {{"type", "array"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&providers](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            ingest::NewProvider p;
            for (auto [field, target] :
                 {std::pair{"key", &p.key}, {"name", &p.name}, {"kind", &p.kind}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            if (body->contains("user_id") && !(*body)["user_id"].is_null()) {
              auto u = requireInteger(*body, "user_id");
              if (!u) return errorResponse(u.error());
              p.user_id = *u;
            }
            auto regions = stringList(*body, "regions");
            if (!regions) return errorResponse(regions.error());
            p.regions = *regions;
            auto methods = stringList(*body, "methodologies");
            if (!methods) return errorResponse(methods.error());
            p.methodologies = *methods;
            auto created = providers.registerProvider(ctx.caller(), p);
            if (!created) return errorResponse(created.error());
            return jsonResponse(providerJson(*created, true), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/providers/directory",
      .access = Access::kPublic,
      .summary = "Active data providers whose references residents can bind: key, name, kind, "
                 "regions, methodologies",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&providers](RouteContext&) {
            json out = json::array();
            for (const auto& p : providers.directory()) {
              out.push_back({{"key", p.key},
                             {"name", p.name},
                             {"kind", p.kind},
                             {"regions", p.regions},
                             {"methodologies", p.methodologies}});
            }
            return jsonResponse({{"providers", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/providers",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin, Role::kAuditor},
      .summary = "Data providers in the caller's region",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&providers](RouteContext& ctx) {
            auto list = providers.list(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& p : *list) out.push_back(providerJson(p, false));
            return jsonResponse({{"providers", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/providers/{id}",
      .access = Access::kSession,
      .roles = admins,
      .summary = "One provider, with its pseudonymisation key",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&providers](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto p = providers.get(ctx.caller(), *id);
            if (!p) return errorResponse(p.error());
            return jsonResponse(providerJson(*p, true));
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/providers/{id}/methodologies",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Set the methodologies a provider may report",
      .tag = "ingest",
      .request_schema = {{"type", "object"}, {"required", {"methodologies"}}},
      .response_schema = kObject,
      .handler =
          [&providers](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto methods = stringList(*body, "methodologies");
            if (!methods) return errorResponse(methods.error());
            auto p = providers.setMethodologies(ctx.caller(), *id, *methods);
            if (!p) return errorResponse(p.error());
            return jsonResponse(providerJson(*p, true));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/provider/me",
      .access = Access::kSessionOrSigned,
      .roles = {Role::kProvider},
      .summary = "The calling provider's registration and pseudonymisation key",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&providers](RouteContext& ctx) {
            auto p = providers.forPrincipal(ctx.caller());
            if (!p) return errorResponse(p.error());
            return jsonResponse(providerJson(*p, true));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/ingest/batches",
      .access = Access::kSigned,
      .roles = {Role::kProvider},
      .summary = "Send up to 50,000 records (JSON array or NDJSON); answers counts and each "
                 "quarantined record",
      .tag = "ingest",
      .request_schema = {{"type", "array"}, {"items", kObject}},
      .response_schema = {{"type", "object"},
                          {"properties",
                           {{"credited", {{"type", "integer"}}},
                            {"duplicate", {{"type", "integer"}}},
                            {"held", {{"type", "integer"}}},
                            {"quarantined", {{"type", "integer"}}},
                            {"quarantined_records", {{"type", "array"}}}}}},
      .handler =
          [&providers, &ingest](RouteContext& ctx) {
            auto provider = providers.forPrincipal(ctx.caller());
            if (!provider) return errorResponse(provider.error());
            auto records = readBatch(ctx.request);
            if (!records) return errorResponse(records.error());
            auto report = ingest.ingestBatch(*provider, *records, "api:" + ctx.caller().api_key_id);
            if (!report) return errorResponse(report.error());
            return jsonResponse(batchJson(*report));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ingest/records",
      .access = Access::kSessionOrSigned,
      .roles = {Role::kProvider},
      .summary = "The provider's records by status (quarantined by default), newest first",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&providers, &ingest](RouteContext& ctx) {
            auto provider = providers.forPrincipal(ctx.caller());
            if (!provider) return errorResponse(provider.error());
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list =
                ingest.records(*provider, ctx.request.queryParam("status"), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& r : *list) out.push_back(recordJson(r));
            return jsonResponse({{"records", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ingest/held",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Records held by anti-fraud rules in the caller's region",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&ingest](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = ingest.heldForReview(ctx.caller(), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& r : *list) out.push_back(recordJson(r));
            return jsonResponse({{"records", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/ingest/quarantined",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Records quarantined in the caller's regions, with their reason codes (?reason=, "
                 "limit, offset); the provider corrects and re-sends them",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&ingest](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = ingest.quarantinedInRegion(
                ctx.caller(), std::string(ctx.request.queryParam("reason")), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& r : *list) out.push_back(recordJson(r));
            return jsonResponse({{"records", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/ingest/held/{id}/approve",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Credit a record held for review",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&ingest](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto r = ingest.approveHeld(ctx.caller(), *id);
            if (!r) return errorResponse(r.error());
            return jsonResponse(recordJson(*r));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/ingest/held/{id}/reject",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Reject a record held for review, with the reason",
      .tag = "ingest",
      .request_schema = {{"type", "object"}, {"required", {"reason"}}},
      .response_schema = kObject,
      .handler =
          [&ingest](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto reason = requireString(*body, "reason");
            if (!reason) return errorResponse(reason.error());
            auto r = ingest.rejectHeld(ctx.caller(), *id, *reason);
            if (!r) return errorResponse(r.error());
            return jsonResponse(recordJson(*r));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/bindings",
      .access = Access::kSession,
      .summary =
          "Ask to bind a provider reference (card or account number) to one of your accounts",
      .tag = "account",
      .request_schema = {{"type", "object"},
                         {"required", {"provider", "reference"}},
                         {"properties",
                          {{"provider", {{"type", "string"}}},
                           {"reference", {{"type", "string"}}},
                           {"account_id", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto provider = requireString(*body, "provider");
            if (!provider) return errorResponse(provider.error());
            auto reference = requireString(*body, "reference");
            if (!reference) return errorResponse(reference.error());
            std::optional<std::int64_t> account;
            if (body->contains("account_id") && !(*body)["account_id"].is_null()) {
              auto a = requireInteger(*body, "account_id");
              if (!a) return errorResponse(a.error());
              account = *a;
            }
            auto b = bindings.request(ctx.caller(), *provider, *reference, account);
            if (!b) return errorResponse(b.error());
            return jsonResponse(bindingJson(*b), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/bindings",
      .access = Access::kSession,
      .summary = "The bindings of your accounts",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto list = bindings.mine(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(bindingJson(b));
            return jsonResponse({{"bindings", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/bindings/{id}/confirm",
      .access = Access::kSession,
      .summary = "Confirm a binding with the code the provider gave you; held records are credited",
      .tag = "account",
      .request_schema = {{"type", "object"}, {"required", {"code"}}},
      .response_schema = kObject,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto code = requireString(*body, "code");
            if (!code) return errorResponse(code.error());
            auto b = bindings.confirm(ctx.caller(), *id, *code);
            if (!b) return errorResponse(b.error());
            return jsonResponse(bindingJson(*b));
          },
  });
  router.add({
      .method = "DELETE",
      .pattern = "/api/v1/bindings/{id}",
      .access = Access::kSession,
      .summary = "Unbind a reference (or cancel a pending request)",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto b = bindings.unbind(ctx.caller(), *id);
            if (!b) return errorResponse(b.error());
            return jsonResponse(bindingJson(*b));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/provider/bindings",
      .access = Access::kSessionOrSigned,
      .roles = {Role::kProvider},
      .summary = "Binding requests waiting for the provider's confirmation code",
      .tag = "ingest",
      .response_schema = kObject,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto list = bindings.pending(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(bindingJson(b));
            return jsonResponse({{"bindings", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/provider/bindings/{id}/code",
      .access = Access::kSessionOrSigned,
      .roles = {Role::kProvider},
      .summary =
          "Set the confirmation code the provider gave the reference's holder (valid 15 minutes)",
      .tag = "ingest",
      .request_schema = {{"type", "object"}, {"required", {"code"}}},
      .response_schema = kObject,
      .handler =
          [&bindings](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto code = requireString(*body, "code");
            if (!code) return errorResponse(code.error());
            auto done = bindings.issueCode(ctx.caller(), *id, *code);
            if (!done) return errorResponse(done.error());
            return jsonResponse({{"code_issued", true}});
          },
  });
}

}  // namespace tph::api
