#include "market/market_store.h"

#include <stdexcept>

#include "registry/registry_ledger.h"
#include "registry/serial.h"
#include "store/database.h"

namespace tph::market::detail {

namespace {

using store::rowInt64;

constexpr const char* kProductSelect =
    "SELECT id, code, name, methodology_id, region_code, vintage_from, vintage_to, "
    "effective_from_ms, suspended, reference_price_fen, sessions, block_min_units, fee_bp "
    "FROM market_products ";

Product productFrom(const soci::row& r) {
  Product p;
  p.id = rowInt64(r, 0);
  p.code = r.get<std::string>(1);
  p.name = r.get<std::string>(2);
  p.methodology = r.get<std::string>(3);
  p.region = r.get<std::string>(4);
  p.vintage_from = static_cast<int>(rowInt64(r, 5));
  p.vintage_to = static_cast<int>(rowInt64(r, 6));
  p.effective_from = fromEpochMs(rowInt64(r, 7));
  p.suspended = rowInt64(r, 8) != 0;
  p.reference_price = Fen(rowInt64(r, 9));
  p.sessions = r.get<std::string>(10);
  p.block_min_units = rowInt64(r, 11);
  p.fee_bp = static_cast<int>(rowInt64(r, 12));
  return p;
}

constexpr const char* kMemberSelect =
    "SELECT m.id, m.registry_account_id, m.cash_account_id, a.account_no, m.name, m.kind "
    "FROM market_members m JOIN registry_accounts a ON a.id = m.registry_account_id ";

MemberRow memberFrom(const soci::row& r) {
  return {rowInt64(r, 0),        rowInt64(r, 1),        rowInt64(r, 2),
          r.get<std::string>(3), r.get<std::string>(4), r.get<std::string>(5)};
}

constexpr const char* kOrderSelect =
    "SELECT o.id, p.code, o.member_id, o.side, o.price_fen, o.quantity, o.remaining, "
    "o.time_in_force, o.state, o.trading_day, o.created_at_ms, o.product_id, o.seq, "
    "o.idempotency_key FROM market_orders o JOIN market_products p ON p.id = o.product_id ";

OrderRow orderFrom(const soci::row& r) {
  OrderRow row;
  Order& o = row.order;
  o.id = rowInt64(r, 0);
  o.product = r.get<std::string>(1);
  o.member_id = rowInt64(r, 2);
  o.side = r.get<std::string>(3) == "buy" ? Side::kBuy : Side::kSell;
  o.price = Fen(rowInt64(r, 4));
  o.quantity = rowInt64(r, 5);
  o.remaining = rowInt64(r, 6);
  o.time_in_force =
      r.get<std::string>(7) == "gtc" ? TimeInForce::kGoodTillCancelled : TimeInForce::kDay;
  o.state = r.get<std::string>(8);
  o.trading_day = r.get<std::string>(9);
  o.created_at = fromEpochMs(rowInt64(r, 10));
  row.product_id = rowInt64(r, 11);
  row.seq = rowInt64(r, 12);
  row.idempotency_key = r.get<std::string>(13);
  return row;
}

constexpr const char* kTradeSelect =
    "SELECT t.id, p.code, t.mode, t.buyer_member_id, t.seller_member_id, t.price_fen, "
    "t.quantity, t.amount_fen, t.buyer_fee_fen, t.seller_fee_fen, t.trading_day, t.at_ms, "
    "t.registry_operation_id FROM market_trades t JOIN market_products p ON p.id = t.product_id ";

Trade tradeFrom(soci::session& sql, const soci::row& r) {
  Trade t;
  t.id = rowInt64(r, 0);
  t.product = r.get<std::string>(1);
  t.mode = r.get<std::string>(2);
  t.buyer_member_id = rowInt64(r, 3);
  t.seller_member_id = rowInt64(r, 4);
  t.price = Fen(rowInt64(r, 5));
  t.quantity = rowInt64(r, 6);
  t.amount = Fen(rowInt64(r, 7));
  t.buyer_fee = Fen(rowInt64(r, 8));
  t.seller_fee = Fen(rowInt64(r, 9));
  t.trading_day = r.get<std::string>(10);
  t.at = fromEpochMs(rowInt64(r, 11));
  long long op = rowInt64(r, 12);
  soci::rowset<soci::row> ranges =
      (sql.prepare << "SELECT i.region_code, i.methodology_id, i.vintage_year, r.batch_id, "
                      "r.first_unit, r.last_unit FROM registry_operation_blocks r JOIN "
                      "registry_issuances i ON i.batch_id = r.batch_id WHERE r.operation_id = :op "
                      "ORDER BY r.batch_id, r.first_unit",
       soci::use(op));
  for (const auto& x : ranges) {
    t.serials.push_back(registry::formatSerial({x.get<std::string>(0), x.get<std::string>(1),
                                                static_cast<int>(rowInt64(x, 2)), rowInt64(x, 3),
                                                rowInt64(x, 4), rowInt64(x, 5)}));
  }
  return t;
}

constexpr const char* kBlockSelect =
    "SELECT b.id, p.code, b.seller_member_id, b.buyer_member_id, b.price_fen, b.quantity, "
    "b.state, b.trading_day, b.product_id, b.trade_id, b.idempotency_key "
    "FROM market_block_agreements b JOIN market_products p ON p.id = b.product_id ";

BlockRow blockFrom(soci::session& sql, const soci::row& r) {
  BlockRow row;
  auto& a = row.agreement;
  a.id = rowInt64(r, 0);
  a.product = r.get<std::string>(1);
  a.seller_member_id = rowInt64(r, 2);
  a.buyer_member_id = rowInt64(r, 3);
  a.price = Fen(rowInt64(r, 4));
  a.quantity = rowInt64(r, 5);
  a.state = r.get<std::string>(6);
  a.trading_day = r.get<std::string>(7);
  row.product_id = rowInt64(r, 8);
  if (r.get_indicator(9) != soci::i_null) {
    row.trade_id = rowInt64(r, 9);
    a.trade = tradeById(sql, *row.trade_id);
  }
  row.idempotency_key = r.get<std::string>(10);
  return row;
}

constexpr const char* kAuctionSelect =
    "SELECT a.id, p.code, a.announcer_member_id, a.side, a.quantity, a.reserve_price_fen, "
    "a.opens_at_ms, a.closes_at_ms, a.state, a.cleared_quantity, a.cleared_amount_fen, "
    "a.low_price_fen, a.high_price_fen, a.bids_count, a.closed_at_ms, a.product_id, "
    "a.idempotency_key FROM market_auctions a JOIN market_products p ON p.id = a.product_id ";

AuctionRow auctionFrom(const soci::row& r) {
  AuctionRow row;
  Auction& a = row.auction;
  a.id = rowInt64(r, 0);
  a.product = r.get<std::string>(1);
  a.announcer_member_id = rowInt64(r, 2);
  a.side = r.get<std::string>(3) == "buy" ? Side::kBuy : Side::kSell;
  a.quantity = rowInt64(r, 4);
  a.reserve_price = Fen(rowInt64(r, 5));
  a.opens_at = fromEpochMs(rowInt64(r, 6));
  a.closes_at = fromEpochMs(rowInt64(r, 7));
  a.state = r.get<std::string>(8);
  a.cleared_quantity = rowInt64(r, 9);
  a.cleared_amount = Fen(rowInt64(r, 10));
  if (r.get_indicator(11) != soci::i_null) a.low_price = Fen(rowInt64(r, 11));
  if (r.get_indicator(12) != soci::i_null) a.high_price = Fen(rowInt64(r, 12));
  a.bids_count = rowInt64(r, 13);
  if (r.get_indicator(14) != soci::i_null) a.closed_at = fromEpochMs(rowInt64(r, 14));
  row.product_id = rowInt64(r, 15);
  row.idempotency_key = r.get<std::string>(16);
  return row;
}

constexpr const char* kBidSelect =
    "SELECT id, auction_id, member_id, price_fen, quantity, filled, state, trade_id, at_ms, seq, "
    "idempotency_key FROM market_auction_bids ";

BidRow bidFrom(const soci::row& r) {
  BidRow row;
  AuctionBid& b = row.bid;
  b.id = rowInt64(r, 0);
  b.auction_id = rowInt64(r, 1);
  b.member_id = rowInt64(r, 2);
  b.price = Fen(rowInt64(r, 3));
  b.quantity = rowInt64(r, 4);
  b.filled = rowInt64(r, 5);
  b.state = r.get<std::string>(6);
  if (r.get_indicator(7) != soci::i_null) b.trade_id = rowInt64(r, 7);
  b.at = fromEpochMs(rowInt64(r, 8));
  row.seq = rowInt64(r, 9);
  row.idempotency_key = r.get<std::string>(10);
  return row;
}

}  // namespace

void lockMarket(soci::session& sql) {
  if (store::backendOf(sql) == store::Backend::kPostgresql)
    sql << "SELECT pg_advisory_xact_lock(7007)";
}

std::optional<Product> findProduct(soci::session& sql, const std::string& code) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kProductSelect) + "WHERE code = :c", soci::use(code));
  for (const auto& r : rows) return productFrom(r);
  return std::nullopt;
}

