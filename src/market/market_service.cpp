#include "market/market_service.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "audit/audit_log.h"
#include "market/cash_ledger.h"
#include "market/market_internal.h"
#include "market/market_store.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::market {

using namespace internal;

namespace internal {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::size_t kKeyMaxBytes = 200;
constexpr std::size_t kNameMaxBytes = 120;

const char* sideName(Side side) {
  return side == Side::kBuy ? "buy" : "sell";
}

std::int64_t feeOf(std::int64_t amount_fen, int fee_bp) {
  return checked::mul(amount_fen, fee_bp) / 10'000;
}

Status checkKey(const std::string& key) {
  if (key.empty() || key.size() > kKeyMaxBytes)
    return Error::invalid("idempotency_key", "an idempotency key is 1-200 bytes");
  return {};
}

Status checkQuantity(std::int64_t quantity) {
  if (quantity < 1 || quantity > kOrderMaxUnits)
    return Error::invalid("quantity", "quantity must be 1-" + std::to_string(kOrderMaxUnits) +
                                          " units (a lot is one unit)");
  return {};
}

Status checkPrice(Fen price) {
  if (price.value() < 1 || price.value() > kPriceMaxFen)
    return Error::invalid("price_fen", "price must be 1-" + std::to_string(kPriceMaxFen) +
                                           " fen per tonne (the tick is one fen)");
  return {};
}

registry::UnitFilter filterOf(const Product& p) {
  return {p.methodology, p.region, p.vintage_from, p.vintage_to};
}

int shanghaiMinute(Instant t) {
  std::int64_t minutes = toEpochMs(t) / 60'000 + 8 * 60;
  return static_cast<int>(((minutes % 1440) + 1440) % 1440);
}

bool isWorkingDay(Instant t, const MarketOptions& options) {
  std::string day = shanghaiDay(t);
  if (options.extra_trading_days.count(day)) return true;
  auto local = std::chrono::floor<std::chrono::days>(t + std::chrono::hours(8));
  std::chrono::weekday wd{local};
  if (wd == std::chrono::Saturday || wd == std::chrono::Sunday) return false;
  return !options.holidays.count(day);
}

Order orderOf(const detail::OrderRow& row) {
  return row.order;
}

Member memberView(soci::session& sql, const detail::MemberRow& row, const std::string& today) {
  Member m;
  m.id = row.id;
  m.account_no = row.account_no;
  m.name = row.name;
  m.kind = row.kind;
  m.cash = cashBalance(sql, row.cash_account_id);
  auto r = detail::reserved(sql, row.id, today);
  m.cash_reserved = Fen(r.cash_fen);
  m.cash_free = m.cash - m.cash_reserved;
  m.units_reserved = Units(r.units);
  return m;
}

}  // namespace internal

std::optional<std::vector<TradingSession>> parseSessions(std::string_view text) {
  std::vector<TradingSession> out;
  auto minuteOf = [](std::string_view hhmm) -> std::optional<int> {
    if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
    int h = 0, m = 0;
    if (std::from_chars(hhmm.data(), hhmm.data() + 2, h).ptr != hhmm.data() + 2)
      return std::nullopt;
    if (std::from_chars(hhmm.data() + 3, hhmm.data() + 5, m).ptr != hhmm.data() + 5)
      return std::nullopt;
    if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
  };
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (part.size() != 11 || part[5] != '-') return std::nullopt;
    auto open = minuteOf(part.substr(0, 5)), close = minuteOf(part.substr(6, 5));
    if (!open || !close || *open >= *close) return std::nullopt;
    if (!out.empty() && out.back().close_minute > *open) return std::nullopt;
    out.push_back({*open, *close});
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

MarketService::MarketService(store::Database& db, const Clock& clock, MarketOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

// ---------------------------------------------------------------------------------- products

Result<Product> MarketService::admitProduct(const Principal& caller, const Product& request) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province admits products");
  Product p = request;
  if (p.code.empty() || p.code.size() > 64 ||
      !std::all_of(p.code.begin(), p.code.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      }))
    return Error::invalid("code", "code is 1-64 of A-Z, 0-9, - and _");
  if (p.name.empty() || p.name.size() > kNameMaxBytes)
    return Error::invalid("name", "name is 1-120 bytes");
  if (p.methodology.empty() || p.methodology.size() > 64)
    return Error::invalid("methodology", "methodology is required");
  if (!p.region.empty() &&
      (p.region.size() != 6 || !std::all_of(p.region.begin(), p.region.end(), ::isdigit)))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code or empty for any");
  if (p.vintage_from < 0 || p.vintage_to < 0 ||
      (p.vintage_from && p.vintage_to && p.vintage_from > p.vintage_to))
    return Error::invalid("vintage_to", "the vintage range runs from vintage_from to vintage_to");
  TPH_TRY(checkPrice(p.reference_price));
  if (!parseSessions(p.sessions))
    return Error::invalid("sessions", "sessions are HH:MM-HH:MM, comma-separated, in order");
  if (p.block_min_units < 1 || p.block_min_units > kOrderMaxUnits)
    return Error::invalid("block_min_units",
                          "block_min_units must be 1-" + std::to_string(kOrderMaxUnits));
  if (p.fee_bp < 0 || p.fee_bp > 1000) return Error::invalid("fee_bp", "fee_bp must be 0-1000");
  return db_.transaction([&](soci::session& sql) -> Result<Product> {
    detail::lockMarket(sql);
    if (detail::findProduct(sql, p.code))
      return Error::conflict("product " + p.code + " exists already", "code");
    std::int64_t now = toEpochMs(clock_.now());
    p.id = detail::insertProduct(sql, p, caller.auditActor(), now);
    p.suspended = false;
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.product.admit", "market_product:" + p.code,
         json{{"methodology", p.methodology},
              {"region", p.region},
              {"vintage", {p.vintage_from, p.vintage_to}},
              {"effective_from", formatIso8601(p.effective_from)},
              {"reference_price_fen", p.reference_price.value()},
              {"sessions", p.sessions},
              {"block_min_units", p.block_min_units},
              {"fee_bp", p.fee_bp}}});
    return p;
  });
}

