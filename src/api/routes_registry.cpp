#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "registry/registry_service.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json accountJson(const registry::RegistryAccount& a) {
  return {{"account_no", a.account_no},
          {"kind", registry::toString(a.kind)},
          {"name", a.name},
          {"region", a.region_code},
          {"members", a.member_user_ids},
          {"held", a.held.value()},
          {"retired", a.retired.value()},
          {"cancelled", a.cancelled.value()},
          {"created_at", formatIso8601(a.created_at)}};
}

json blockJson(const registry::SerialBlock& b) {
  return {{"serial", b.serial()},
          {"batch_no", b.range.batch_no},
          {"first", b.range.first},
          {"last", b.range.last},
          {"units", b.range.units()},
          {"account", b.account_no},
          {"status", registry::toString(b.status)}};
}

json serials(const std::vector<registry::SerialRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back(registry::formatSerial(r));
  return out;
}

json operationJson(const registry::Operation& op) {
  json out = {{"id", op.id},
              {"kind", op.kind},
              {"from", op.from_account_no.empty() ? json(nullptr) : json(op.from_account_no)},
              {"to", op.to_account_no.empty() ? json(nullptr) : json(op.to_account_no)},
              {"units", op.units.value()},
              {"serials", serials(op.ranges)},
              {"at", formatIso8601(op.at)},
              {"duplicate", op.duplicate}};
  if (op.kind == "retire") {
    out["reason"] = op.reason;
    out["beneficiary"] = op.beneficiary;
    out["note"] = op.note;
  } else if (op.kind == "cancel") {
    out["reason"] = op.reason;
  } else if (op.kind == "transfer") {
    out["note"] = op.note;
  }
  return out;
}

json issuanceJson(const registry::Issuance& i) {
  return {{"batch_no", i.batch_no},           {"region", i.region},
          {"methodology", i.methodology},     {"vintage_year", i.vintage_year},
          {"units", i.units.value()},         {"buffer_units", i.buffer_units.value()},
          {"operator_account", i.account_no}, {"issued_at", formatIso8601(i.issued_at)},
          {"serials", serials(i.ranges)}};
}

json totalsJson(const registry::TotalsRow& t) {
  return {{"key", t.key},
          {"issued", t.issued.value()},
          {"held", t.held.value()},
          {"retired", t.retired.value()},
          {"cancelled", t.cancelled.value()}};
}

//! The units to move: {from, units, batch?, idempotency_key} (the key may also come as the
//! Idempotency-Key header).
Result<std::pair<std::string, registry::UnitSelection>> readSelection(const HttpRequest& request,
                                                                      const json& body) {
  auto key = optionalString(body, "idempotency_key");
  if (!key) return key.error();
  std::string idempotency_key =
      key->empty() ? std::string(request.header("idempotency-key")) : *key;
  if (idempotency_key.empty())
    return Error::invalid("idempotency_key",
                          "idempotency_key (or an Idempotency-Key header) is required");
  auto from = requireString(body, "from");
  if (!from) return from.error();
  auto units = requireInteger(body, "units");
  if (!units) return units.error();
  registry::UnitSelection selection{*from, Units(*units), std::nullopt};
  if (body.contains("batch") && !body["batch"].is_null()) {
    auto batch = requireInteger(body, "batch");
    if (!batch) return batch.error();
    selection.batch_no = *batch;
  }
  return std::pair{idempotency_key, selection};
}

HttpResponse operationResponse(const Result<registry::Operation>& op) {
  if (!op) return errorResponse(op.error());
  return jsonResponse(operationJson(*op), op->duplicate ? 200 : 201);
}

const json kObject = {{"type", "object"}};
const json kSelection = {{"idempotency_key", {{"type", "string"}}},
                         {"from", {{"type", "string"}}},
                         {"units", {{"type", "integer"}}},
                         {"batch", {{"type", "integer"}}}};

json schemaWith(std::vector<std::string> required, json extra) {
  json properties = kSelection;
  properties.update(extra);
  required.insert(required.begin(), {"from", "units"});
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

}  // namespace