std::optional<Product> findProductById(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kProductSelect) + "WHERE id = :i", soci::use(i));
  for (const auto& r : rows) return productFrom(r);
  return std::nullopt;
}

std::vector<Product> listProducts(soci::session& sql) {
  soci::rowset<soci::row> rows = (sql.prepare << std::string(kProductSelect) + "ORDER BY code");
  std::vector<Product> out;
  for (const auto& r : rows) out.push_back(productFrom(r));
  return out;
}

std::int64_t insertProduct(soci::session& sql, const Product& p, const std::string& actor,
                           std::int64_t now_ms) {
  long long id = 0, effective = toEpochMs(p.effective_from), price = p.reference_price.value(),
            block = p.block_min_units, now = now_ms;
  int from = p.vintage_from, to = p.vintage_to, fee = p.fee_bp;
  sql << "INSERT INTO market_products (code, name, methodology_id, region_code, vintage_from, "
         "vintage_to, effective_from_ms, suspended, reference_price_fen, sessions, "
         "block_min_units, fee_bp, created_by, created_at_ms, updated_at_ms) VALUES (:c, :n, :m, "
         ":r, :vf, :vt, :e, 0, :p, :s, :b, :f, :a, :t, :t2) RETURNING id",
      soci::use(p.code), soci::use(p.name), soci::use(p.methodology), soci::use(p.region),
      soci::use(from), soci::use(to), soci::use(effective), soci::use(price), soci::use(p.sessions),
      soci::use(block), soci::use(fee), soci::use(actor), soci::use(now), soci::use(now),
      soci::into(id);
  return id;
}