Result<Product> MarketService::setSuspended(const Principal& caller, const std::string& code,
                                            bool suspended) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province suspends and resumes products");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Product> {
    detail::lockMarket(sql);
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    detail::setProductSuspended(sql, p->id, suspended, toEpochMs(clock_.now()));
    p->suspended = suspended;
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), suspended ? "market.product.suspend" : "market.product.resume",
         "market_product:" + code, json::object()});
    return *p;
  });
}

std::vector<Product> MarketService::products() {
  return db_.read([](soci::session& sql) { return detail::listProducts(sql); });
}

Result<Product> MarketService::product(const std::string& code) {
  return db_.read([&](soci::session& sql) -> Result<Product> {
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    return *p;
  });
}

// ---------------------------------------------------------------------------- members, cash

Result<Member> MarketService::registerMember(const Principal& caller, const std::string& account_no,
                                             const std::string& name, const std::string& kind) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province admits exchange members");
  if (name.empty() || name.size() > kNameMaxBytes)
    return Error::invalid("name", "name is 1-120 bytes");
  if (kind != "enterprise" && kind != "institution" && kind != "individual")
    return Error::invalid("kind", "kind is enterprise, institution or individual");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Member> {
    detail::lockMarket(sql);
    auto account = registry::findAccountId(sql, account_no);
    if (!account) return Error::notFound("no registry account " + account_no, "account_no");
    if (detail::findMemberByAccount(sql, *account))
      return Error::conflict(account_no + " is a member already", "account_no");
    auto cash = openCashAccount(sql, "member:" + account_no, "member", false, clock_);
    std::int64_t now = toEpochMs(clock_.now());
    auto id = detail::insertMember(sql, *account, cash, name, kind, caller.auditActor(), now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.member.register", "market_member:" + std::to_string(id),
         json{{"account_no", account_no}, {"name", name}, {"kind", kind}}});
    return memberView(sql, *detail::findMember(sql, id), shanghaiDay(clock_.now()));
  });
}

namespace internal {

//! The member row when the caller may act for it: a user of its registry account holding the
//! exchange_member role, or (to look, deposit or withdraw) a province admin.
Result<detail::MemberRow> memberFor(soci::session& sql, const Principal& caller,
                                    std::int64_t member_id, bool province_may) {
  auto row = detail::findMember(sql, member_id);
  if (!row) return Error::notFound("no member " + std::to_string(member_id), "member_id");
  if (province_may && caller.hasRole(Role::kProvinceAdmin)) return *row;
  if (caller.hasRole(Role::kExchangeMember) &&
      registry::isAccountMember(sql, row->registry_account_id, caller.user_id))
    return *row;
  return Error::forbidden("you do not act for member " + std::to_string(member_id), "member_id");
}

}  // namespace internal

Result<Member> MarketService::member(const Principal& caller, std::int64_t member_id) {
  return db_.read([&](soci::session& sql) -> Result<Member> {
    TPH_TRY_ASSIGN(row, memberFor(sql, caller, member_id, true));
    return memberView(sql, row, shanghaiDay(clock_.now()));
  });
}

Result<std::vector<Member>> MarketService::membersOf(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Member>> {
    std::vector<Member> out;
    if (!caller.hasRole(Role::kExchangeMember)) return out;
    for (const auto& row : detail::membersOfUser(sql, caller.user_id))
      out.push_back(memberView(sql, row, shanghaiDay(clock_.now())));
    return out;
  });
}

Result<Member> MarketService::deposit(const Principal& caller, std::int64_t member_id, Fen amount,
                                      const std::string& key, const std::string& bank_reference) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province records deposits (for the clearing bank)");
  TPH_TRY(checkKey(key));
  if (amount.value() < 1 || amount.value() > kCashMaxFen)
    return Error::invalid("amount_fen", "amount must be a positive number of fen");
  if (bank_reference.empty() || bank_reference.size() > kNameMaxBytes)
    return Error::invalid("bank_reference", "bank_reference is 1-120 bytes");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Member> {
    detail::lockMarket(sql);
    TPH_TRY_ASSIGN(row, memberFor(sql, caller, member_id, true));
    auto bank = openCashAccount(sql, kBankAccountCode, "bank", true, clock_);
    TPH_TRY_ASSIGN(posted, postCash(sql,
                                    {"deposit:" + key,
                                     "deposit",
                                     bank_reference,
                                     {{bank, -amount}, {row.cash_account_id, amount}}},
                                    clock_));
    if (!posted.duplicate) {
      audit::appendAuditEvent(
          sql, clock_,
          {caller.auditActor(), "market.cash.deposit", "market_member:" + std::to_string(row.id),
           json{{"amount_fen", amount.value()},
                {"bank_reference", bank_reference},
                {"entry", posted.entry_id}}});
    }
    return memberView(sql, row, shanghaiDay(clock_.now()));
  });
}

