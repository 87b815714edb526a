#include "api/error_response.h"
#include "api/json_body.h"
#include "api/route_helpers.h"
#include "api/routes.h"
#include "certify/certify_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json optionalGrams(const std::optional<Grams>& g) {
  return g ? json(g->value()) : json(nullptr);
}
json optionalUnits(const std::optional<Units>& u) {
  return u ? json(u->value()) : json(nullptr);
}

json batchJson(const certify::Batch& b) {
  return {{"id", b.id},
          {"batch_no", b.id},
          {"methodology", b.methodology},
          {"region", b.region},
          {"vintage_from", b.vintage_from},
          {"vintage_until", b.vintage_until},
          {"vintage_year", b.vintage_year},
          {"carbon_sink", b.carbon_sink},
          {"operator_account", b.operator_account_no},
          {"state", certify::toString(b.state)},
          {"opened_by", b.opened_by},
          {"opened_at", formatIso8601(b.opened_at)},
          {"notice_days_working", b.notice_days_working},
          {"notice_until", formatIso8601(b.notice_until)},
          {"in_notice", b.in_notice},
          {"verifier_user_id", b.verifier_user_id ? json(*b.verifier_user_id) : json(nullptr)},
          {"records_locked", b.records_locked},
          {"grams_locked", b.grams_locked.value()},
          {"grams_released", b.grams_released.value()},
          {"grams_approved", optionalGrams(b.grams_approved)},
          {"decision_note", b.decision_note},
          {"carry_in_grams", optionalGrams(b.carry_in)},
          {"carry_out_grams", optionalGrams(b.carry_out)},
          {"units_issued", optionalUnits(b.units_issued)},
          {"buffer_units", optionalUnits(b.buffer_units)},
          {"issued_at", b.issued_at ? json(formatIso8601(*b.issued_at)) : json(nullptr)}};
}

json commentJson(const certify::Comment& c) {
  return {{"id", c.id}, {"author", c.author}, {"body", c.body}, {"at", formatIso8601(c.at)}};
}

//! Parses {id} and the JSON body, then runs fn(id, body).
HttpResponse batchResponse(const Result<certify::Batch>& b, int status = 200) {
  if (!b) return errorResponse(b.error());
  return jsonResponse(batchJson(*b), status);
}

const json kObject = {{"type", "object"}};

json bodySchema(std::vector<std::string> required, json properties) {
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

}  // namespace