void setProductSuspended(soci::session& sql, std::int64_t id, bool suspended, std::int64_t now_ms) {
  long long i = id, now = now_ms;
  int s = suspended ? 1 : 0;
  sql << "UPDATE market_products SET suspended = :s, updated_at_ms = :t WHERE id = :i",
      soci::use(s), soci::use(now), soci::use(i);
}

std::optional<MemberRow> findMember(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kMemberSelect) + "WHERE m.id = :i", soci::use(i));
  for (const auto& r : rows) return memberFrom(r);
  return std::nullopt;
}

std::optional<MemberRow> findMemberByAccount(soci::session& sql, std::int64_t registry_account_id) {
  long long i = registry_account_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kMemberSelect) + "WHERE m.registry_account_id = :i",
       soci::use(i));
  for (const auto& r : rows) return memberFrom(r);
  return std::nullopt;
}

std::vector<MemberRow> membersOfUser(soci::session& sql, std::int64_t user_id) {
  long long u = user_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kMemberSelect) +
                          "JOIN registry_account_members x ON x.account_id = m.registry_account_id "
                          "WHERE x.user_id = :u ORDER BY m.id",
       soci::use(u));
  std::vector<MemberRow> out;
  for (const auto& r : rows) out.push_back(memberFrom(r));
  return out;
}