Result<Member> MarketService::withdraw(const Principal& caller, std::int64_t member_id, Fen amount,
                                       const std::string& key, const std::string& bank_reference) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province records withdrawals (for the clearing bank)");
  TPH_TRY(checkKey(key));
  if (amount.value() < 1 || amount.value() > kCashMaxFen)
    return Error::invalid("amount_fen", "amount must be a positive number of fen");
  if (bank_reference.empty() || bank_reference.size() > kNameMaxBytes)
    return Error::invalid("bank_reference", "bank_reference is 1-120 bytes");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Member> {
    detail::lockMarket(sql);
    TPH_TRY_ASSIGN(row, memberFor(sql, caller, member_id, true));
    auto view = memberView(sql, row, shanghaiDay(clock_.now()));
    auto bank = openCashAccount(sql, kBankAccountCode, "bank", true, clock_);
    CashEntry entry{"withdrawal:" + key,
                    "withdrawal",
                    bank_reference,
                    {{row.cash_account_id, -amount}, {bank, amount}}};
    if (view.cash_free < amount) {
      // A retry of a withdrawal that went through answers its outcome, not a refusal.
      auto again = postCash(sql, entry, clock_);
      if (again.ok() && again->duplicate) return view;
      return Error::conflict("free cash is " + view.cash_free.toString() + ", not " +
                                 amount.toString() + " (open orders reserve the rest)",
                             "amount_fen");
    }
    TPH_TRY_ASSIGN(posted, postCash(sql, entry, clock_));
    if (!posted.duplicate) {
      audit::appendAuditEvent(
          sql, clock_,
          {caller.auditActor(), "market.cash.withdraw", "market_member:" + std::to_string(row.id),
           json{{"amount_fen", amount.value()},
                {"bank_reference", bank_reference},
                {"entry", posted.entry_id}}});
    }
    return memberView(sql, row, shanghaiDay(clock_.now()));
  });
}

Result<Units> MarketService::freeUnits(const Principal& caller, std::int64_t member_id,
                                       const std::string& code) {
  return db_.read([&](soci::session& sql) -> Result<Units> {
    TPH_TRY_ASSIGN(row, memberFor(sql, caller, member_id, true));
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    auto held = registry::heldUnits(sql, row.registry_account_id, filterOf(*p));
    auto r = detail::reserved(sql, row.id, shanghaiDay(clock_.now()));
    return held - Units(r.units);
  });
}

// ------------------------------------------------------------------------------- settlement

namespace internal {

Result<Trade> settle(soci::session& sql, const SettleContext& ctx, const Product& product,
                     const std::string& mode, const detail::MemberRow& buyer,
                     const detail::MemberRow& seller, std::int64_t price_fen, std::int64_t quantity,
                     std::optional<std::int64_t> buy_order, std::optional<std::int64_t> sell_order,
                     const std::string& key) {
  if (buyer.id == seller.id) throw std::logic_error("settle: a member trades with itself");
  std::int64_t amount = checked::mul(price_fen, quantity);
  std::int64_t buyer_fee = feeOf(amount, product.fee_bp),
               seller_fee = feeOf(amount, product.fee_bp);
  registry::MoveUnitsRequest delivery;
  delivery.kind = "transfer";
  delivery.idempotency_key = "market:" + key;
  delivery.from_account_id = seller.registry_account_id;
  delivery.to_account_id = buyer.registry_account_id;
  delivery.units = Units(quantity);
  delivery.filter = filterOf(product);
  delivery.note = "market " + mode + " trade in " + product.code;
  delivery.actor = ctx.actor;
  TPH_TRY_ASSIGN(op, registry::moveUnits(sql, ctx.clock, delivery));
  if (op.duplicate) throw std::logic_error("settle: trade key " + key + " was delivered before");
  if (ctx.options.between_legs) ctx.options.between_legs();
  auto fees = openCashAccount(sql, MarketService::kFeeAccountCode, "fees", false, ctx.clock);
  CashEntry payment{"market:" + key, "trade", mode + " " + product.code, {}};
  payment.legs.push_back({buyer.cash_account_id, Fen(-(amount + buyer_fee))});
  payment.legs.push_back({seller.cash_account_id, Fen(amount - seller_fee)});
  if (buyer_fee + seller_fee > 0) payment.legs.push_back({fees, Fen(buyer_fee + seller_fee)});
  TPH_TRY_ASSIGN(paid, postCash(sql, payment, ctx.clock));
  if (paid.duplicate) throw std::logic_error("settle: trade key " + key + " was paid before");
  detail::TradeRow row{product.id, mode,          buyer.id, seller.id, buy_order,
                       sell_order, price_fen,     quantity, buyer_fee, seller_fee,
                       op.id,      paid.entry_id, ctx.today};
  auto id = detail::insertTrade(sql, row, toEpochMs(ctx.clock.now()));
  audit::appendAuditEvent(sql, ctx.clock,
                          {ctx.actor, "market.trade", "market_trade:" + std::to_string(id),
                           json{{"product", product.code},
                                {"mode", mode},
                                {"buyer", buyer.id},
                                {"seller", seller.id},
                                {"price_fen", price_fen},
                                {"quantity", quantity},
                                {"buyer_fee_fen", buyer_fee},
                                {"seller_fee_fen", seller_fee},
                                {"registry_operation", op.id},
                                {"cash_entry", paid.entry_id}}});
  return *detail::tradeById(sql, id);
}

//! What the product allows now: admitted, in effect, not suspended.
Status checkTradable(const Product& p, Instant now) {
  if (p.suspended) return Error::conflict("product " + p.code + " is suspended", "product");
  if (now < p.effective_from)
    return Error::conflict("product " + p.code + " trades from " + formatIso8601(p.effective_from),
                           "product");
  return {};
}

PriceBand bandOf(soci::session& sql, const Product& p, const std::string& today, int percent) {
  auto close = detail::previousClose(sql, p.id, today);
  std::int64_t pc = close.value_or(p.reference_price.value());
  std::int64_t low = (pc * (100 - percent) + 99) / 100, high = pc * (100 + percent) / 100;
  return {Fen(pc), Fen(std::max<std::int64_t>(low, 1)), Fen(high)};
}

}  // namespace internal

