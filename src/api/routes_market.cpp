// Routes of the PHCER exchange: products, members and their cash, listed orders and picks, block
// agreements, one-way auctions and public market data. Rules live in market::MarketService
// (docs/market.md).

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "market/market_service.h"

namespace tph::api {

namespace {

using auth::Role;
using market::MarketService;
using nlohmann::json;

const json kObject = {{"type", "object"}};

json productJson(const market::Product& p) {
  return {{"code", p.code},
          {"name", p.name},
          {"methodology", p.methodology},
          {"region", p.region},
          {"vintage_from", p.vintage_from},
          {"vintage_to", p.vintage_to},
          {"effective_from", formatIso8601(p.effective_from)},
          {"suspended", p.suspended},
          {"reference_price_fen", p.reference_price.value()},
          {"sessions", p.sessions},
          {"block_min_units", p.block_min_units},
          {"fee_bp", p.fee_bp}};
}

json memberJson(const market::Member& m) {
  return {{"id", m.id},
          {"account_no", m.account_no},
          {"name", m.name},
          {"kind", m.kind},
          {"cash_fen", m.cash.value()},
          {"cash_reserved_fen", m.cash_reserved.value()},
          {"cash_free_fen", m.cash_free.value()},
          {"units_reserved", m.units_reserved.value()}};
}

const char* sideName(market::Side side) {
  return side == market::Side::kBuy ? "buy" : "sell";
}

json orderJson(const market::Order& o) {
  return {{"id", o.id},
          {"product", o.product},
          {"member_id", o.member_id},
          {"side", sideName(o.side)},
          {"price_fen", o.price.value()},
          {"quantity", o.quantity},
          {"remaining", o.remaining},
          {"time_in_force", o.time_in_force == market::TimeInForce::kDay ? "day" : "gtc"},
          {"state", o.state},
          {"trading_day", o.trading_day},
          {"created_at", formatIso8601(o.created_at)}};
}

json tradeJson(const market::Trade& t) {
  return {{"id", t.id},
          {"product", t.product},
          {"mode", t.mode},
          {"buyer_member_id", t.buyer_member_id},
          {"seller_member_id", t.seller_member_id},
          {"price_fen", t.price.value()},
          {"quantity", t.quantity},
          {"amount_fen", t.amount.value()},
          {"buyer_fee_fen", t.buyer_fee.value()},
          {"seller_fee_fen", t.seller_fee.value()},
          {"serials", t.serials},
          {"trading_day", t.trading_day},
          {"at", formatIso8601(t.at)}};
}

json outcomeJson(const market::OrderOutcome& o) {
  json trades = json::array();
  for (const auto& t : o.trades) trades.push_back(tradeJson(t));
  json out = {
      {"trades", trades}, {"self_trade_stopped", o.self_trade_stopped}, {"duplicate", o.duplicate}};
  out["order"] = o.order.id == 0 ? json(nullptr) : orderJson(o.order);
  return out;
}

json blockJson(const market::BlockAgreement& b) {
  return {{"id", b.id},
          {"product", b.product},
          {"seller_member_id", b.seller_member_id},
          {"buyer_member_id", b.buyer_member_id},
          {"price_fen", b.price.value()},
          {"quantity", b.quantity},
          {"state", b.state},
          {"trading_day", b.trading_day},
          {"trade", b.trade ? tradeJson(*b.trade) : json(nullptr)}};
}

json levelsJson(const std::vector<market::PriceLevel>& levels) {
  json out = json::array();
  int n = 0;
  for (const auto& l : levels)
    out.push_back({{"level", ++n},
                   {"price_fen", l.price_fen},
                   {"quantity", l.quantity},
                   {"orders", l.orders}});
  return out;
}

json barJson(const market::DailyBar& b) {
  return {{"day", b.day},
          {"open_fen", b.open.value()},
          {"high_fen", b.high.value()},
          {"low_fen", b.low.value()},
          {"close_fen", b.close.value()},
          {"volume", b.volume},
          {"amount_fen", b.amount.value()}};
}

//! The idempotency key from the body or the Idempotency-Key header; required.
Result<std::string> idempotencyKey(const HttpRequest& request, const json& body) {
  TPH_TRY_ASSIGN(key, optionalString(body, "idempotency_key"));
  if (key.empty()) key = std::string(request.header("idempotency-key"));
  if (key.empty())
    return Error::invalid("idempotency_key",
                          "idempotency_key (or an Idempotency-Key header) is required");
  return key;
}

Result<market::Side> readSide(const json& body) {
  TPH_TRY_ASSIGN(text, requireString(body, "side"));
  if (text == "buy") return market::Side::kBuy;
  if (text == "sell") return market::Side::kSell;
  return Error::invalid("side", "side is buy or sell");
}

//! An optional integer field: nullopt when absent or null.
Result<std::optional<std::int64_t>> optionalInteger(const json& body, const std::string& field) {
  if (!body.contains(field) || body[field].is_null()) return std::optional<std::int64_t>();
  TPH_TRY_ASSIGN(value, requireInteger(body, field));
  return std::optional<std::int64_t>(value);
}

//! An integer field that must fit an int (counts, basis points, years).
Result<int> smallInteger(const json& body, const std::string& field, int fallback) {
  TPH_TRY_ASSIGN(value, optionalInteger(body, field));
  if (!value) return fallback;
  if (*value < INT32_MIN || *value > INT32_MAX)
    return Error::invalid(field, field + " is out of range");
  return static_cast<int>(*value);
}

Result<market::Product> readProduct(const json& body) {
  market::Product p;
  TPH_TRY_ASSIGN(code, requireString(body, "code"));
  TPH_TRY_ASSIGN(name, requireString(body, "name"));
  TPH_TRY_ASSIGN(methodology, requireString(body, "methodology"));
  TPH_TRY_ASSIGN(region, optionalString(body, "region"));
  TPH_TRY_ASSIGN(effective, requireString(body, "effective_from"));
  auto effective_from = parseIso8601(effective);
  if (!effective_from)
    return Error::invalid("effective_from",
                          "effective_from is an ISO 8601 instant (2026-03-01T00:00:00+08:00)");
  TPH_TRY_ASSIGN(reference, requireInteger(body, "reference_price_fen"));
  TPH_TRY_ASSIGN(sessions, optionalString(body, "sessions"));
  TPH_TRY_ASSIGN(block_min, optionalInteger(body, "block_min_units"));
  TPH_TRY_ASSIGN(vintage_from, smallInteger(body, "vintage_from", 0));
  TPH_TRY_ASSIGN(vintage_to, smallInteger(body, "vintage_to", 0));
  TPH_TRY_ASSIGN(fee_bp, smallInteger(body, "fee_bp", 0));
  p.code = code;
  p.name = name;
  p.methodology = methodology;
  p.region = region;
  p.effective_from = *effective_from;
  p.reference_price = Fen(reference);
  if (!sessions.empty()) p.sessions = sessions;
  if (block_min) p.block_min_units = *block_min;
  p.vintage_from = vintage_from;
  p.vintage_to = vintage_to;
  p.fee_bp = fee_bp;
  return p;
}

Result<std::int64_t> memberParam(const RouteContext& ctx) {
  return parseId(ctx.param("id"), "member_id");
}

void addProductRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/products",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "The province admits PHCER of a methodology (optionally a region and vintage "
                 "range) as a tradable product",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required",
                          {"code", "name", "methodology", "effective_from", "reference_price_fen"}},
                         {"properties",
                          {{"code", {{"type", "string"}}},
                           {"name", {{"type", "string"}}},
                           {"methodology", {{"type", "string"}}},
                           {"region", {{"type", "string"}}},
                           {"vintage_from", {{"type", "integer"}}},
                           {"vintage_to", {{"type", "integer"}}},
                           {"effective_from", {{"type", "string"}, {"format", "date-time"}}},
                           {"reference_price_fen", {{"type", "integer"}}},
                           {"sessions", {{"type", "string"}}},
                           {"block_min_units", {{"type", "integer"}}},
                           {"fee_bp", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto request = readProduct(*body);
            if (!request) return errorResponse(request.error());
            auto p = market.admitProduct(ctx.caller(), *request);
            if (!p) return errorResponse(p.error());
            return jsonResponse(productJson(*p), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/products",
      .access = Access::kPublic,
      .summary = "Every admitted product, suspended or not",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext&) {
            json out = json::array();
            for (const auto& p : market.products()) out.push_back(productJson(p));
            return jsonResponse({{"products", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/products/{code}",
      .access = Access::kPublic,
      .summary = "One product",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto p = market.product(ctx.param("code"));
            if (!p) return errorResponse(p.error());
            return jsonResponse(productJson(*p));
          },
  });
  for (bool suspend : {true, false}) {
    router.add({
        .method = "POST",
        .pattern =
            std::string("/api/v1/market/products/{code}/") + (suspend ? "suspend" : "resume"),
        .access = Access::kSession,
        .roles = {Role::kProvinceAdmin},
        .summary = suspend ? "The province suspends trading in a product"
                           : "The province resumes trading in a suspended product",
        .tag = "market",
        .response_schema = kObject,
        .handler =
            [&market, suspend](RouteContext& ctx) {
              auto p = market.setSuspended(ctx.caller(), ctx.param("code"), suspend);
              if (!p) return errorResponse(p.error());
              return jsonResponse(productJson(*p));
            },
    });
  }
}

void addMemberRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/members",
      .access = Access::kSession,
      .roles = {Role::kProvinceAdmin},
      .summary = "The province admits a registry account as an exchange member with a cash account",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required", {"account_no", "name", "kind"}},
                         {"properties",
                          {{"account_no", {{"type", "string"}}},
                           {"name", {{"type", "string"}}},
                           {"kind",
                            {{"type", "string"},
                             {"enum", {"enterprise", "institution", "individual"}}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto account_no = requireString(*body, "account_no");
            if (!account_no) return errorResponse(account_no.error());
            auto name = requireString(*body, "name");
            if (!name) return errorResponse(name.error());
            auto kind = requireString(*body, "kind");
            if (!kind) return errorResponse(kind.error());
            auto m = market.registerMember(ctx.caller(), *account_no, *name, *kind);
            if (!m) return errorResponse(m.error());
            return jsonResponse(memberJson(*m), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/members/mine",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "The members you act for, with cash, reserved and free cash",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto list = market.membersOf(ctx.caller());
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& m : *list) out.push_back(memberJson(m));
            return jsonResponse({{"members", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/members/{id}",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "A member's cash (held, reserved, free) and its free units in every product",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = memberParam(ctx);
            if (!id) return errorResponse(id.error());
            auto m = market.member(ctx.caller(), *id);
            if (!m) return errorResponse(m.error());
            json units = json::array();
            for (const auto& p : market.products()) {
              auto free = market.freeUnits(ctx.caller(), *id, p.code);
              if (!free) return errorResponse(free.error());
              units.push_back({{"product", p.code}, {"free_units", free->value()}});
            }
            json out = memberJson(*m);
            out["units"] = units;
            return jsonResponse(out);
          },
  });
  for (bool is_deposit : {true, false}) {
    router.add({
        .method = "POST",
        .pattern =
            std::string("/api/v1/market/members/{id}/") + (is_deposit ? "deposits" : "withdrawals"),
        .access = Access::kSession,
        .roles = {Role::kProvinceAdmin},
        .summary = is_deposit
                       ? "The province records a deposit from the clearing bank into a member's "
                         "cash account"
                       : "The province records a withdrawal of a member's free cash to the bank",
        .tag = "market",
        .request_schema = {{"type", "object"},
                           {"required", {"amount_fen", "bank_reference"}},
                           {"properties",
                            {{"amount_fen", {{"type", "integer"}}},
                             {"bank_reference", {{"type", "string"}}},
                             {"idempotency_key", {{"type", "string"}}}}}},
        .response_schema = kObject,
        .success_status = 201,
        .handler =
            [&market, is_deposit](RouteContext& ctx) {
              auto id = memberParam(ctx);
              if (!id) return errorResponse(id.error());
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto key = idempotencyKey(ctx.request, *body);
              if (!key) return errorResponse(key.error());
              auto amount = requireInteger(*body, "amount_fen");
              if (!amount) return errorResponse(amount.error());
              auto reference = requireString(*body, "bank_reference");
              if (!reference) return errorResponse(reference.error());
              auto m = is_deposit
                           ? market.deposit(ctx.caller(), *id, Fen(*amount), *key, *reference)
                           : market.withdraw(ctx.caller(), *id, Fen(*amount), *key, *reference);
              if (!m) return errorResponse(m.error());
              return jsonResponse(memberJson(*m), 201);
            },
    });
  }
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/members/{id}/orders",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "A member's orders, newest first; ?open=true for open ones only",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = memberParam(ctx);
            if (!id) return errorResponse(id.error());
            auto open = ctx.request.queryParam("open");
            if (!open.empty() && open != "true" && open != "false")
              return errorResponse(Error::invalid("open", "open is true or false"));
            auto list = market.ordersOf(ctx.caller(), *id, open == "true");
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& o : *list) out.push_back(orderJson(o));
            return jsonResponse({{"orders", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/members/{id}/blocks",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "A member's block agreements as seller or buyer, newest first",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = memberParam(ctx);
            if (!id) return errorResponse(id.error());
            auto list = market.blocksOf(ctx.caller(), *id);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(blockJson(b));
            return jsonResponse({{"agreements", out}});
          },
  });
}

void addOrderRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/orders",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Post a limit order (day or gtc); what crosses the book trades at once, the rest "
                 "rests. A retried idempotency key answers the first outcome",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required", {"product", "member_id", "side", "price_fen", "quantity"}},
                         {"properties",
                          {{"idempotency_key", {{"type", "string"}}},
                           {"product", {{"type", "string"}}},
                           {"member_id", {{"type", "integer"}}},
                           {"side", {{"type", "string"}, {"enum", {"buy", "sell"}}}},
                           {"price_fen", {{"type", "integer"}}},
                           {"quantity", {{"type", "integer"}}},
                           {"time_in_force", {{"type", "string"}, {"enum", {"day", "gtc"}}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto product = requireString(*body, "product");
            if (!product) return errorResponse(product.error());
            auto member_id = requireInteger(*body, "member_id");
            if (!member_id) return errorResponse(member_id.error());
            auto side = readSide(*body);
            if (!side) return errorResponse(side.error());
            auto price = requireInteger(*body, "price_fen");
            if (!price) return errorResponse(price.error());
            auto quantity = requireInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            auto tif = optionalString(*body, "time_in_force");
            if (!tif) return errorResponse(tif.error());
            if (!tif->empty() && *tif != "day" && *tif != "gtc")
              return errorResponse(Error::invalid("time_in_force", "time_in_force is day or gtc"));
            auto outcome = market.placeOrder(
                ctx.caller(), {*key, *product, *member_id, *side, Fen(*price), *quantity,
                               *tif == "gtc" ? market::TimeInForce::kGoodTillCancelled
                                             : market::TimeInForce::kDay});
            if (!outcome) return errorResponse(outcome.error());
            return jsonResponse(outcomeJson(*outcome), outcome->duplicate ? 200 : 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/picks",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Pick (点选) one of the best five levels on the other side and take up to a "
                 "quantity there; side is what you do (buy takes asks)",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required", {"product", "member_id", "side", "level", "quantity"}},
                         {"properties",
                          {{"idempotency_key", {{"type", "string"}}},
                           {"product", {{"type", "string"}}},
                           {"member_id", {{"type", "integer"}}},
                           {"side", {{"type", "string"}, {"enum", {"buy", "sell"}}}},
                           {"level", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}},
                           {"quantity", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto product = requireString(*body, "product");
            if (!product) return errorResponse(product.error());
            auto member_id = requireInteger(*body, "member_id");
            if (!member_id) return errorResponse(member_id.error());
            auto side = readSide(*body);
            if (!side) return errorResponse(side.error());
            auto level = smallInteger(*body, "level", 0);
            if (!level) return errorResponse(level.error());
            auto quantity = requireInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            auto outcome =
                market.pick(ctx.caller(), {*key, *product, *member_id, *side, *level, *quantity});
            if (!outcome) return errorResponse(outcome.error());
            return jsonResponse(outcomeJson(*outcome), outcome->duplicate ? 200 : 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/orders/{id}/cancel",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Cancel an open order of a member you act for; its reservation is released",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "order");
            if (!id) return errorResponse(id.error());
            auto order = market.cancelOrder(ctx.caller(), *id);
            if (!order) return errorResponse(order.error());
            return jsonResponse(orderJson(*order));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/orders/{id}/amend",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Amend an open order: a lower quantity keeps its place; a new price or more "
                 "units sends it to the back (and it may trade at once)",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"properties",
                          {{"price_fen", {{"type", "integer"}}},
                           {"quantity", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "order");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto price = optionalInteger(*body, "price_fen");
            if (!price) return errorResponse(price.error());
            auto quantity = optionalInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            market::AmendRequest request{*id, std::nullopt, *quantity};
            if (*price) request.price = Fen(**price);
            auto outcome = market.amendOrder(ctx.caller(), request);
            if (!outcome) return errorResponse(outcome.error());
            return jsonResponse(outcomeJson(*outcome));
          },
  });
}

void addBlockRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/blocks",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "The seller enters a block agreement (大宗协议) with a named buyer: at least the "
                 "product's threshold, within ±30% of the previous close",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required",
                          {"product", "seller_member_id", "buyer_member_id", "price_fen",
                           "quantity"}},
                         {"properties",
                          {{"idempotency_key", {{"type", "string"}}},
                           {"product", {{"type", "string"}}},
                           {"seller_member_id", {{"type", "integer"}}},
                           {"buyer_member_id", {{"type", "integer"}}},
                           {"price_fen", {{"type", "integer"}}},
                           {"quantity", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto product = requireString(*body, "product");
            if (!product) return errorResponse(product.error());
            auto seller = requireInteger(*body, "seller_member_id");
            if (!seller) return errorResponse(seller.error());
            auto buyer = requireInteger(*body, "buyer_member_id");
            if (!buyer) return errorResponse(buyer.error());
            auto price = requireInteger(*body, "price_fen");
            if (!price) return errorResponse(price.error());
            auto quantity = requireInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            auto b = market.proposeBlock(ctx.caller(),
                                         {*key, *product, *seller, *buyer, Fen(*price), *quantity});
            if (!b) return errorResponse(b.error());
            return jsonResponse(blockJson(*b), 201);
          },
  });
  struct Action {
    const char* verb;
    const char* summary;
    Result<market::BlockAgreement> (MarketService::*call)(const auth::Principal&, std::int64_t);
  };
  for (const Action& action :
       {Action{"confirm", "The buyer confirms a block agreement: it settles at once (DvP)",
               &MarketService::confirmBlock},
        Action{"decline", "The buyer declines a proposed block agreement",
               &MarketService::declineBlock},
        Action{"withdraw", "The seller withdraws a proposed block agreement",
               &MarketService::withdrawBlock}}) {
    router.add({
        .method = "POST",
        .pattern = std::string("/api/v1/market/blocks/{id}/") + action.verb,
        .access = Access::kSession,
        .roles = {Role::kExchangeMember},
        .summary = action.summary,
        .tag = "market",
        .response_schema = kObject,
        .handler =
            [&market, call = action.call](RouteContext& ctx) {
              auto id = parseId(ctx.param("id"), "agreement");
              if (!id) return errorResponse(id.error());
              auto b = (market.*call)(ctx.caller(), *id);
              if (!b) return errorResponse(b.error());
              return jsonResponse(blockJson(*b));
            },
    });
  }
}

json auctionJson(const market::Auction& a) {
  json out = {{"id", a.id},
              {"product", a.product},
              {"announcer_member_id", a.announcer_member_id},
              {"side", sideName(a.side)},
              {"quantity", a.quantity},
              {"reserve_price_fen", a.reserve_price.value()},
              {"opens_at", formatIso8601(a.opens_at)},
              {"closes_at", formatIso8601(a.closes_at)},
              {"state", a.state},
              {"phase", a.phase},
              {"closed_at", a.closed_at ? json(formatIso8601(*a.closed_at)) : json(nullptr)}};
  // The result is published at the clearing; before it nothing about the bids is, not even their
  // number.
  if (a.state == "cleared") {
    out["result"] = {
        {"cleared_quantity", a.cleared_quantity},
        {"cleared_amount_fen", a.cleared_amount.value()},
        {"low_price_fen", a.low_price ? json(a.low_price->value()) : json(nullptr)},
        {"high_price_fen", a.high_price ? json(a.high_price->value()) : json(nullptr)},
        {"average_price_fen", a.cleared_quantity ? json(a.averagePrice().value()) : json(nullptr)},
        {"bids", a.bids_count}};
  } else {
    out["result"] = nullptr;
  }
  return out;
}

json bidJson(const market::AuctionBid& b) {
  return {{"id", b.id},
          {"auction_id", b.auction_id},
          {"member_id", b.member_id},
          {"price_fen", b.price.value()},
          {"quantity", b.quantity},
          {"filled", b.filled},
          {"state", b.state},
          {"trade_id", b.trade_id ? json(*b.trade_id) : json(nullptr)},
          {"at", formatIso8601(b.at)}};
}

Result<Instant> readInstant(const json& body, const std::string& field) {
  TPH_TRY_ASSIGN(text, requireString(body, field));
  auto at = parseIso8601(text);
  if (!at)
    return Error::invalid(field, field + " is an ISO 8601 instant (2026-03-02T10:00:00+08:00)");
  return *at;
}

void addAuctionRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auctions",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "Announce a one-way auction (单向竞价): the announcer sells (or buys) a quantity "
                 "with a reserve price and a window; the units (or the cash at the reserve "
                 "price) are reserved until the clearing",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required",
                          {"product", "announcer_member_id", "side", "quantity",
                           "reserve_price_fen", "opens_at", "closes_at"}},
                         {"properties",
                          {{"idempotency_key", {{"type", "string"}}},
                           {"product", {{"type", "string"}}},
                           {"announcer_member_id", {{"type", "integer"}}},
                           {"side", {{"type", "string"}, {"enum", {"buy", "sell"}}}},
                           {"quantity", {{"type", "integer"}}},
                           {"reserve_price_fen", {{"type", "integer"}}},
                           {"opens_at", {{"type", "string"}, {"format", "date-time"}}},
                           {"closes_at", {{"type", "string"}, {"format", "date-time"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto product = requireString(*body, "product");
            if (!product) return errorResponse(product.error());
            auto announcer = requireInteger(*body, "announcer_member_id");
            if (!announcer) return errorResponse(announcer.error());
            auto side = readSide(*body);
            if (!side) return errorResponse(side.error());
            auto quantity = requireInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            auto reserve = requireInteger(*body, "reserve_price_fen");
            if (!reserve) return errorResponse(reserve.error());
            auto opens = readInstant(*body, "opens_at");
            if (!opens) return errorResponse(opens.error());
            auto closes = readInstant(*body, "closes_at");
            if (!closes) return errorResponse(closes.error());
            auto a = market.announceAuction(
                ctx.caller(),
                {*key, *product, *announcer, *side, *quantity, Fen(*reserve), *opens, *closes});
            if (!a) return errorResponse(a.error());
            return jsonResponse(auctionJson(*a), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/auctions",
      .access = Access::kPublic,
      .summary = "Auctions, newest first (?product, ?state open|cleared|cancelled, ?limit default "
                 "100), with the published result of cleared ones",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto list = market.auctions(std::string(ctx.request.queryParam("product")),
                                        std::string(ctx.request.queryParam("state")), *limit);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& a : *list) out.push_back(auctionJson(a));
            return jsonResponse({{"auctions", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/auctions/{id}",
      .access = Access::kPublic,
      .summary = "One auction; once cleared, its result: filled quantity, lowest, highest and "
                 "volume-weighted accepted price, number of bids",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "auction");
            if (!id) return errorResponse(id.error());
            auto a = market.auction(*id);
            if (!a) return errorResponse(a.error());
            return jsonResponse(auctionJson(*a));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auctions/{id}/bids",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Submit a sealed bid (an offer, in a purchase) inside the window: at or above "
                 "the reserve price of a sale, at or below that of a purchase; it reserves the "
                 "cash (or units) it may cost",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"required", {"member_id", "price_fen", "quantity"}},
                         {"properties",
                          {{"idempotency_key", {{"type", "string"}}},
                           {"member_id", {{"type", "integer"}}},
                           {"price_fen", {{"type", "integer"}}},
                           {"quantity", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "auction_id");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto key = idempotencyKey(ctx.request, *body);
            if (!key) return errorResponse(key.error());
            auto member_id = requireInteger(*body, "member_id");
            if (!member_id) return errorResponse(member_id.error());
            auto price = requireInteger(*body, "price_fen");
            if (!price) return errorResponse(price.error());
            auto quantity = requireInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            auto b =
                market.submitBid(ctx.caller(), {*key, *id, *member_id, Fen(*price), *quantity});
            if (!b) return errorResponse(b.error());
            return jsonResponse(bidJson(*b), 201);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/auctions/{id}/bids",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "The bids you may see: your members' own; after the clearing, every bid (best "
                 "first, with its fill) to the announcer and the province",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "auction");
            if (!id) return errorResponse(id.error());
            auto list = market.auctionBids(ctx.caller(), *id);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(bidJson(b));
            return jsonResponse({{"bids", out}});
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auction-bids/{id}/amend",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Amend a sealed bid inside the window: less at the same price keeps its time, a "
                 "new price or more units takes the time of now",
      .tag = "market",
      .request_schema = {{"type", "object"},
                         {"properties",
                          {{"price_fen", {{"type", "integer"}}},
                           {"quantity", {{"type", "integer"}}}}}},
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "bid");
            if (!id) return errorResponse(id.error());
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto price = optionalInteger(*body, "price_fen");
            if (!price) return errorResponse(price.error());
            auto quantity = optionalInteger(*body, "quantity");
            if (!quantity) return errorResponse(quantity.error());
            market::AmendBidRequest request{*id, std::nullopt, *quantity};
            if (*price) request.price = Fen(**price);
            auto b = market.amendBid(ctx.caller(), request);
            if (!b) return errorResponse(b.error());
            return jsonResponse(bidJson(*b));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auction-bids/{id}/withdraw",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember},
      .summary = "Withdraw a sealed bid inside the window; its reservation is released",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "bid");
            if (!id) return errorResponse(id.error());
            auto b = market.withdrawBid(ctx.caller(), *id);
            if (!b) return errorResponse(b.error());
            return jsonResponse(bidJson(*b));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auctions/{id}/close",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "Clear an auction whose window is over (the announcer or the province): by "
                 "price, best for the announcer first, then time, pay-as-bid, each fill settled "
                 "DvP; losing bids are released",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "auction");
            if (!id) return errorResponse(id.error());
            auto cleared = market.closeAuction(ctx.caller(), *id);
            if (!cleared) return errorResponse(cleared.error());
            json bids = json::array(), trades = json::array();
            for (const auto& b : cleared->bids) bids.push_back(bidJson(b));
            for (const auto& t : cleared->trades) trades.push_back(tradeJson(t));
            json out = auctionJson(cleared->auction);
            out["bids"] = bids;
            out["trades"] = trades;
            return jsonResponse(out);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/market/auctions/{id}/cancel",
      .access = Access::kSession,
      .roles = {Role::kExchangeMember, Role::kProvinceAdmin},
      .summary = "Call an auction off: the announcer before its close, the province until it is "
                 "cleared; every reservation is released",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto id = parseId(ctx.param("id"), "auction");
            if (!id) return errorResponse(id.error());
            auto a = market.cancelAuction(ctx.caller(), *id);
            if (!a) return errorResponse(a.error());
            return jsonResponse(auctionJson(*a));
          },
  });
}

void addMarketDataRoutes(Router& router, MarketService& market) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/{product}/book",
      .access = Access::kPublic,
      .summary = "The best five price levels each side, the price band and whether trading is open",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto view = market.book(ctx.param("product"));
            if (!view) return errorResponse(view.error());
            return jsonResponse({{"product", view->product},
                                 {"bids", levelsJson(view->bids)},
                                 {"asks", levelsJson(view->asks)},
                                 {"band",
                                  {{"previous_close_fen", view->band.previous_close.value()},
                                   {"low_fen", view->band.low.value()},
                                   {"high_fen", view->band.high.value()}}},
                                 {"open_now", view->open_now}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/{product}/trades",
      .access = Access::kPublic,
      .summary = "The product's trades, newest first (?limit, default 100)",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto list = market.trades(ctx.param("product"), *limit);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& t : *list) {
              json row = tradeJson(t);
              row.erase("serials");  // public: who holds which serials is the registry's to say
              out.push_back(row);
            }
            return jsonResponse({{"trades", out}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/market/{product}/daily",
      .access = Access::kPublic,
      .summary = "Daily open, high, low, close (volume-weighted average) and volume of listed "
                 "trades (?limit days, default 100)",
      .tag = "market",
      .response_schema = kObject,
      .handler =
          [&market](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 100);
            if (!limit) return errorResponse(limit.error());
            auto list = market.daily(ctx.param("product"), *limit);
            if (!list) return errorResponse(list.error());
            json out = json::array();
            for (const auto& b : *list) out.push_back(barJson(b));
            return jsonResponse({{"bars", out}});
          },
  });
}

}  // namespace

void addMarketRoutes(Router& router, market::MarketService& market) {
  addProductRoutes(router, market);
  addMemberRoutes(router, market);
  addOrderRoutes(router, market);
  addBlockRoutes(router, market);
  addAuctionRoutes(router, market);
  addMarketDataRoutes(router, market);
}

}  // namespace tph::api