std::int64_t insertMember(soci::session& sql, std::int64_t registry_account_id,
                          std::int64_t cash_account_id, const std::string& name,
                          const std::string& kind, const std::string& actor, std::int64_t now_ms) {
  long long id = 0, a = registry_account_id, c = cash_account_id, now = now_ms;
  sql << "INSERT INTO market_members (registry_account_id, cash_account_id, name, kind, "
         "created_by, created_at_ms) VALUES (:a, :c, :n, :k, :b, :t) RETURNING id",
      soci::use(a), soci::use(c), soci::use(name), soci::use(kind), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

Reserved reserved(soci::session& sql, std::int64_t member_id, const std::string& today) {
  Reserved out;
  long long m = member_id;
  {
    // Summed in SQL: a member may have thousands of open orders, and this runs on every order.
    // The fee is rounded down per order, as each order reserves it.
    long long cash = 0, units = 0;
    soci::indicator cash_ind, units_ind;
    sql << "SELECT SUM(CASE WHEN o.side = 'buy' THEN o.remaining * o.price_fen + "
           "(o.remaining * o.price_fen * p.fee_bp) / 10000 ELSE 0 END), "
           "SUM(CASE WHEN o.side = 'sell' THEN o.remaining ELSE 0 END) FROM market_orders o "
           "JOIN market_products p ON p.id = o.product_id WHERE o.member_id = :m AND "
           "o.state = 'open' AND (o.time_in_force = 'gtc' OR o.trading_day >= :d)",
        soci::use(m), soci::use(today), soci::into(cash, cash_ind), soci::into(units, units_ind);
    if (cash_ind != soci::i_null) out.cash_fen = cash;
    if (units_ind != soci::i_null) out.units = units;
  }
  long long blocks = 0;
  soci::indicator ind;
  sql << "SELECT SUM(quantity) FROM market_block_agreements WHERE seller_member_id = :m AND "
         "state = 'proposed' AND trading_day >= :d",
      soci::use(m), soci::use(today), soci::into(blocks, ind);
  if (ind != soci::i_null) out.units = checked::add(out.units, blocks);
  auto addCash = [&](std::int64_t price, std::int64_t quantity, std::int64_t fee_bp) {
    std::int64_t amount = checked::mul(price, quantity);
    out.cash_fen = checked::add(out.cash_fen, amount + checked::mul(amount, fee_bp) / 10'000);
  };
  // Announced auctions not yet cleared: a sale reserves its units, a purchase the most it may
  // cost (every unit at the reserve price, with the fee).
  soci::rowset<soci::row> auctions =
      (sql.prepare << "SELECT a.side, a.quantity, a.reserve_price_fen, p.fee_bp FROM "
                      "market_auctions a JOIN market_products p ON p.id = a.product_id WHERE "
                      "a.announcer_member_id = :m AND a.state = 'open'",
       soci::use(m));
  for (const auto& r : auctions) {
    if (r.get<std::string>(0) == "sell")
      out.units = checked::add(out.units, rowInt64(r, 1));
    else
      addCash(rowInt64(r, 2), rowInt64(r, 1), rowInt64(r, 3));
  }
  // Sealed bids: a bid in a sale reserves its cash, an offer in a purchase its units.
  soci::rowset<soci::row> bids =
      (sql.prepare << "SELECT a.side, b.quantity, b.price_fen, p.fee_bp FROM market_auction_bids b "
                      "JOIN market_auctions a ON a.id = b.auction_id JOIN market_products p ON "
                      "p.id = a.product_id WHERE b.member_id = :m AND b.state = 'sealed'",
       soci::use(m));
  for (const auto& r : bids) {
    if (r.get<std::string>(0) == "sell")
      addCash(rowInt64(r, 2), rowInt64(r, 1), rowInt64(r, 3));
    else
      out.units = checked::add(out.units, rowInt64(r, 1));
  }
  return out;
}

std::optional<OrderRow> findOrder(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kOrderSelect) + "WHERE o.id = :i", soci::use(i));
  for (const auto& r : rows) return orderFrom(r);
  return std::nullopt;
}

std::optional<OrderRow> findOrderByKey(soci::session& sql, const std::string& key) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kOrderSelect) + "WHERE o.idempotency_key = :k", soci::use(key));
  for (const auto& r : rows) return orderFrom(r);
  return std::nullopt;
}

std::int64_t nextSeq(soci::session& sql) {
  long long seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM market_orders", soci::into(seq, ind);
  return ind == soci::i_null ? 1 : seq + 1;
}

std::int64_t insertOrder(soci::session& sql, const OrderRow& row, const std::string& actor,
                         std::int64_t now_ms) {
  const Order& o = row.order;
  long long id = 0, product = row.product_id, member = o.member_id, price = o.price.value(),
            qty = o.quantity, remaining = o.remaining, seq = row.seq, now = now_ms;
  std::string side = o.side == Side::kBuy ? "buy" : "sell";
  std::string tif = o.time_in_force == TimeInForce::kDay ? "day" : "gtc";
  sql << "INSERT INTO market_orders (product_id, member_id, side, price_fen, quantity, remaining, "
         "time_in_force, state, trading_day, seq, idempotency_key, placed_by, created_at_ms, "
         "updated_at_ms) VALUES (:p, :m, :s, :pr, :q, :r, :tif, :st, :d, :seq, :k, :a, :t, :t2) "
         "RETURNING id",
      soci::use(product), soci::use(member), soci::use(side), soci::use(price), soci::use(qty),
      soci::use(remaining), soci::use(tif), soci::use(o.state), soci::use(o.trading_day),
      soci::use(seq), soci::use(row.idempotency_key), soci::use(actor), soci::use(now),
      soci::use(now), soci::into(id);
  return id;
}

void updateOrder(soci::session& sql, std::int64_t id, std::int64_t remaining,
                 const std::string& state, std::optional<std::int64_t> price_fen,
                 std::optional<std::int64_t> seq, std::int64_t now_ms) {
  long long i = id, r = remaining, now = now_ms, p = price_fen.value_or(0), s = seq.value_or(0);
  soci::statement st =
      (sql.prepare << "UPDATE market_orders SET remaining = :r, state = :st, "
                      "price_fen = CASE WHEN :p > 0 THEN :p2 ELSE price_fen END, "
                      "seq = CASE WHEN :s > 0 THEN :s2 ELSE seq END, updated_at_ms = :t "
                      "WHERE id = :i",
       soci::use(r), soci::use(state), soci::use(p), soci::use(p), soci::use(s), soci::use(s),
       soci::use(now), soci::use(i));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("market order " + std::to_string(id) + " vanished while updating");
}