// -------------------------------------------------------------------------- listed trading

OrderBook& MarketService::bookOf(soci::session& sql, const Product& product) {
  auto found = books_.find(product.id);
  if (found != books_.end()) return found->second;
  OrderBook& book = books_[product.id];
  for (const auto& row : detail::openOrders(sql, product.id)) {
    book.restore({row.order.id, row.order.member_id, row.order.side, row.order.price.value(),
                  row.order.remaining, row.seq});
  }
  return book;
}

void MarketService::dropBook(std::int64_t product_id) {
  books_.erase(product_id);
}

namespace {

//! The product, checked for trading now: in effect, not suspended, a working day, in session.
Result<Product> tradableProduct(soci::session& sql, const std::string& code, Instant now,
                                const MarketOptions& options) {
  auto p = detail::findProduct(sql, code);
  if (!p) return Error::notFound("no product " + code, "product");
  TPH_TRY(checkTradable(*p, now));
  if (!isWorkingDay(now, options))
    return Error::conflict("the market is closed: " + shanghaiDay(now) + " is not a working day",
                           "product");
  int minute = shanghaiMinute(now);
  auto sessions = parseSessions(p->sessions);
  if (!sessions) throw std::logic_error("product " + code + " has unreadable sessions");
  bool open = std::any_of(sessions->begin(), sessions->end(), [&](const TradingSession& s) {
    return minute >= s.open_minute && minute < s.close_minute;
  });
  if (!open)
    return Error::conflict(
        "the market is closed: " + code + " trades " + p->sessions + " Asia/Shanghai", "product");
  return *p;
}

}  // namespace

Result<OrderOutcome> MarketService::placeOrder(const Principal& caller,
                                               const PlaceOrderRequest& request) {
  TPH_TRY(checkKey(request.idempotency_key));
  TPH_TRY(checkPrice(request.price));
  TPH_TRY(checkQuantity(request.quantity));
  std::lock_guard lock(writer_);
  std::int64_t product_id = 0;
  auto run = [&](soci::session& sql) -> Result<OrderOutcome> {
    detail::lockMarket(sql);
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    if (auto existing = detail::findOrderByKey(sql, request.idempotency_key)) {
      const Order& o = existing->order;
      if (o.product != request.product || o.member_id != request.member_id ||
          o.side != request.side || o.quantity != request.quantity ||
          (o.price != request.price && o.remaining == o.quantity))
        return Error::conflict(
            "idempotency key " + request.idempotency_key + " was used for a different order",
            "idempotency_key");
      return OrderOutcome{o, {}, false, true};
    }
    TPH_TRY_ASSIGN(product, tradableProduct(sql, request.product, now, options_));
    product_id = product.id;
    TPH_TRY_ASSIGN(member, memberFor(sql, caller, request.member_id, false));
    auto band = bandOf(sql, product, today, kBandListedPercent);
    if (request.price < band.low || request.price > band.high)
      return Error::invalid("price_fen", "price must be within ±10% of the previous close " +
                                             band.previous_close.toString() + ": " +
                                             band.low.toString() + " to " + band.high.toString());
    if (!detail::expireDayOrders(sql, product.id, today, toEpochMs(now)).empty())
      dropBook(product.id);
    auto reserved = detail::reserved(sql, member.id, today);
    if (request.side == Side::kBuy) {
      std::int64_t amount = checked::mul(request.price.value(), request.quantity);
      Fen need(amount + feeOf(amount, product.fee_bp));
      Fen free = cashBalance(sql, member.cash_account_id) - Fen(reserved.cash_fen);
      if (free < need)
        return Error::conflict(
            "free cash is " + free.toString() + ", the order needs " + need.toString(), "quantity");
    } else {
      auto held = registry::heldUnits(sql, member.registry_account_id, filterOf(product));
      Units free = held - Units(reserved.units);
      if (free.value() < request.quantity)
        return Error::conflict("free units of " + product.code + " are " +
                                   std::to_string(free.value()) + ", not " +
                                   std::to_string(request.quantity),
                               "quantity");
    }
    OrderBook& book = bookOf(sql, product);
    detail::OrderRow row;
    row.order = {0,
                 product.code,
                 member.id,
                 request.side,
                 request.price,
                 request.quantity,
                 request.quantity,
                 request.time_in_force,
                 "open",
                 today,
                 now};
    row.product_id = product.id;
    row.seq = detail::nextSeq(sql);
    row.idempotency_key = request.idempotency_key;
    std::int64_t now_ms = toEpochMs(now);
    row.order.id = detail::insertOrder(sql, row, caller.auditActor(), now_ms);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.order.place", "market_order:" + std::to_string(row.order.id),
         json{{"product", product.code},
              {"member", member.id},
              {"side", sideName(request.side)},
              {"price_fen", request.price.value()},
              {"quantity", request.quantity},
              {"time_in_force", request.time_in_force == TimeInForce::kDay ? "day" : "gtc"}}});
    auto outcome = book.submit(
        {row.order.id, member.id, request.side, request.price.value(), request.quantity, row.seq});
    OrderOutcome out;
    SettleContext ctx{clock_, options_, caller.auditActor(), today};
    for (const auto& fill : outcome.fills) {
      auto maker = detail::findOrder(sql, fill.maker_order);
      auto maker_member = detail::findMember(sql, fill.maker_member);
      if (!maker || !maker_member) throw std::logic_error("a resting order left no row");
      bool taker_buys = request.side == Side::kBuy;
      std::string key =
          "listed:" + std::to_string(row.order.id) + ":" + std::to_string(fill.maker_order);
      TPH_TRY_ASSIGN(trade, settle(sql, ctx, product, "listed", taker_buys ? member : *maker_member,
                                   taker_buys ? *maker_member : member, fill.price_fen,
                                   fill.quantity, taker_buys ? row.order.id : fill.maker_order,
                                   taker_buys ? fill.maker_order : row.order.id, key));
      std::int64_t maker_left = maker->order.remaining - fill.quantity;
      detail::updateOrder(sql, fill.maker_order, maker_left, maker_left == 0 ? "filled" : "open",
                          std::nullopt, std::nullopt, now_ms);
      out.trades.push_back(std::move(trade));
    }
    row.order.remaining = outcome.remaining;
    row.order.state = outcome.remaining == 0 ? "filled" : outcome.rested ? "open" : "cancelled";
    if (row.order.state != "open" || !outcome.fills.empty()) {
      detail::updateOrder(sql, row.order.id, row.order.remaining, row.order.state, std::nullopt,
                          std::nullopt, now_ms);
    }
    out.order = row.order;
    out.self_trade_stopped = outcome.self_trade_stopped;
    return out;
  };
  try {
    auto result = db_.transaction(run);
    if (!result.ok() && product_id) dropBook(product_id);
    return result;
  } catch (...) {
    if (product_id) dropBook(product_id);
    throw;
  }
}

