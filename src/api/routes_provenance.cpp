#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "audit/audit_heads.h"
#include "certify/provenance_service.h"
#include "store/database.h"

namespace tph::api {

namespace {

using nlohmann::json;

const json kObject = {{"type", "object"}};

json operationJson(const registry::Operation& op) {
  json serials = json::array();
  for (const auto& r : op.ranges) serials.push_back(registry::formatSerial(r));
  json out = {{"id", op.id},
              {"kind", op.kind},
              {"from", op.from_account_no.empty() ? json(nullptr) : json(op.from_account_no)},
              {"to", op.to_account_no.empty() ? json(nullptr) : json(op.to_account_no)},
              {"units", op.units.value()},
              {"serials", serials},
              {"at", formatIso8601(op.at)}};
  if (op.kind == "retire") {
    out["reason"] = op.reason;
    out["beneficiary"] = op.beneficiary;
  } else if (op.kind == "cancel") {
    out["reason"] = op.reason;
  }
  return out;
}

json totalsJson(const std::vector<certify::GroupTotal>& totals) {
  json out = json::array();
  for (const auto& t : totals)
    out.push_back({{"key", t.key}, {"records", t.records}, {"grams", t.grams.value()}});
  return out;
}

json provenanceJson(const certify::SerialProvenance& p) {
  json methodologies = json::array();
  for (const auto& m : p.methodologies) {
    json factors = json::array();
    for (const auto& f : m.factors) {
      factors.push_back({{"name", f.name},
                         {"ref", f.ref},
                         {"value", f.value},
                         {"unit", f.unit},
                         {"source", f.source},
                         {"year", f.year},
                         {"region", f.region}});
    }
    methodologies.push_back({{"id", m.id},
                             {"version", m.version},
                             {"name_zh", m.name_zh},
                             {"name_en", m.name_en},
                             {"formula", m.formula},
                             {"factors", factors}});
  }
  json history = json::array();
  for (const auto& op : p.history) history.push_back(operationJson(op));
  const auto& b = p.batch;
  return {{"serial", registry::formatSerial(p.serial)},
          {"batch",
           {{"batch_no", b.id},
            {"methodology", b.methodology},
            {"region", b.region},
            {"vintage_from", b.vintage_from},
            {"vintage_until", b.vintage_until},
            {"state", certify::toString(b.state)},
            {"units_issued", b.units_issued ? json(b.units_issued->value()) : json(nullptr)},
            {"issued_at", b.issued_at ? json(formatIso8601(*b.issued_at)) : json(nullptr)}}},
          {"merkle_root", p.merkle_root},
          {"merkle_root_opened", p.merkle_root_opened},
          {"merkle_leaves", p.merkle_leaves},
          {"methodologies", methodologies},
          {"totals_by_month", totalsJson(p.by_month)},
          {"totals_by_region", totalsJson(p.by_region)},
          {"records", p.records},
          {"subjects", p.subjects},
          {"grams", p.grams.value()},
          {"verifier", {{"name", p.verifier_name}, {"decision", p.decision}}},
          {"history", history}};
}

json fateJson(const certify::ReductionFate& f) {
  json since = json::array();
  for (const auto& op : f.since_issuance) since.push_back(operationJson(op));
  json out = {{"reduction_id", f.reduction_id},
              {"methodology", f.methodology},
              {"methodology_version", f.methodology_version},
              {"day", f.day},
              {"grams", f.grams.value()},
              {"status", f.status}};
  if (f.batch_no) {
    out["batch_no"] = *f.batch_no;
    out["batch_state"] = f.batch_state;
    out["merkle_root"] = f.merkle_root;
    out["serials"] = f.serials;
    out["since_issuance"] = since;
    out["proof"] = "/api/v1/account/reductions/" + std::to_string(f.reduction_id) + "/proof";
  }
  if (f.status == "released") {
    out["released_from_batch"] = *f.released_from_batch;
    out["reason"] = f.released_reason;
  }
  return out;
}

}  // namespace

void addProvenanceRoutes(Router& router, certify::ProvenanceService& provenance,
                         store::Database& db, const std::string& audit_public_key) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/serials/{serial}/provenance",
      .access = Access::kPublic,
      .summary = "Public: what a serial is made of (batch, Merkle root, methodology versions with "
                 "factors and sources, totals by month and region, verifier) and every movement "
                 "of its units since issuance",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&provenance](RouteContext& ctx) {
            auto p = provenance.serial(ctx.param("serial"));
            if (!p) return errorResponse(p.error());
            return jsonResponse(provenanceJson(*p));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/account/provenance",
      .summary = "The caller's own reductions and where each went: its batch and Merkle root, the "
                 "serial blocks the batch became and what became of them; records left out and why",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&provenance](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto p = provenance.resident(ctx.caller(), *limit, *offset);
            if (!p) return errorResponse(p.error());
            json reductions = json::array();
            for (const auto& f : p->reductions) reductions.push_back(fateJson(f));
            json left_out = json::array();
            for (const auto& l : p->left_out) {
              left_out.push_back({{"provider_record_id", l.provider_record_id},
                                  {"methodology", l.methodology},
                                  {"status", l.status},
                                  {"reason", l.reason},
                                  {"occurred_at", formatIso8601(l.occurred_at)}});
            }
            return jsonResponse({{"reductions", reductions},
                                 {"left_out", left_out},
                                 {"limit", *limit},
                                 {"offset", *offset}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/account/reductions/{id}/proof",
      .summary = "The inclusion proof (Merkle path) of one of the caller's reductions under its "
                 "batch's public root; check it with `tanpuhui verify-proof`",
      .tag = "account",
      .response_schema = kObject,
      .handler =
          [&provenance](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "id");
            if (!id) return errorResponse(id.error());
            auto p = provenance.proof(ctx.caller(), *id);
            if (!p) return errorResponse(p.error());
            return jsonResponse(p->toJson());
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/audit/heads",
      .access = Access::kPublic,
      .summary = "Public: the daily Ed25519-signed heads of the audit chain, newest first",
      .tag = "audit",
      .response_schema = kObject,
      .handler =
          [&db, audit_public_key](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            if (*limit < 1 || *limit > audit::kHeadsMaxLimit)
              return errorResponse(Error::invalid("limit", "limit must be 1-500"));
            if (*offset < 0)
              return errorResponse(Error::invalid("offset", "offset must not be negative"));
            auto heads = db.read(
                [&](soci::session& sql) { return audit::listSignedHeads(sql, *limit, *offset); });
            json out = json::array();
            for (const auto& h : heads) out.push_back(h.toJson());
            return jsonResponse({{"heads", out},
                                 {"public_key", audit_public_key},
                                 {"limit", *limit},
                                 {"offset", *offset}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/audit/public-key",
      .access = Access::kPublic,
      .summary = "Public: the Ed25519 public key (hex) the audit heads are signed with",
      .tag = "audit",
      .response_schema = kObject,
      .handler =
          [audit_public_key](RouteContext&) {
            if (audit_public_key.empty())
              return errorResponse(Error::notFound("this server signs no audit heads", "key"));
            return jsonResponse(
                {{"algorithm", "Ed25519"},
                 {"public_key", audit_public_key},
                 {"signed_message",
                  "canonical JSON {\"day\",\"events\",\"last_hash\",\"signed_at\"}"}});
          },
  });
}

}  // namespace tph::api