std::vector<OrderRow> openOrders(soci::session& sql, std::int64_t product_id) {
  long long p = product_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kOrderSelect) +
                          "WHERE o.product_id = :p AND o.state = 'open' ORDER BY o.seq",
       soci::use(p));
  std::vector<OrderRow> out;
  for (const auto& r : rows) out.push_back(orderFrom(r));
  return out;
}

std::vector<OrderRow> ordersOfMember(soci::session& sql, std::int64_t member_id, bool open_only) {
  long long m = member_id;
  std::string q = std::string(kOrderSelect) + "WHERE o.member_id = :m";
  if (open_only) q += " AND o.state = 'open'";
  q += " ORDER BY o.id DESC LIMIT 500";
  soci::rowset<soci::row> rows = (sql.prepare << q, soci::use(m));
  std::vector<OrderRow> out;
  for (const auto& r : rows) out.push_back(orderFrom(r));
  return out;
}

std::vector<std::int64_t> expireDayOrders(soci::session& sql,
                                          std::optional<std::int64_t> product_id,
                                          const std::string& today, std::int64_t now_ms) {
  long long p = product_id.value_or(0), now = now_ms;
  std::vector<std::int64_t> ids;
  // The conditions match the partial index market_orders_open_day, so this costs what expires,
  // not what is open.
  std::string which = "WHERE state = 'open' AND time_in_force = 'day' AND trading_day < :d";
  // "+product_id" keeps SQLite from preferring the (product_id, state) index, which would read
  // every open order of the product.
  if (product_id) which += " AND +product_id = :p";
  {
    soci::rowset<soci::row> rows =
        product_id ? (sql.prepare << "SELECT id FROM market_orders " + which, soci::use(today),
                      soci::use(p))
                   : (sql.prepare << "SELECT id FROM market_orders " + which, soci::use(today));
    for (const auto& r : rows) ids.push_back(rowInt64(r, 0));
  }
  if (!ids.empty()) {
    std::string update = "UPDATE market_orders SET state = 'expired', updated_at_ms = :t " + which;
    if (product_id)
      sql << update, soci::use(now), soci::use(today), soci::use(p);
    else
      sql << update, soci::use(now), soci::use(today);
  }
  return ids;
}

std::int64_t insertTrade(soci::session& sql, const TradeRow& row, std::int64_t now_ms) {
  long long id = 0, product = row.product_id, buyer = row.buyer, seller = row.seller,
            price = row.price_fen, qty = row.quantity, amount = checked::mul(price, qty),
            bf = row.buyer_fee, sf = row.seller_fee, op = row.operation_id,
            cash = row.cash_entry_id, now = now_ms, bo = row.buy_order.value_or(0),
            so = row.sell_order.value_or(0);
  soci::indicator bo_ind = row.buy_order ? soci::i_ok : soci::i_null,
                  so_ind = row.sell_order ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO market_trades (product_id, mode, buyer_member_id, seller_member_id, "
         "buy_order_id, sell_order_id, price_fen, quantity, amount_fen, buyer_fee_fen, "
         "seller_fee_fen, registry_operation_id, cash_entry_id, trading_day, at_ms) VALUES (:p, "
         ":mode, :b, :s, :bo, :so, :pr, :q, :a, :bf, :sf, :op, :c, :d, :t) RETURNING id",
      soci::use(product), soci::use(row.mode), soci::use(buyer), soci::use(seller),
      soci::use(bo, bo_ind), soci::use(so, so_ind), soci::use(price), soci::use(qty),
      soci::use(amount), soci::use(bf), soci::use(sf), soci::use(op), soci::use(cash),
      soci::use(row.trading_day), soci::use(now), soci::into(id);
  return id;
}

std::vector<Trade> tradesOf(soci::session& sql, std::int64_t product_id, int limit) {
  long long p = product_id;
  int l = limit;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kTradeSelect) +
                          "WHERE t.product_id = :p ORDER BY t.id DESC LIMIT :l",
       soci::use(p), soci::use(l));
  std::vector<Trade> out;
  // Serials are read per trade with the same session, so collect the rows first.
  std::vector<std::int64_t> ids;
  for (const auto& r : rows) ids.push_back(rowInt64(r, 0));
  for (auto id : ids) out.push_back(*tradeById(sql, id));
  return out;
}

std::optional<Trade> tradeById(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::row r;
  sql << std::string(kTradeSelect) + "WHERE t.id = :i", soci::use(i), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return tradeFrom(sql, r);
}