Result<OrderOutcome> MarketService::pick(const Principal& caller, const PickRequest& request) {
  TPH_TRY(checkKey(request.idempotency_key));
  TPH_TRY(checkQuantity(request.quantity));
  if (request.level < 1 || request.level > kPickLevels)
    return Error::invalid("level", "level is 1-5: one of the best five price levels");
  std::lock_guard lock(writer_);
  std::int64_t product_id = 0;
  auto run = [&](soci::session& sql) -> Result<OrderOutcome> {
    detail::lockMarket(sql);
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    TPH_TRY_ASSIGN(product, tradableProduct(sql, request.product, now, options_));
    product_id = product.id;
    TPH_TRY_ASSIGN(member, memberFor(sql, caller, request.member_id, false));
    if (!detail::expireDayOrders(sql, product.id, today, toEpochMs(now)).empty())
      dropBook(product.id);
    OrderBook& book = bookOf(sql, product);
    Side resting = opposite(request.side);
    auto levels = book.levels(resting, request.level);
    if (static_cast<int>(levels.size()) < request.level)
      return Error::conflict("there is no level " + std::to_string(request.level) + " on the " +
                                 sideName(resting) + " side",
                             "level");
    std::int64_t price = levels.back().price_fen;
    auto reserved = detail::reserved(sql, member.id, today);
    if (request.side == Side::kBuy) {
      std::int64_t amount = checked::mul(price, request.quantity);
      Fen need(amount + feeOf(amount, product.fee_bp));
      Fen free = cashBalance(sql, member.cash_account_id) - Fen(reserved.cash_fen);
      if (free < need)
        return Error::conflict(
            "free cash is " + free.toString() + ", taking needs " + need.toString(), "quantity");
    } else {
      Units free = registry::heldUnits(sql, member.registry_account_id, filterOf(product)) -
                   Units(reserved.units);
      if (free.value() < request.quantity)
        return Error::conflict(
            "free units of " + product.code + " are " + std::to_string(free.value()), "quantity");
    }
    auto fills = book.take(resting, request.level, request.quantity, member.id);
    if (fills.empty())
      return Error::conflict(
          "level " + std::to_string(request.level) + " holds only your own orders", "level");
    OrderOutcome out;
    SettleContext ctx{clock_, options_, caller.auditActor(), today};
    std::int64_t now_ms = toEpochMs(now);
    for (const auto& fill : fills) {
      auto maker = detail::findOrder(sql, fill.maker_order);
      auto maker_member = detail::findMember(sql, fill.maker_member);
      if (!maker || !maker_member) throw std::logic_error("a resting order left no row");
      bool taker_buys = request.side == Side::kBuy;
      std::string key = "pick:" + request.idempotency_key + ":" + std::to_string(fill.maker_order);
      TPH_TRY_ASSIGN(trade,
                     settle(sql, ctx, product, "listed", taker_buys ? member : *maker_member,
                            taker_buys ? *maker_member : member, fill.price_fen, fill.quantity,
                            taker_buys ? std::nullopt : std::optional(fill.maker_order),
                            taker_buys ? std::optional(fill.maker_order) : std::nullopt, key));
      std::int64_t maker_left = maker->order.remaining - fill.quantity;
      detail::updateOrder(sql, fill.maker_order, maker_left, maker_left == 0 ? "filled" : "open",
                          std::nullopt, std::nullopt, now_ms);
      out.trades.push_back(std::move(trade));
    }
    return out;
  };
  try {
    auto result = db_.transaction(run);
    if (!result.ok() && product_id) dropBook(product_id);
    return result;
  } catch (const std::exception& e) {
    if (product_id) dropBook(product_id);
    // The same pick twice: its trades' keys are taken; answer a conflict, not a crash.
    if (store::isUniqueViolation(e))
      return Error::conflict("idempotency key " + request.idempotency_key + " was used",
                             "idempotency_key");
    throw;
  }
}