void addCertifyRoutes(Router& router, certify::CertifyService& certify) {
  const std::vector<Role> admins = {Role::kProvinceAdmin, Role::kRegionAdmin};
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches",
      .access = Access::kSession,
      .roles = admins,
      .summary = "Open a certification batch: lock every uncertified credited reduction of one "
                 "methodology, region and vintage period, write the monitoring report, start "
                 "the public notice",
      .tag = "certify",
      .request_schema = bodySchema({"methodology", "region", "vintage_from", "vintage_until"},
                                   {{"methodology", {{"type", "string"}}},
                                    {"region", {{"type", "string"}}},
                                    {"vintage_from", {{"type", "string"}, {"format", "date"}}},
                                    {"vintage_until", {{"type", "string"}, {"format", "date"}}},
                                    {"notice_days_working", {{"type", "integer"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&certify](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            certify::OpenBatchRequest r;
            for (auto [field, target] : {std::pair{"methodology", &r.methodology},
                                         {"region", &r.region},
                                         {"vintage_from", &r.vintage_from},
                                         {"vintage_until", &r.vintage_until}}) {
              auto v = requireString(*body, field);
              if (!v) return errorResponse(v.error());
              *target = *v;
            }
            if (body->contains("notice_days_working") &&
                !(*body)["notice_days_working"].is_null()) {
              auto days = requireInteger(*body, "notice_days_working");
              if (!days) return errorResponse(days.error());
              if (*days < 0 || *days > certify::kNoticeMaxWorkingDays) {
                return errorResponse(
                    Error::invalid("notice_days_working", "notice_days_working is out of range"));
              }
              r.notice_days_working = static_cast<int>(*days);
            }
            return batchResponse(certify.open(ctx.caller(), r), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/certify/batches",
      .access = Access::kPublic,
      .summary = "Certification batches, newest first, with their public notice (?state=, limit, "
                 "offset)",
      .tag = "certify",
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = certify.list(ctx.request.queryParam("state"), *limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(batchJson(b));
            return jsonResponse({{"batches", out}, {"limit", *limit}, {"offset", *offset}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/certify/batches/{id}",
      .access = Access::kPublic,
      .summary = "One batch with its review trail",
      .tag = "certify",
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto b = certify.get(*id);
            if (!b) return errorResponse(b.error());
            auto trail = certify.reviews(*id);
            if (!trail) return errorResponse(trail.error());
            json reviews = json::array();
            for (const auto& r : *trail) {
              reviews.push_back({{"actor", r.actor},
                                 {"action", r.action},
                                 {"note", r.note},
                                 {"at", formatIso8601(r.at)}});
            }
            json out = batchJson(*b);
            out["reviews"] = reviews;
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/certify/batches/{id}/report",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin, Role::kVerifier, Role::kAuditor},
      .summary = "The monitoring report: totals by methodology version and month, record and "
                 "subject counts, held/quarantined share, the seeded random sample",
      .tag = "certify",
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto report = certify.report(ctx.caller(), *id);
            if (!report) return errorResponse(report.error());
            json out = report->toJson();
            out["batch_id"] = *id;
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/certify/batches/{id}/comments",
      .access = Access::kPublic,
      .summary = "Public comments on a batch",
      .tag = "certify",
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto list = certify.comments(*id);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& c : *list) out.push_back(commentJson(c));
            return jsonResponse({{"comments", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/comments",
      .access = Access::kPublic,
      .summary = "Comment on a batch under public notice (anyone; author is required when not "
                 "signed in)",
      .tag = "certify",
      .request_schema =
          bodySchema({"body"}, {{"author", {{"type", "string"}}}, {"body", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto author = optionalString(body, "author");
              if (!author) return errorResponse(author.error());
              auto text = requireString(body, "body");
              if (!text) return errorResponse(text.error());
              auto c = certify.comment(ctx.principal, id, *author, *text);
              if (!c) return errorResponse(c.error());
              return jsonResponse(commentJson(*c), 201);
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/verifier",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "Assign an accredited verifier who does not belong to the operator",
      .tag = "certify",
      .request_schema = bodySchema({"user_id"}, {{"user_id", {{"type", "integer"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto user = requireInteger(body, "user_id");
              if (!user) return errorResponse(user.error());
              auto b = certify.assignVerifier(ctx.caller(), id, *user);
              if (!b && b.error().field == "verifier_user_id") {
                return errorResponse(Error{b.error().code, "user_id", b.error().message});
              }
              return batchResponse(b);
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/corrections",
      .access = Access::kSession,
      .roles = {Role::kVerifier},
      .summary = "The verifier asks the operator for corrections",
      .tag = "certify",
      .request_schema = bodySchema({"note"}, {{"note", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto note = requireString(body, "note");
              if (!note) return errorResponse(note.error());
              return batchResponse(certify.requestCorrections(ctx.caller(), id, *note));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/corrections/response",
      .access = Access::kSession,
      .roles = admins,
      .summary = "The operator's admin answers a request for corrections; review resumes",
      .tag = "certify",
      .request_schema = bodySchema({"note"}, {{"note", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto note = requireString(body, "note");
              if (!note) return errorResponse(note.error());
              return batchResponse(certify.respondToCorrections(ctx.caller(), id, *note));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/deductions",
      .access = Access::kSession,
      .roles = {Role::kVerifier},
      .summary = "The verifier deducts reductions it cannot accept, each with a reason; they are "
                 "released",
      .tag = "certify",
      .request_schema = bodySchema({"deductions"}, {{"deductions", {{"type", "array"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto it = body.find("deductions");
              if (it == body.end() || !it->is_array()) {
                return errorResponse(Error::invalid(
                    "deductions", "deductions must be an array of {reduction_id, reason}"));
              }
              if (it->size() > certify::kDeductionsMax) {
                return errorResponse(Error::invalid("deductions", "too many deductions"));
              }
              std::vector<certify::Deduction> list;
              for (std::size_t i = 0; i < it->size(); ++i) {
                std::string field = "deductions[" + std::to_string(i) + "]";
                const auto& d = (*it)[i];
                if (!d.is_object())
                  return errorResponse(Error::invalid(field, field + " must be an object"));
                auto rid = requireInteger(d, "reduction_id");
                if (!rid)
                  return errorResponse(
                      Error::invalid(field + ".reduction_id", rid.error().message));
                auto reason = requireString(d, "reason");
                if (!reason)
                  return errorResponse(Error::invalid(field + ".reason", reason.error().message));
                list.push_back({*rid, *reason});
              }
              return batchResponse(certify.deduct(ctx.caller(), id, list));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/approval",
      .access = Access::kSession,
      .roles = {Role::kVerifier},
      .summary = "The verifier approves a quantity in grams, at most what is still locked",
      .tag = "certify",
      .request_schema =
          bodySchema({"grams"}, {{"grams", {{"type", "integer"}}}, {"note", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto grams = requireInteger(body, "grams");
              if (!grams) return errorResponse(grams.error());
              auto note = optionalString(body, "note");
              if (!note) return errorResponse(note.error());
              return batchResponse(certify.approve(ctx.caller(), id, Grams(*grams), *note));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/rejection",
      .access = Access::kSession,
      .roles = {Role::kVerifier},
      .summary = "The verifier rejects the whole batch; every reduction is released",
      .tag = "certify",
      .request_schema = bodySchema({"reason"}, {{"reason", {{"type", "string"}}}}),
      .response_schema = kObject,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              auto reason = requireString(body, "reason");
              if (!reason) return errorResponse(reason.error());
              return batchResponse(certify.reject(ctx.caller(), id, *reason));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/certify/batches/{id}/issuance",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "Issue PHCER for an approved batch: floor((carry-over + approved g) / 1e6) units "
                 "with serial blocks; a carbon-sink batch's buffer share goes to the buffer pool",
      .tag = "certify",
      .request_schema = bodySchema({}, {{"buffer_share_bp", {{"type", "integer"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&certify](RouteContext& ctx) {
            return withIdAndBody(ctx, [&](std::int64_t id, const json& body) {
              std::optional<int> share;
              if (body.contains("buffer_share_bp") && !body["buffer_share_bp"].is_null()) {
                auto bp = requireInteger(body, "buffer_share_bp");
                if (!bp) return errorResponse(bp.error());
                if (*bp < 0 || *bp > certify::kBufferShareMaxBp) {
                  return errorResponse(
                      Error::invalid("buffer_share_bp", "buffer_share_bp must be 0-5000"));
                }
                share = static_cast<int>(*bp);
              }
              auto issued = certify.issue(ctx.caller(), id, share);
              if (!issued) return errorResponse(issued.error());
              json serials = json::array();
              for (const auto& r : issued->issuance.ranges)
                serials.push_back(registry::formatSerial(r));
              json out = batchJson(issued->batch);
              out["serials"] = serials;
              return jsonResponse(out, 201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/certify/batches/{id}/certificate",
      .access = Access::kPublic,
      .summary = "The issuance certificate (PDF, Chinese and English)",
      .tag = "certify",
      .response_schema = {{"type", "string"}, {"format", "binary"}},
      .response_content_type = "application/pdf",
      .handler =
          [&certify](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto pdf = certify.certificate(*id);
            if (!pdf) return errorResponse(pdf.error());
            HttpResponse response;
            response.setHeader("content-type", "application/pdf");
            response.setHeader("content-disposition",
                               "inline; filename=\"phcer-batch-" + std::to_string(*id) + ".pdf\"");
            response.body = std::move(*pdf);
            return response;
          },
  });
}

}  // namespace tph::api