std::vector<DailyBar> dailyBars(soci::session& sql, std::int64_t product_id, int limit) {
  long long p = product_id;
  int l = limit;
  std::vector<std::string> days;
  {
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT DISTINCT trading_day FROM market_trades WHERE product_id = :p "
                        "AND mode = 'listed' ORDER BY trading_day DESC LIMIT :l",
         soci::use(p), soci::use(l));
    for (const auto& r : rows) days.push_back(r.get<std::string>(0));
  }
  std::vector<DailyBar> out;
  for (auto it = days.rbegin(); it != days.rend(); ++it) {
    DailyBar bar;
    bar.day = *it;
    std::int64_t volume = 0, amount = 0;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT price_fen, quantity, amount_fen FROM market_trades WHERE "
                        "product_id = :p AND mode = 'listed' AND trading_day = :d ORDER BY id",
         soci::use(p), soci::use(*it));
    bool first = true;
    for (const auto& r : rows) {
      Fen price(rowInt64(r, 0));
      if (first) bar.open = bar.high = bar.low = price;
      first = false;
      bar.high = std::max(bar.high, price);
      bar.low = std::min(bar.low, price);
      volume += rowInt64(r, 1);
      amount += rowInt64(r, 2);
    }
    bar.volume = volume;
    bar.amount = Fen(amount);
    bar.close = Fen((amount + volume / 2) / volume);
    out.push_back(bar);
  }
  return out;
}

std::optional<std::int64_t> previousClose(soci::session& sql, std::int64_t product_id,
                                          const std::string& day) {
  long long p = product_id, amount = 0, volume = 0;
  std::string last;
  soci::indicator ind;
  sql << "SELECT MAX(trading_day) FROM market_trades WHERE product_id = :p AND mode = 'listed' "
         "AND trading_day < :d",
      soci::use(p), soci::use(day), soci::into(last, ind);
  if (ind == soci::i_null) return std::nullopt;
  sql << "SELECT SUM(amount_fen), SUM(quantity) FROM market_trades WHERE product_id = :p AND "
         "mode = 'listed' AND trading_day = :d",
      soci::use(p), soci::use(last), soci::into(amount), soci::into(volume);
  return (amount + volume / 2) / volume;
}

std::optional<BlockRow> findBlock(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::row r;
  sql << std::string(kBlockSelect) + "WHERE b.id = :i", soci::use(i), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return blockFrom(sql, r);
}

std::optional<BlockRow> findBlockByKey(soci::session& sql, const std::string& key) {
  soci::row r;
  sql << std::string(kBlockSelect) + "WHERE b.idempotency_key = :k", soci::use(key), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return blockFrom(sql, r);
}

std::vector<BlockRow> blocksOfMember(soci::session& sql, std::int64_t member_id) {
  long long m = member_id;
  int limit = kListMaxLimit;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kBlockSelect) +
                          "WHERE b.seller_member_id = :m OR b.buyer_member_id = :m2 "
                          "ORDER BY b.id DESC LIMIT :l",
       soci::use(m), soci::use(m), soci::use(limit));
  std::vector<BlockRow> out;
  for (const auto& r : rows) {
    BlockRow row;
    auto& a = row.agreement;
    a.id = rowInt64(r, 0);
    a.product = r.get<std::string>(1);
    a.seller_member_id = rowInt64(r, 2);
    a.buyer_member_id = rowInt64(r, 3);
    a.price = Fen(rowInt64(r, 4));
    a.quantity = rowInt64(r, 5);
    a.state = r.get<std::string>(6);
    a.trading_day = r.get<std::string>(7);
    row.product_id = rowInt64(r, 8);
    if (r.get_indicator(9) != soci::i_null) row.trade_id = rowInt64(r, 9);
    row.idempotency_key = r.get<std::string>(10);
    out.push_back(std::move(row));
  }
  // Trades are read after the rowset is done: one statement at a time on a session.
  for (auto& row : out)
    if (row.trade_id) row.agreement.trade = tradeById(sql, *row.trade_id);
  return out;
}

std::int64_t insertBlock(soci::session& sql, const BlockRow& row, std::int64_t now_ms) {
  const auto& a = row.agreement;
  long long id = 0, p = row.product_id, s = a.seller_member_id, b = a.buyer_member_id,
            price = a.price.value(), q = a.quantity, now = now_ms;
  sql << "INSERT INTO market_block_agreements (product_id, seller_member_id, buyer_member_id, "
         "price_fen, quantity, state, trading_day, idempotency_key, created_at_ms, updated_at_ms) "
         "VALUES (:p, :s, :b, :pr, :q, 'proposed', :d, :k, :t, :t2) RETURNING id",
      soci::use(p), soci::use(s), soci::use(b), soci::use(price), soci::use(q),
      soci::use(a.trading_day), soci::use(row.idempotency_key), soci::use(now), soci::use(now),
      soci::into(id);
  return id;
}