Result<Order> MarketService::cancelOrder(const Principal& caller, std::int64_t order_id) {
  std::lock_guard lock(writer_);
  std::int64_t product_id = 0;
  auto result = db_.transaction([&](soci::session& sql) -> Result<Order> {
    detail::lockMarket(sql);
    auto row = detail::findOrder(sql, order_id);
    if (!row) return Error::notFound("no order " + std::to_string(order_id), "order");
    bool province = caller.hasRole(Role::kProvinceAdmin);
    if (!province) TPH_TRY(memberFor(sql, caller, row->order.member_id, false));
    std::string today = shanghaiDay(clock_.now());
    if (!detail::expireDayOrders(sql, row->product_id, today, toEpochMs(clock_.now())).empty()) {
      dropBook(row->product_id);
      row = detail::findOrder(sql, order_id);
    }
    if (row->order.state != "open")
      return Error::conflict("order " + std::to_string(order_id) + " is " + row->order.state,
                             "order");
    product_id = row->product_id;
    auto product = detail::findProductById(sql, row->product_id);
    bookOf(sql, *product).cancel(order_id);
    detail::updateOrder(sql, order_id, row->order.remaining, "cancelled", std::nullopt,
                        std::nullopt, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.order.cancel", "market_order:" + std::to_string(order_id),
         json{{"remaining", row->order.remaining}}});
    row->order.state = "cancelled";
    return row->order;
  });
  if (!result.ok() && product_id) dropBook(product_id);
  return result;
}

Result<OrderOutcome> MarketService::amendOrder(const Principal& caller,
                                               const AmendRequest& request) {
  if (!request.price && !request.quantity)
    return Error::invalid("price_fen", "an amendment changes the price, the quantity or both");
  if (request.price) TPH_TRY(checkPrice(*request.price));
  if (request.quantity) TPH_TRY(checkQuantity(*request.quantity));
  std::lock_guard lock(writer_);
  std::int64_t product_id = 0;
  auto run = [&](soci::session& sql) -> Result<OrderOutcome> {
    detail::lockMarket(sql);
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    auto row = detail::findOrder(sql, request.order_id);
    if (!row) return Error::notFound("no order " + std::to_string(request.order_id), "order");
    TPH_TRY_ASSIGN(member, memberFor(sql, caller, row->order.member_id, false));
    TPH_TRY_ASSIGN(product, tradableProduct(sql, row->order.product, now, options_));
    product_id = product.id;
    if (!detail::expireDayOrders(sql, product.id, today, toEpochMs(now)).empty()) {
      dropBook(product.id);
      row = detail::findOrder(sql, request.order_id);
    }
    if (row->order.state != "open")
      return Error::conflict(
          "order " + std::to_string(request.order_id) + " is " + row->order.state, "order");
    Fen price = request.price.value_or(row->order.price);
    std::int64_t quantity = request.quantity.value_or(row->order.remaining);
    auto band = bandOf(sql, product, today, kBandListedPercent);
    if (request.price && (price < band.low || price > band.high))
      return Error::invalid("price_fen", "price must be within ±10% of the previous close: " +
                                             band.low.toString() + " to " + band.high.toString());
    OrderBook& book = bookOf(sql, product);
    std::int64_t now_ms = toEpochMs(now);
    auto event = [&](const char* how) {
      audit::appendAuditEvent(
          sql, clock_,
          {caller.auditActor(), "market.order.amend",
           "market_order:" + std::to_string(row->order.id),
           json{{"price_fen", price.value()}, {"remaining", quantity}, {"priority", how}}});
    };
    if (price == row->order.price && quantity <= row->order.remaining) {
      // Only less: the order keeps its place in the queue.
      book.reduce(row->order.id, quantity);
      detail::updateOrder(sql, row->order.id, quantity, "open", std::nullopt, std::nullopt, now_ms);
      event("kept");
      row->order.remaining = quantity;
      return OrderOutcome{row->order, {}, false, false};
    }
    // A new price or more units: the order goes to the back of the queue, as if placed now,
    // and must be covered by what is free besides its own reservation.
    auto reserved = detail::reserved(sql, member.id, today);
    if (row->order.side == Side::kBuy) {
      std::int64_t old_amount = checked::mul(row->order.price.value(), row->order.remaining);
      std::int64_t new_amount = checked::mul(price.value(), quantity);
      Fen free = cashBalance(sql, member.cash_account_id) - Fen(reserved.cash_fen) +
                 Fen(old_amount + feeOf(old_amount, product.fee_bp));
      Fen need(new_amount + feeOf(new_amount, product.fee_bp));
      if (free < need)
        return Error::conflict(
            "free cash is " + free.toString() + ", the amended order needs " + need.toString(),
            "quantity");
    } else {
      Units free = registry::heldUnits(sql, member.registry_account_id, filterOf(product)) -
                   Units(reserved.units) + Units(row->order.remaining);
      if (free.value() < quantity)
        return Error::conflict("free units are " + std::to_string(free.value()), "quantity");
    }
    book.cancel(row->order.id);
    std::int64_t seq = detail::nextSeq(sql);
    detail::updateOrder(sql, row->order.id, quantity, "open", price.value(), seq, now_ms);
    event("lost");
    auto outcome =
        book.submit({row->order.id, member.id, row->order.side, price.value(), quantity, seq});
    OrderOutcome out;
    SettleContext ctx{clock_, options_, caller.auditActor(), today};
    bool buys = row->order.side == Side::kBuy;
    for (const auto& fill : outcome.fills) {
      auto maker = detail::findOrder(sql, fill.maker_order);
      auto maker_member = detail::findMember(sql, fill.maker_member);
      std::string key = "amend:" + std::to_string(row->order.id) + ":" + std::to_string(seq) + ":" +
                        std::to_string(fill.maker_order);
      TPH_TRY_ASSIGN(trade, settle(sql, ctx, product, "listed", buys ? member : *maker_member,
                                   buys ? *maker_member : member, fill.price_fen, fill.quantity,
                                   buys ? row->order.id : fill.maker_order,
                                   buys ? fill.maker_order : row->order.id, key));
      std::int64_t maker_left = maker->order.remaining - fill.quantity;
      detail::updateOrder(sql, fill.maker_order, maker_left, maker_left == 0 ? "filled" : "open",
                          std::nullopt, std::nullopt, now_ms);
      out.trades.push_back(std::move(trade));
    }
    row->order.price = price;
    row->order.remaining = outcome.remaining;
    row->order.state = outcome.remaining == 0 ? "filled" : outcome.rested ? "open" : "cancelled";
    detail::updateOrder(sql, row->order.id, row->order.remaining, row->order.state, std::nullopt,
                        std::nullopt, now_ms);
    out.order = row->order;
    out.self_trade_stopped = outcome.self_trade_stopped;
    return out;
  };
  try {
    auto result = db_.transaction(run);
    if (!result.ok() && product_id) dropBook(product_id);
    return result;
  } catch (...) {
    if (product_id) dropBook(product_id);
    throw;
  }
}