void addRegistryRoutes(Router& router, registry::RegistryService& registry) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/registry/accounts",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin, Role::kRegionAdmin},
      .summary = "Open a registry account (operator, enterprise, exchange_member, individual, "
                 "buffer, province) with the users who may move its units",
      .tag = "registry",
      .request_schema = {{"type", "object"},
                         {"required", {"kind", "name"}},
                         {"properties",
                          {{"kind", {{"type", "string"}}},
                           {"name", {{"type", "string"}}},
                           {"region", {{"type", "string"}}},
                           {"members", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&registry](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto kind_text = requireString(*body, "kind");
            if (!kind_text) return errorResponse(kind_text.error());
            auto kind = registry::parseAccountKind(*kind_text);
            if (!kind) {
              return errorResponse(
                  Error::invalid("kind",
                                 "kind must be operator, enterprise, exchange_member, individual, "
                                 "buffer or province"));
            }
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto region = optionalString(*body, "region");
            if (!region) return errorResponse(region.error());
            registry::NewAccount a{*kind, *name, *region, {}};
            if (body->contains("members")) {
              const auto& members = (*body)["members"];
              if (!members.is_array() || members.size() > registry::kAccountMaxMembers)
                return errorResponse(
                    Error::invalid("members", "members must be an array of user ids"));
              for (const auto& m : members) {
                if (!m.is_number_integer())
                  return errorResponse(Error::invalid("members", "members must be user ids"));
                a.member_user_ids.push_back(m.get<std::int64_t>());
              }
            }
            auto opened = registry.openAccount(ctx.caller(), a);
            if (!opened) return errorResponse(opened.error());
            return jsonResponse(accountJson(*opened), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/accounts",
      .access = Access::kSession,
      .summary = "The registry accounts you may act for, with their balances",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext& ctx) {
            auto list = registry.accountsOf(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& a : *list) out.push_back(accountJson(a));
            return jsonResponse({{"accounts", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/accounts/{account_no}",
      .access = Access::kSession,
      .summary = "One account you may act for (or any, for auditors) with its serial blocks",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext& ctx) {
            auto a = registry.account(ctx.caller(), ctx.param("account_no"));
            if (!a) return errorResponse(a.error());
            auto blocks = registry.blocksOf(ctx.caller(), ctx.param("account_no"));
            if (!blocks) return errorResponse(blocks.error());
            json out = accountJson(*a);
            out["blocks"] = json::array();
            for (const auto& b : *blocks) out["blocks"].push_back(blockJson(b));
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/registry/transfers",
      .access = Access::kSession,
      .summary = "Transfer held units (lowest serials first, optionally of one batch) to another "
                 "account; a retried idempotency key answers the first outcome",
      .tag = "registry",
      .request_schema =
          schemaWith({"to"}, {{"to", {{"type", "string"}}}, {"note", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&registry](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto selection = readSelection(ctx.request, *body);
            if (!selection) return errorResponse(selection.error());
            auto to = requireString(*body, "to");
            if (!to) return errorResponse(to.error());
            auto note = optionalString(*body, "note");
            if (!note) return errorResponse(note.error());
            return operationResponse(
                registry.transfer(ctx.caller(), {selection->first, selection->second, *to, *note}));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/registry/retirements",
      .access = Access::kSession,
      .summary = "Retire held units for good: reason (voluntary, ets_offset, "
                 "carbon_neutral_event), beneficiary and note",
      .tag = "registry",
      .request_schema =
          schemaWith({"reason", "beneficiary"}, {{"reason", {{"type", "string"}}},
                                                 {"beneficiary", {{"type", "string"}}},
                                                 {"note", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&registry](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto selection = readSelection(ctx.request, *body);
            if (!selection) return errorResponse(selection.error());
            auto reason = requireString(*body, "reason");
            if (!reason) return errorResponse(reason.error());
            auto beneficiary = requireString(*body, "beneficiary");
            if (!beneficiary) return errorResponse(beneficiary.error());
            auto note = optionalString(*body, "note");
            if (!note) return errorResponse(note.error());
            return operationResponse(registry.retire(
                ctx.caller(), {selection->first, selection->second, *reason, *beneficiary, *note}));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/registry/cancellations",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "The province cancels held units of any account, with a reason",
      .tag = "registry",
      .request_schema = schemaWith({"reason"}, {{"reason", {{"type", "string"}}}}),
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&registry](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto selection = readSelection(ctx.request, *body);
            if (!selection) return errorResponse(selection.error());
            auto reason = requireString(*body, "reason");
            if (!reason) return errorResponse(reason.error());
            return operationResponse(
                registry.cancel(ctx.caller(), {selection->first, selection->second, *reason}));
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/issuances",
      .access = Access::kPublic,
      .summary = "Public explorer: issuances, newest first, with their serial blocks",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = registry.issuances(*limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& i : *list) out.push_back(issuanceJson(i));
            return jsonResponse({{"issuances", out}, {"limit", *limit}, {"offset", *offset}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/serials/{serial}",
      .access = Access::kPublic,
      .summary = "Public explorer: the blocks a serial (one unit or a block) lies in, their "
                 "status, holder or retirement details",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext& ctx) {
            auto lookup = registry.lookupSerial(ctx.param("serial"));
            if (!lookup) return errorResponse(lookup.error());
            json parts = json::array();
            for (const auto& p : lookup->parts) {
              json part = blockJson(p.block);
              part["holder"] = {{"account", p.block.account_no},
                                {"kind", p.account_kind},
                                {"name", p.account_name}};
              if (p.operation) {
                part[p.block.status == registry::BlockStatus::kRetired ? "retirement"
                                                                       : "cancellation"] =
                    operationJson(*p.operation);
              }
              parts.push_back(part);
            }
            return jsonResponse(
                {{"serial", registry::formatSerial(lookup->asked)}, {"blocks", parts}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/totals",
      .access = Access::kPublic,
      .summary = "Public explorer: units issued, held, retired and cancelled by vintage, "
                 "methodology and region",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext&) {
            auto t = registry.totals();
            auto rows = [](const std::vector<registry::TotalsRow>& list) {
              json out = json::array();
              for (const auto& r : list) out.push_back(totalsJson(r));
              return out;
            };
            return jsonResponse({{"all", totalsJson(t.all)},
                                 {"by_vintage", rows(t.by_vintage)},
                                 {"by_methodology", rows(t.by_methodology)},
                                 {"by_region", rows(t.by_region)}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/registry/retirements",
      .access = Access::kPublic,
      .summary = "Public explorer: retirements, newest first, with beneficiary and reason",
      .tag = "registry",
      .response_schema = kObject,
      .handler =
          [&registry](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(ctx.request, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            auto list = registry.retirements(*limit, *offset);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& op : *list) out.push_back(operationJson(op));
            return jsonResponse({{"retirements", out}, {"limit", *limit}, {"offset", *offset}});
          },
  });
}

}  // namespace tph::api