void updateBlock(soci::session& sql, std::int64_t id, const std::string& state,
                 std::optional<std::int64_t> trade_id, std::int64_t now_ms) {
  long long i = id, t = trade_id.value_or(0), now = now_ms;
  soci::indicator ind = trade_id ? soci::i_ok : soci::i_null;
  sql << "UPDATE market_block_agreements SET state = :s, trade_id = :t, updated_at_ms = :now "
         "WHERE id = :i",
      soci::use(state), soci::use(t, ind), soci::use(now), soci::use(i);
}

std::optional<AuctionRow> findAuction(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kAuctionSelect) + "WHERE a.id = :i", soci::use(i));
  for (const auto& r : rows) return auctionFrom(r);
  return std::nullopt;
}

std::optional<AuctionRow> findAuctionByKey(soci::session& sql, const std::string& key) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kAuctionSelect) + "WHERE a.idempotency_key = :k", soci::use(key));
  for (const auto& r : rows) return auctionFrom(r);
  return std::nullopt;
}

std::vector<AuctionRow> listAuctions(soci::session& sql, std::int64_t product_id,
                                     const std::string& state, int limit) {
  long long p = product_id;
  int l = limit;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kAuctionSelect) +
                          "WHERE (:p = 0 OR a.product_id = :p2) AND (:s = '' OR a.state = :s2) "
                          "ORDER BY a.id DESC LIMIT :l",
       soci::use(p), soci::use(p), soci::use(state), soci::use(state), soci::use(l));
  std::vector<AuctionRow> out;
  for (const auto& r : rows) out.push_back(auctionFrom(r));
  return out;
}

std::vector<std::int64_t> dueAuctions(soci::session& sql, std::int64_t now_ms) {
  long long now = now_ms;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM market_auctions WHERE state = 'open' AND closes_at_ms <= :t "
                      "ORDER BY closes_at_ms, id",
       soci::use(now));
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(rowInt64(r, 0));
  return out;
}

std::int64_t insertAuction(soci::session& sql, const AuctionRow& row, const std::string& actor,
                           std::int64_t now_ms) {
  const Auction& a = row.auction;
  long long id = 0, p = row.product_id, m = a.announcer_member_id, q = a.quantity,
            price = a.reserve_price.value(), opens = toEpochMs(a.opens_at),
            closes = toEpochMs(a.closes_at), now = now_ms;
  std::string side = a.side == Side::kBuy ? "buy" : "sell";
  sql << "INSERT INTO market_auctions (product_id, announcer_member_id, side, quantity, "
         "reserve_price_fen, opens_at_ms, closes_at_ms, state, idempotency_key, announced_by, "
         "created_at_ms) VALUES (:p, :m, :s, :q, :r, :o, :c, 'open', :k, :a, :t) RETURNING id",
      soci::use(p), soci::use(m), soci::use(side), soci::use(q), soci::use(price), soci::use(opens),
      soci::use(closes), soci::use(row.idempotency_key), soci::use(actor), soci::use(now),
      soci::into(id);
  return id;
}

void cancelAuction(soci::session& sql, std::int64_t id, const std::string& actor,
                   std::int64_t now_ms) {
  long long i = id, now = now_ms;
  sql << "UPDATE market_auctions SET state = 'cancelled', closed_at_ms = :t, closed_by = :a "
         "WHERE id = :i",
      soci::use(now), soci::use(actor), soci::use(i);
  sql << "UPDATE market_auction_bids SET state = 'cancelled', updated_at_ms = :t WHERE "
         "auction_id = :i AND state = 'sealed'",
      soci::use(now), soci::use(i);
}

void recordClearing(soci::session& sql, const Auction& a, const std::string& actor,
                    std::int64_t now_ms) {
  long long i = a.id, q = a.cleared_quantity, amount = a.cleared_amount.value(),
            low = a.low_price ? a.low_price->value() : 0,
            high = a.high_price ? a.high_price->value() : 0, bids = a.bids_count, now = now_ms;
  soci::indicator low_ind = a.low_price ? soci::i_ok : soci::i_null,
                  high_ind = a.high_price ? soci::i_ok : soci::i_null;
  soci::statement st =
      (sql.prepare << "UPDATE market_auctions SET state = 'cleared', cleared_quantity = :q, "
                      "cleared_amount_fen = :a, low_price_fen = :l, high_price_fen = :h, "
                      "bids_count = :b, closed_at_ms = :t, closed_by = :by WHERE id = :i AND "
                      "state = 'open'",
       soci::use(q), soci::use(amount), soci::use(low, low_ind), soci::use(high, high_ind),
       soci::use(bids), soci::use(now), soci::use(actor), soci::use(i));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("auction " + std::to_string(a.id) + " was not open at its clearing");
}