Result<std::vector<Order>> MarketService::ordersOf(const Principal& caller, std::int64_t member_id,
                                                   bool open_only) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Order>> {
    TPH_TRY(memberFor(sql, caller, member_id, true));
    std::vector<Order> out;
    std::string today = shanghaiDay(clock_.now());
    for (auto& row : detail::ordersOfMember(sql, member_id, open_only)) {
      // A day order of a past day is expired whether or not the sweep has run yet.
      if (row.order.state == "open" && row.order.time_in_force == TimeInForce::kDay &&
          row.order.trading_day < today) {
        if (open_only) continue;
        row.order.state = "expired";
      }
      out.push_back(orderOf(row));
    }
    return out;
  });
}

std::int64_t MarketService::expireDayOrders() {
  std::lock_guard lock(writer_);
  auto expired = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
    detail::lockMarket(sql);
    auto ids = detail::expireDayOrders(sql, std::nullopt, shanghaiDay(clock_.now()),
                                       toEpochMs(clock_.now()));
    if (!ids.empty()) {
      audit::appendAuditEvent(sql, clock_,
                              {"system", "market.order.expire", "market",
                               json{{"orders", ids}, {"day", shanghaiDay(clock_.now())}}});
    }
    return static_cast<std::int64_t>(ids.size());
  });
  books_.clear();
  return expired.value();
}

// ------------------------------------------------------------------------- block agreements

Result<BlockAgreement> MarketService::proposeBlock(const Principal& caller,
                                                   const ProposeBlockRequest& request) {
  TPH_TRY(checkKey(request.idempotency_key));
  TPH_TRY(checkPrice(request.price));
  TPH_TRY(checkQuantity(request.quantity));
  if (request.seller_member_id == request.buyer_member_id)
    return Error::invalid("buyer_member_id", "a block agreement is between two members");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<BlockAgreement> {
    detail::lockMarket(sql);
    if (auto existing = detail::findBlockByKey(sql, request.idempotency_key)) {
      const auto& a = existing->agreement;
      if (a.product != request.product || a.seller_member_id != request.seller_member_id ||
          a.buyer_member_id != request.buyer_member_id || a.price != request.price ||
          a.quantity != request.quantity)
        return Error::conflict("idempotency key was used for a different agreement",
                               "idempotency_key");
      return a;
    }
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    TPH_TRY_ASSIGN(product, tradableProduct(sql, request.product, now, options_));
    TPH_TRY_ASSIGN(seller, memberFor(sql, caller, request.seller_member_id, false));
    if (!detail::findMember(sql, request.buyer_member_id))
      return Error::notFound("no member " + std::to_string(request.buyer_member_id),
                             "buyer_member_id");
    if (request.quantity < product.block_min_units)
      return Error::invalid("quantity", "a block agreement is at least " +
                                            std::to_string(product.block_min_units) + " units");
    auto band = bandOf(sql, product, today, kBandBlockPercent);
    if (request.price < band.low || request.price > band.high)
      return Error::invalid("price_fen", "price must be within ±30% of the previous close " +
                                             band.previous_close.toString() + ": " +
                                             band.low.toString() + " to " + band.high.toString());
    auto reserved = detail::reserved(sql, seller.id, today);
    Units free = registry::heldUnits(sql, seller.registry_account_id, filterOf(product)) -
                 Units(reserved.units);
    if (free.value() < request.quantity)
      return Error::conflict(
          "free units of " + product.code + " are " + std::to_string(free.value()), "quantity");
    detail::BlockRow row;
    row.agreement = {0,
                     product.code,
                     seller.id,
                     request.buyer_member_id,
                     request.price,
                     request.quantity,
                     "proposed",
                     today,
                     std::nullopt};
    row.product_id = product.id;
    row.idempotency_key = request.idempotency_key;
    row.agreement.id = detail::insertBlock(sql, row, toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "market.block.propose",
                             "market_block:" + std::to_string(row.agreement.id),
                             json{{"product", product.code},
                                  {"seller", seller.id},
                                  {"buyer", request.buyer_member_id},
                                  {"price_fen", request.price.value()},
                                  {"quantity", request.quantity}}});
    return row.agreement;
  });
}