std::optional<BidRow> findBid(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kBidSelect) + "WHERE id = :i", soci::use(i));
  for (const auto& r : rows) return bidFrom(r);
  return std::nullopt;
}

std::optional<BidRow> findBidByKey(soci::session& sql, const std::string& key) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kBidSelect) + "WHERE idempotency_key = :k", soci::use(key));
  for (const auto& r : rows) return bidFrom(r);
  return std::nullopt;
}

std::vector<BidRow> bidsOfAuction(soci::session& sql, std::int64_t auction_id) {
  long long a = auction_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kBidSelect) + "WHERE auction_id = :a ORDER BY id", soci::use(a));
  std::vector<BidRow> out;
  for (const auto& r : rows) out.push_back(bidFrom(r));
  return out;
}

std::int64_t countSealedBids(soci::session& sql, std::int64_t auction_id) {
  long long a = auction_id, n = 0;
  sql << "SELECT COUNT(*) FROM market_auction_bids WHERE auction_id = :a AND state = 'sealed'",
      soci::use(a), soci::into(n);
  return n;
}

std::int64_t nextBidSeq(soci::session& sql) {
  long long seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM market_auction_bids", soci::into(seq, ind);
  return ind == soci::i_null ? 1 : seq + 1;
}

std::int64_t insertBid(soci::session& sql, const BidRow& row, const std::string& actor,
                       std::int64_t now_ms) {
  const AuctionBid& b = row.bid;
  long long id = 0, a = b.auction_id, m = b.member_id, price = b.price.value(), q = b.quantity,
            seq = row.seq, now = now_ms;
  sql << "INSERT INTO market_auction_bids (auction_id, member_id, price_fen, quantity, seq, "
         "state, idempotency_key, placed_by, at_ms, updated_at_ms) VALUES (:a, :m, :p, :q, :s, "
         "'sealed', :k, :by, :t, :t2) RETURNING id",
      soci::use(a), soci::use(m), soci::use(price), soci::use(q), soci::use(seq),
      soci::use(row.idempotency_key), soci::use(actor), soci::use(now), soci::use(now),
      soci::into(id);
  return id;
}

void updateBid(soci::session& sql, const BidRow& row, std::int64_t now_ms) {
  const AuctionBid& b = row.bid;
  long long i = b.id, price = b.price.value(), q = b.quantity, seq = row.seq, filled = b.filled,
            trade = b.trade_id.value_or(0), at = toEpochMs(b.at), now = now_ms;
  soci::indicator trade_ind = b.trade_id ? soci::i_ok : soci::i_null;
  soci::statement st =
      (sql.prepare << "UPDATE market_auction_bids SET price_fen = :p, quantity = :q, seq = :s, "
                      "filled = :f, state = :st, trade_id = :tr, at_ms = :at, updated_at_ms = :t "
                      "WHERE id = :i",
       soci::use(price), soci::use(q), soci::use(seq), soci::use(filled), soci::use(b.state),
       soci::use(trade, trade_ind), soci::use(at), soci::use(now), soci::use(i));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("auction bid " + std::to_string(b.id) + " vanished while updating");
}

// ------------------------------------------------------------------------ journal writer-behind

std::uint64_t journalApplied(soci::session& sql, const std::string& journal) {
  long long seq = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT last_seq FROM market_journal_applied WHERE journal = :j", soci::use(journal),
      soci::into(seq, ind);
  return sql.got_data() && ind == soci::i_ok ? static_cast<std::uint64_t>(seq) : 0;
}

void setJournalApplied(soci::session& sql, const std::string& journal, std::uint64_t seq,
                       std::int64_t now_ms) {
  long long s = static_cast<long long>(seq), at = now_ms;
  sql << "INSERT INTO market_journal_applied (journal, last_seq, updated_at_ms) VALUES (:j, :s, "
         ":a) ON CONFLICT (journal) DO UPDATE SET last_seq = excluded.last_seq, "
         "updated_at_ms = excluded.updated_at_ms",
      soci::use(journal), soci::use(s), soci::use(at);
}

void mapJournalOrder(soci::session& sql, const std::string& journal, std::int64_t journal_order,
                     std::int64_t order_id) {
  long long j = journal_order, o = order_id;
  sql << "INSERT INTO market_journal_orders (journal, journal_order_id, order_id) VALUES (:n, "
         ":j, :o)",
      soci::use(journal), soci::use(j), soci::use(o);
}

std::optional<std::int64_t> journalOrder(soci::session& sql, const std::string& journal,
                                         std::int64_t journal_order) {
  long long j = journal_order, o = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT order_id FROM market_journal_orders WHERE journal = :n AND journal_order_id = :j",
      soci::use(journal), soci::use(j), soci::into(o, ind);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return static_cast<std::int64_t>(o);
}

}  // namespace tph::market::detail