Result<BlockAgreement> MarketService::confirmBlock(const Principal& caller,
                                                   std::int64_t agreement_id) {
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<BlockAgreement> {
    detail::lockMarket(sql);
    auto row = detail::findBlock(sql, agreement_id);
    if (!row) return Error::notFound("no block agreement " + std::to_string(agreement_id));
    TPH_TRY_ASSIGN(buyer, memberFor(sql, caller, row->agreement.buyer_member_id, false));
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    if (row->agreement.state == "proposed" && row->agreement.trading_day < today) {
      detail::updateBlock(sql, agreement_id, "expired", std::nullopt, toEpochMs(now));
      return Error::conflict("the agreement expired at the end of " + row->agreement.trading_day,
                             "agreement");
    }
    if (row->agreement.state != "proposed")
      return Error::conflict("the agreement is " + row->agreement.state, "agreement");
    TPH_TRY_ASSIGN(product, tradableProduct(sql, row->agreement.product, now, options_));
    auto seller = detail::findMember(sql, row->agreement.seller_member_id);
    std::int64_t amount = checked::mul(row->agreement.price.value(), row->agreement.quantity);
    Fen need(amount + feeOf(amount, product.fee_bp));
    Fen free = cashBalance(sql, buyer.cash_account_id) -
               Fen(detail::reserved(sql, buyer.id, today).cash_fen);
    if (free < need)
      return Error::conflict(
          "free cash is " + free.toString() + ", the agreement needs " + need.toString(),
          "agreement");
    // The agreement stops reserving the seller's units as it settles.
    detail::updateBlock(sql, agreement_id, "confirmed", std::nullopt, toEpochMs(now));
    SettleContext ctx{clock_, options_, caller.auditActor(), today};
    TPH_TRY_ASSIGN(trade,
                   settle(sql, ctx, product, "block", buyer, *seller, row->agreement.price.value(),
                          row->agreement.quantity, std::nullopt, std::nullopt,
                          "block:" + std::to_string(agreement_id)));
    detail::updateBlock(sql, agreement_id, "confirmed", trade.id, toEpochMs(now));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.block.confirm",
         "market_block:" + std::to_string(agreement_id), json{{"trade", trade.id}}});
    row->agreement.state = "confirmed";
    row->agreement.trade = trade;
    return row->agreement;
  });
}

Result<BlockAgreement> MarketService::declineBlock(const Principal& caller,
                                                   std::int64_t agreement_id) {
  return endBlock(caller, agreement_id, false);
}

Result<BlockAgreement> MarketService::withdrawBlock(const Principal& caller,
                                                    std::int64_t agreement_id) {
  return endBlock(caller, agreement_id, true);
}

Result<BlockAgreement> MarketService::endBlock(const Principal& caller, std::int64_t agreement_id,
                                               bool as_seller) {
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<BlockAgreement> {
    detail::lockMarket(sql);
    auto row = detail::findBlock(sql, agreement_id);
    if (!row)
      return Error::notFound("no block agreement " + std::to_string(agreement_id), "agreement");
    auto party = memberFor(
        sql, caller, as_seller ? row->agreement.seller_member_id : row->agreement.buyer_member_id,
        false);
    if (!party)
      return Error::forbidden(as_seller ? "only the seller withdraws an agreement"
                                        : "only the buyer declines an agreement",
                              "agreement");
    if (row->agreement.state != "proposed")
      return Error::conflict("the agreement is " + row->agreement.state, "agreement");
    std::string state = as_seller ? "withdrawn" : "declined";
    detail::updateBlock(sql, agreement_id, state, std::nullopt, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "market.block." + state,
                             "market_block:" + std::to_string(agreement_id), json::object()});
    row->agreement.state = state;
    return row->agreement;
  });
}

Result<std::vector<BlockAgreement>> MarketService::blocksOf(const Principal& caller,
                                                            std::int64_t member_id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<BlockAgreement>> {
    TPH_TRY(memberFor(sql, caller, member_id, true));
    std::vector<BlockAgreement> out;
    for (auto& row : detail::blocksOfMember(sql, member_id)) out.push_back(row.agreement);
    return out;
  });
}

// ------------------------------------------------------------------------------ market data

Result<BookView> MarketService::book(const std::string& code) {
  std::lock_guard lock(writer_);
  return db_.read([&](soci::session& sql) -> Result<BookView> {
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    Instant now = clock_.now();
    std::string today = shanghaiDay(now);
    BookView view;
    view.product = code;
    // Day orders of past days are not in the book even before the sweep marks them.
    OrderBook fresh;
    for (const auto& row : detail::openOrders(sql, p->id)) {
      if (row.order.time_in_force == TimeInForce::kDay && row.order.trading_day < today) continue;
      fresh.restore({row.order.id, row.order.member_id, row.order.side, row.order.price.value(),
                     row.order.remaining, row.seq});
    }
    view.bids = fresh.levels(Side::kBuy, kPickLevels);
    view.asks = fresh.levels(Side::kSell, kPickLevels);
    view.band = bandOf(sql, *p, today, kBandListedPercent);
    view.open_now = tradableProduct(sql, code, now, options_).ok();
    return view;
  });
}

Result<std::vector<Trade>> MarketService::trades(const std::string& code, int limit) {
  if (limit < 1 || limit > kListMaxLimit)
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kListMaxLimit));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Trade>> {
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    return detail::tradesOf(sql, p->id, limit);
  });
}

Result<std::vector<DailyBar>> MarketService::daily(const std::string& code, int limit) {
  if (limit < 1 || limit > kListMaxLimit)
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kListMaxLimit));
  return db_.read([&](soci::session& sql) -> Result<std::vector<DailyBar>> {
    auto p = detail::findProduct(sql, code);
    if (!p) return Error::notFound("no product " + code, "product");
    return detail::dailyBars(sql, p->id, limit);
  });
}

}  // namespace tph::market
