#include "market/sequencer.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "core/quantity.h"

namespace tph::market {

namespace {

// Record types. A record is what one command did, enough to redo it on the same state.
enum RecordType : std::uint8_t {
  kRecProduct = 1,
  kRecCash = 2,
  kRecUnits = 3,
  kRecPlace = 4,
  kRecCancel = 5,
  kRecAmend = 6,
  kRecPick = 7,
  kRecExpire = 8,
};

constexpr std::int64_t kPriceMaxFen = 100'000'000;
constexpr std::int64_t kOrderMaxUnits = 100'000'000;
constexpr std::int64_t kCashMaxFen = 1'000'000'000'000'000;

class Writer {
 public:
  void i64(std::int64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out_.append(b, 8);
  }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void str(const std::string& s) {
    i64(static_cast<std::int64_t>(s.size()));
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::int64_t i64() {
    need(8);
    std::int64_t v;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::string str() {
    auto n = i64();
    if (n < 0) throw std::runtime_error("journal record: negative length");
    need(static_cast<std::size_t>(n));
    std::string s(in_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  void need(std::size_t n) const {
    if (in_.size() - pos_ < n) throw std::runtime_error("journal record: truncated payload");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

std::int64_t feeOf(std::int64_t amount_fen, int fee_bp) {
  // In 128 bits: the largest order (10^16 fen) times 10,000 bp overflows 64.
  return static_cast<std::int64_t>(static_cast<__int128>(amount_fen) * fee_bp / 10'000);
}
//! What an open buy order reserves: its amount and its fee, rounded down per order.
std::int64_t cashReserve(std::int64_t price_fen, std::int64_t remaining, int fee_bp) {
  std::int64_t amount = checked::mul(price_fen, remaining);
  return checked::add(amount, feeOf(amount, fee_bp));
}

Error conflict(std::string message, std::string field) {
  return Error::conflict(std::move(message), std::move(field));
}

struct Holding {
  std::int64_t units = 0, reserved = 0;
};
struct MemberState {
  std::int64_t cash_fen = 0, cash_reserved_fen = 0;
  std::unordered_map<std::int64_t, Holding> holdings;  // by product
};

//! One fill as a record carries it.
struct RecFill {
  std::int64_t trade = 0, maker_order = 0, maker_member = 0, price_fen = 0, quantity = 0;
  std::int64_t fee_fen = 0;  //!< each side's
  bool operator==(const RecFill&) const = default;
};

}  // namespace

struct Sequencer::State {
  std::map<std::int64_t, SeqProduct> products;
  std::map<std::int64_t, OrderBook> books;
  std::unordered_map<std::int64_t, MemberState> members;
  std::unordered_map<std::int64_t, SeqOrder> orders;   // every order, open or done
  std::unordered_map<std::string, std::int64_t> keys;  // idempotency key → order (0: a pick)
  std::int64_t next_order = 1, next_trade = 1, next_priority = 1, fees_fen = 0;

  // -------------------------------------------------------------------------- invariants

  void check(std::int64_t member_id) const {
    auto it = members.find(member_id);
    if (it == members.end()) return;
    const MemberState& m = it->second;
    if (m.cash_reserved_fen < 0 || m.cash_fen < m.cash_reserved_fen)
      throw std::logic_error("sequencer: member " + std::to_string(member_id) + " holds " +
                             std::to_string(m.cash_fen) + " fen but reserves " +
                             std::to_string(m.cash_reserved_fen));
    for (const auto& [product, h] : m.holdings) {
      if (h.reserved < 0 || h.units < h.reserved)
        throw std::logic_error("sequencer: member " + std::to_string(member_id) + " holds " +
                               std::to_string(h.units) + " units of product " +
                               std::to_string(product) + " but reserves " +
                               std::to_string(h.reserved));
    }
  }

  const SeqProduct& product(std::int64_t id) const {
    auto it = products.find(id);
    if (it == products.end())
      throw std::logic_error("sequencer: a record names unknown product " + std::to_string(id));
    return it->second;
  }
  SeqOrder& orderRef(std::int64_t id) {
    auto it = orders.find(id);
    if (it == orders.end())
      throw std::logic_error("sequencer: a record names unknown order " + std::to_string(id));
    return it->second;
  }

  std::int64_t freeCash(std::int64_t member) const {
    auto it = members.find(member);
    return it == members.end() ? 0 : it->second.cash_fen - it->second.cash_reserved_fen;
  }
  std::int64_t freeUnits(std::int64_t member, std::int64_t product) const {
    auto it = members.find(member);
    if (it == members.end()) return 0;
    auto h = it->second.holdings.find(product);
    return h == it->second.holdings.end() ? 0 : h->second.units - h->second.reserved;
  }

  // -------------------------------------------------------------------------- reservations

  void reserve(const SeqOrder& o, std::int64_t sign) {
    MemberState& m = members[o.member];
    if (o.side == Side::kBuy) {
      m.cash_reserved_fen =
          checked::add(m.cash_reserved_fen,
                       sign * cashReserve(o.price_fen, o.remaining, product(o.product).fee_bp));
    } else {
      Holding& h = m.holdings[o.product];
      h.reserved = checked::add(h.reserved, sign * o.remaining);
    }
  }

  //! Delivery versus payment of one fill, in memory.
  SeqTrade settle(const SeqProduct& p, Side taker_side, std::int64_t taker_order,
                  std::int64_t taker_member, const Fill& fill, std::int64_t trade_id) {
    SeqOrder& maker = orderRef(fill.maker_order);
    reserve(maker, -1);
    maker.remaining -= fill.quantity;
    if (maker.remaining < 0) throw std::logic_error("sequencer: a maker filled beyond its size");
    if (maker.remaining == 0)
      maker.state = "filled";
    else
      reserve(maker, +1);
    bool taker_buys = taker_side == Side::kBuy;
    SeqTrade t;
    t.id = trade_id;
    t.product = p.id;
    t.buy_order = taker_buys ? taker_order : maker.id;
    t.sell_order = taker_buys ? maker.id : taker_order;
    t.buyer = taker_buys ? taker_member : maker.member;
    t.seller = taker_buys ? maker.member : taker_member;
    t.price_fen = fill.price_fen;
    t.quantity = fill.quantity;
    std::int64_t amount = checked::mul(t.price_fen, t.quantity);
    t.buyer_fee_fen = feeOf(amount, p.fee_bp);
    t.seller_fee_fen = t.buyer_fee_fen;
    MemberState& buyer = members[t.buyer];
    MemberState& seller = members[t.seller];
    buyer.cash_fen = checked::sub(buyer.cash_fen, checked::add(amount, t.buyer_fee_fen));
    seller.cash_fen = checked::add(seller.cash_fen, checked::sub(amount, t.seller_fee_fen));
    fees_fen = checked::add(fees_fen, t.buyer_fee_fen + t.seller_fee_fen);
    buyer.holdings[p.id].units += t.quantity;
    seller.holdings[p.id].units -= t.quantity;
    return t;
  }

  //! Matches `o` (not in the book yet) and rests what is left; answers the trades. `recorded`
  //! (replay) are the fills the journal holds: matching must give exactly those.
  std::vector<SeqTrade> match(SeqOrder& o, SeqAck& ack, std::vector<RecFill>& fills,
                              const std::vector<RecFill>* recorded) {
    const SeqProduct& p = product(o.product);
    auto outcome =
        books[o.product].submit({o.id, o.member, o.side, o.price_fen, o.remaining, o.priority});
    std::vector<SeqTrade> trades;
    for (const auto& f : outcome.fills) {
      std::int64_t trade_id = next_trade++;
      trades.push_back(settle(p, o.side, o.id, o.member, f, trade_id));
      fills.push_back({trade_id, f.maker_order, f.maker_member, f.price_fen, f.quantity,
                       trades.back().buyer_fee_fen});
    }
    if (recorded && *recorded != fills)
      throw std::runtime_error("journal replay: order " + std::to_string(o.id) +
                               " matched differently than recorded");
    o.remaining = outcome.remaining;
    o.state = outcome.remaining == 0 ? "filled" : outcome.rested ? "open" : "cancelled";
    if (o.state == "open") reserve(o, +1);
    ack.order = o.id;
    ack.remaining = o.remaining;
    ack.state = o.state;
    ack.self_trade_stopped = outcome.self_trade_stopped;
    for (const auto& t : trades) {
      check(t.buyer);
      check(t.seller);
    }
    check(o.member);
    return trades;
  }

  void cancel(SeqOrder& o, const char* state) {
    if (!books[o.product].cancel(o.id))
      throw std::logic_error("sequencer: open order " + std::to_string(o.id) + " not in its book");
    reserve(o, -1);
    o.state = state;
  }

  // -------------------------------------------------------------------------- snapshot

  std::string snapshot() const {
    Writer w;
    w.i64(next_order);
    w.i64(next_trade);
    w.i64(next_priority);
    w.i64(fees_fen);
    w.i64(static_cast<std::int64_t>(products.size()));
    for (const auto& [id, p] : products) {
      w.i64(p.id);
      w.i64(p.fee_bp);
      w.i64(p.band_low_fen);
      w.i64(p.band_high_fen);
      w.u8(p.open);
    }
    w.i64(static_cast<std::int64_t>(members.size()));
    for (const auto& [id, m] : members) {
      w.i64(id);
      w.i64(m.cash_fen);
      w.i64(static_cast<std::int64_t>(m.holdings.size()));
      for (const auto& [product, h] : m.holdings) {
        w.i64(product);
        w.i64(h.units);
      }
    }
    w.i64(static_cast<std::int64_t>(orders.size()));
    for (const auto& [id, o] : orders) {
      w.i64(o.id);
      w.i64(o.product);
      w.i64(o.member);
      w.u8(o.side == Side::kBuy ? 0 : 1);
      w.i64(o.price_fen);
      w.i64(o.quantity);
      w.i64(o.remaining);
      w.i64(o.priority);
      w.u8(o.day);
      w.i64(o.trading_day);
      w.str(o.state);
      w.str(o.idempotency_key);
    }
    w.i64(static_cast<std::int64_t>(keys.size()));
    for (const auto& [key, order] : keys) {
      w.str(key);
      w.i64(order);
    }
    return std::move(w.bytes());
  }

  void load(std::string_view bytes) {
    Reader r(bytes);
    next_order = r.i64();
    next_trade = r.i64();
    next_priority = r.i64();
    fees_fen = r.i64();
    for (auto n = r.i64(); n > 0; --n) {
      SeqProduct p;
      p.id = r.i64();
      p.fee_bp = static_cast<int>(r.i64());
      p.band_low_fen = r.i64();
      p.band_high_fen = r.i64();
      p.open = r.u8() != 0;
      products[p.id] = p;
    }
    for (auto n = r.i64(); n > 0; --n) {
      MemberState& m = members[r.i64()];
      m.cash_fen = r.i64();
      for (auto k = r.i64(); k > 0; --k) {
        auto product = r.i64();
        m.holdings[product].units = r.i64();
      }
    }
    std::vector<const SeqOrder*> open;
    for (auto n = r.i64(); n > 0; --n) {
      SeqOrder o;
      o.id = r.i64();
      o.product = r.i64();
      o.member = r.i64();
      o.side = r.u8() == 0 ? Side::kBuy : Side::kSell;
      o.price_fen = r.i64();
      o.quantity = r.i64();
      o.remaining = r.i64();
      o.priority = r.i64();
      o.day = r.u8() != 0;
      o.trading_day = static_cast<std::int32_t>(r.i64());
      o.state = r.str();
      o.idempotency_key = r.str();
      auto& stored = orders[o.id] = std::move(o);
      if (stored.state == "open") open.push_back(&stored);
    }
    for (auto n = r.i64(); n > 0; --n) {
      auto key = r.str();
      keys[key] = r.i64();
    }
    if (!r.done()) throw std::runtime_error("journal snapshot: bytes left over");
    std::sort(open.begin(), open.end(),
              [](const SeqOrder* a, const SeqOrder* b) { return a->priority < b->priority; });
    for (const SeqOrder* o : open) {
      books[o->product].restore(
          {o->id, o->member, o->side, o->price_fen, o->remaining, o->priority});
      reserve(*o, +1);
    }
    for (const auto& [id, m] : members) check(id);
  }
};

namespace {

// ------------------------------------------------------------------------------ records

void putFills(Writer& w, const std::vector<RecFill>& fills) {
  w.i64(static_cast<std::int64_t>(fills.size()));
  for (const auto& f : fills) {
    w.i64(f.trade);
    w.i64(f.maker_order);
    w.i64(f.maker_member);
    w.i64(f.price_fen);
    w.i64(f.quantity);
    w.i64(f.fee_fen);
  }
}
std::vector<RecFill> getFills(Reader& r) {
  std::vector<RecFill> out;
  for (auto n = r.i64(); n > 0; --n) {
    RecFill f;
    f.trade = r.i64();
    f.maker_order = r.i64();
    f.maker_member = r.i64();
    f.price_fen = r.i64();
    f.quantity = r.i64();
    f.fee_fen = r.i64();
    out.push_back(f);
  }
  return out;
}
void putOrder(Writer& w, const SeqOrder& o) {
  w.i64(o.id);
  w.i64(o.priority);
  w.i64(o.product);
  w.i64(o.member);
  w.u8(o.side == Side::kBuy ? 0 : 1);
  w.i64(o.price_fen);
  w.i64(o.quantity);
  w.u8(o.day);
  w.i64(o.trading_day);
  w.str(o.idempotency_key);
}
SeqOrder getOrder(Reader& r) {
  SeqOrder o;
  o.id = r.i64();
  o.priority = r.i64();
  o.product = r.i64();
  o.member = r.i64();
  o.side = r.u8() == 0 ? Side::kBuy : Side::kSell;
  o.price_fen = r.i64();
  o.quantity = o.remaining = r.i64();
  o.day = r.u8() != 0;
  o.trading_day = static_cast<std::int32_t>(r.i64());
  o.idempotency_key = r.str();
  o.state = "open";
  return o;
}

//! A record applied to the state: the same code for a live command (after its checks) and for
//! replay. `recorded` fills (replay) must equal what matching gives now.
struct Applier {
  Sequencer::State& s;

  SeqAck product(const SeqProduct& p) {
    s.products[p.id] = p;
    return {};
  }
  SeqAck cash(std::int64_t member, std::int64_t delta) {
    MemberState& m = s.members[member];
    m.cash_fen = checked::add(m.cash_fen, delta);
    s.check(member);
    return {};
  }
  SeqAck units(std::int64_t member, std::int64_t product, std::int64_t delta) {
    Holding& h = s.members[member].holdings[product];
    h.units = checked::add(h.units, delta);
    s.check(member);
    return {};
  }
  SeqAck place(SeqOrder o, std::vector<RecFill>& fills, const std::vector<RecFill>* recorded) {
    s.next_order = std::max(s.next_order, o.id + 1);
    s.next_priority = std::max(s.next_priority, o.priority + 1);
    if (!o.idempotency_key.empty()) s.keys[o.idempotency_key] = o.id;
    SeqOrder& stored = s.orders[o.id] = std::move(o);
    SeqAck ack;
    ack.trades = s.match(stored, ack, fills, recorded);
    return ack;
  }
  SeqAck cancel(std::int64_t order_id) {
    SeqOrder& o = s.orderRef(order_id);
    s.cancel(o, "cancelled");
    return {0, o.id, o.remaining, o.state, false, false, {}, 0};
  }
  //! kept: a lower quantity at the same price; else the order re-enters at `priority`.
  SeqAck amend(std::int64_t order_id, std::int64_t price_fen, std::int64_t remaining, bool kept,
               std::int64_t priority, std::vector<RecFill>& fills,
               const std::vector<RecFill>* recorded) {
    SeqOrder& o = s.orderRef(order_id);
    if (kept) {
      s.reserve(o, -1);
      if (!s.books[o.product].reduce(o.id, remaining))
        throw std::logic_error("sequencer: cannot reduce order " + std::to_string(o.id));
      o.remaining = remaining;
      s.reserve(o, +1);
      return {0, o.id, o.remaining, o.state, false, false, {}, 0};
    }
    s.cancel(o, "open");
    s.next_priority = std::max(s.next_priority, priority + 1);
    o.price_fen = price_fen;
    o.remaining = remaining;
    o.priority = priority;
    SeqAck ack;
    ack.trades = s.match(o, ack, fills, recorded);
    return ack;
  }
  SeqAck pick(const PickCommand& c, std::vector<RecFill>& fills,
              const std::vector<RecFill>* recorded) {
    const SeqProduct& p = s.product(c.product);
    auto taken = s.books[c.product].take(opposite(c.side), c.level, c.quantity, c.member);
    SeqAck ack;
    for (const auto& f : taken) {
      std::int64_t trade_id = s.next_trade++;
      ack.trades.push_back(s.settle(p, c.side, 0, c.member, f, trade_id));
      fills.push_back({trade_id, f.maker_order, f.maker_member, f.price_fen, f.quantity,
                       ack.trades.back().buyer_fee_fen});
    }
    if (recorded && *recorded != fills)
      throw std::runtime_error("journal replay: a pick took differently than recorded");
    if (!fills.empty() && !c.idempotency_key.empty()) s.keys[c.idempotency_key] = 0;
    for (const auto& t : ack.trades) {
      s.check(t.buyer);
      s.check(t.seller);
    }
    return ack;
  }
  SeqAck expire(const std::vector<std::int64_t>& ids) {
    for (auto id : ids) s.cancel(s.orderRef(id), "expired");
    SeqAck ack;
    ack.expired = static_cast<std::int64_t>(ids.size());
    return ack;
  }
};

}  // namespace

// ------------------------------------------------------------------------------ Sequencer

namespace {

//! Checks a command against the state; on success answers the record to journal and the ack.
struct Decider {
  Sequencer::State& s;
  Writer& w;
  std::uint8_t type = 0;

  Result<SeqAck> operator()(const SeqProduct& p) {
    if (p.id <= 0) return Error::invalid("product", "a product id is positive");
    if (p.fee_bp < 0 || p.fee_bp > 10'000) return Error::invalid("fee_bp", "fee is 0-10000 bp");
    if (p.band_low_fen < 1 || p.band_high_fen < p.band_low_fen || p.band_high_fen > kPriceMaxFen)
      return Error::invalid("band", "the band is 1 ≤ low ≤ high ≤ " + std::to_string(kPriceMaxFen));
    // Open buy orders reserve their fee at the product's fee: it changes only without them.
    if (auto old = s.products.find(p.id); old != s.products.end() &&
                                          old->second.fee_bp != p.fee_bp &&
                                          !s.books[p.id].levels(Side::kBuy, 1).empty())
      return conflict("the fee changes only while no buy order is open", "fee_bp");
    type = kRecProduct;
    w.i64(p.id);
    w.i64(p.fee_bp);
    w.i64(p.band_low_fen);
    w.i64(p.band_high_fen);
    w.u8(p.open);
    return Applier{s}.product(p);
  }
  Result<SeqAck> operator()(const CashCommand& c) {
    if (c.delta_fen == 0 || c.delta_fen < -kCashMaxFen || c.delta_fen > kCashMaxFen)
      return Error::invalid("amount_fen", "the amount is nonzero, at most " +
                                              std::to_string(kCashMaxFen) + " fen either way");
    if (c.delta_fen < 0 && s.freeCash(c.member) < -c.delta_fen)
      return conflict("free cash is " + std::to_string(s.freeCash(c.member)) + " fen, not " +
                          std::to_string(-c.delta_fen),
                      "amount_fen");
    auto m = s.members.find(c.member);
    if (c.delta_fen > 0 && m != s.members.end() && m->second.cash_fen > kCashMaxFen - c.delta_fen)
      return conflict("cash would exceed " + std::to_string(kCashMaxFen) + " fen", "amount_fen");
    type = kRecCash;
    w.i64(c.member);
    w.i64(c.delta_fen);
    return Applier{s}.cash(c.member, c.delta_fen);
  }
  Result<SeqAck> operator()(const UnitsCommand& c) {
    if (!s.products.count(c.product)) return Error::notFound("no product", "product");
    if (c.delta == 0) return Error::invalid("quantity", "the quantity is nonzero");
    if (c.delta < 0 && s.freeUnits(c.member, c.product) < -c.delta)
      return conflict("free units are " + std::to_string(s.freeUnits(c.member, c.product)) +
                          ", not " + std::to_string(-c.delta),
                      "quantity");
    type = kRecUnits;
    w.i64(c.member);
    w.i64(c.product);
    w.i64(c.delta);
    return Applier{s}.units(c.member, c.product, c.delta);
  }

  Status tradable(std::int64_t product_id, std::int64_t price_fen, bool check_price) {
    auto p = s.products.find(product_id);
    if (p == s.products.end()) return Error::notFound("no product", "product");
    if (!p->second.open) return conflict("the market is closed for this product", "product");
    if (check_price && (price_fen < p->second.band_low_fen || price_fen > p->second.band_high_fen))
      return Error::invalid(
          "price_fen", "price must be within the band: " + std::to_string(p->second.band_low_fen) +
                           " to " + std::to_string(p->second.band_high_fen) + " fen");
    return {};
  }
  static Status quantityOk(std::int64_t q) {
    if (q < 1 || q > kOrderMaxUnits)
      return Error::invalid("quantity", "quantity is 1 to " + std::to_string(kOrderMaxUnits));
    return {};
  }
  //! Whether the member can cover `quantity` more on `side` at `price_fen`, besides `released`
  //! (what the order being amended reserves now).
  Status covered(std::int64_t member, std::int64_t product, Side side, std::int64_t price_fen,
                 std::int64_t quantity, std::int64_t released) {
    if (side == Side::kBuy) {
      std::int64_t need = cashReserve(price_fen, quantity, s.product(product).fee_bp);
      std::int64_t free = s.freeCash(member) + released;
      if (free < need)
        return conflict("free cash is " + std::to_string(free) + " fen, the order needs " +
                            std::to_string(need),
                        "quantity");
    } else {
      std::int64_t free = s.freeUnits(member, product) + released;
      if (free < quantity)
        return conflict(
            "free units are " + std::to_string(free) + ", not " + std::to_string(quantity),
            "quantity");
    }
    return {};
  }

  Result<SeqAck> operator()(const PlaceCommand& c) {
    if (c.idempotency_key.empty() || c.idempotency_key.size() > kIdempotencyKeyMaxBytes)
      return Error::invalid("idempotency_key", "an idempotency key of 1-128 bytes is required");
    if (auto k = s.keys.find(c.idempotency_key); k != s.keys.end()) {
      auto o = s.orders.find(k->second);
      if (o == s.orders.end() || o->second.product != c.product || o->second.member != c.member ||
          o->second.side != c.side || o->second.quantity != c.quantity)
        return conflict("idempotency key " + c.idempotency_key + " was used for something else",
                        "idempotency_key");
      return SeqAck{0, o->second.id, o->second.remaining, o->second.state, false, true, {}, 0};
    }
    if (c.price_fen < 1 || c.price_fen > kPriceMaxFen)
      return Error::invalid("price_fen", "price is 1 to " + std::to_string(kPriceMaxFen) + " fen");
    TPH_TRY(quantityOk(c.quantity));
    if (c.trading_day <= 0) return Error::invalid("trading_day", "a trading day is required");
    TPH_TRY(tradable(c.product, c.price_fen, true));
    TPH_TRY(covered(c.member, c.product, c.side, c.price_fen, c.quantity, 0));
    SeqOrder o;
    o.id = s.next_order++;
    o.priority = s.next_priority++;
    o.product = c.product;
    o.member = c.member;
    o.side = c.side;
    o.price_fen = c.price_fen;
    o.quantity = o.remaining = c.quantity;
    o.day = c.day;
    o.trading_day = c.trading_day;
    o.idempotency_key = c.idempotency_key;
    type = kRecPlace;
    putOrder(w, o);
    std::vector<RecFill> fills;
    auto ack = Applier{s}.place(std::move(o), fills, nullptr);
    putFills(w, fills);
    w.u8(ack.self_trade_stopped);
    return ack;
  }

  Result<SeqOrder*> ownOpen(std::int64_t member, std::int64_t order_id) {
    auto o = s.orders.find(order_id);
    if (o == s.orders.end() || o->second.member != member)
      return Error::notFound("no order " + std::to_string(order_id) + " of this member", "order");
    if (o->second.state != "open")
      return conflict("order " + std::to_string(order_id) + " is " + o->second.state, "order");
    return &o->second;
  }

  Result<SeqAck> operator()(const CancelCommand& c) {
    TPH_TRY_ASSIGN(o, ownOpen(c.member, c.order));
    type = kRecCancel;
    w.i64(o->id);
    return Applier{s}.cancel(o->id);
  }

  Result<SeqAck> operator()(const AmendCommand& c) {
    if (!c.price_fen && !c.quantity)
      return Error::invalid("price_fen", "an amendment changes the price, the quantity or both");
    if (c.quantity) TPH_TRY(quantityOk(*c.quantity));
    TPH_TRY_ASSIGN(o, ownOpen(c.member, c.order));
    std::int64_t price = c.price_fen.value_or(o->price_fen);
    std::int64_t quantity = c.quantity.value_or(o->remaining);
    TPH_TRY(tradable(o->product, price, c.price_fen.has_value()));
    bool kept = price == o->price_fen && quantity <= o->remaining;
    std::int64_t priority = o->priority;
    if (!kept) {
      std::int64_t released = o->side == Side::kBuy ? cashReserve(o->price_fen, o->remaining,
                                                                  s.product(o->product).fee_bp)
                                                    : o->remaining;
      TPH_TRY(covered(o->member, o->product, o->side, price, quantity, released));
      priority = s.next_priority++;
    }
    type = kRecAmend;
    w.i64(o->id);
    w.i64(o->product);
    w.i64(o->member);
    w.u8(o->side == Side::kBuy ? 0 : 1);
    w.i64(price);
    w.i64(quantity);
    w.u8(kept);
    w.i64(priority);
    std::vector<RecFill> fills;
    auto ack = Applier{s}.amend(o->id, price, quantity, kept, priority, fills, nullptr);
    putFills(w, fills);
    w.u8(ack.self_trade_stopped);
    return ack;
  }

  Result<SeqAck> operator()(const PickCommand& c) {
    if (c.idempotency_key.empty() || c.idempotency_key.size() > kIdempotencyKeyMaxBytes)
      return Error::invalid("idempotency_key", "an idempotency key of 1-128 bytes is required");
    if (s.keys.count(c.idempotency_key)) {
      SeqAck dup;
      dup.duplicate = true;
      return dup;
    }
    if (c.level < 1 || c.level > kPickLevels)
      return Error::invalid("level", "level is 1-5: one of the best five price levels");
    TPH_TRY(quantityOk(c.quantity));
    TPH_TRY(tradable(c.product, 0, false));
    auto levels = s.books[c.product].levels(opposite(c.side), c.level);
    if (static_cast<int>(levels.size()) < c.level)
      return conflict("there is no level " + std::to_string(c.level), "level");
    TPH_TRY(covered(c.member, c.product, c.side, levels.back().price_fen, c.quantity, 0));
    std::vector<RecFill> fills;
    auto ack = Applier{s}.pick(c, fills, nullptr);
    if (fills.empty())
      return conflict("level " + std::to_string(c.level) + " holds only your own orders", "level");
    type = kRecPick;
    w.str(c.idempotency_key);
    w.i64(c.product);
    w.i64(c.member);
    w.u8(c.side == Side::kBuy ? 0 : 1);
    w.i64(c.level);
    w.i64(c.quantity);
    putFills(w, fills);
    return ack;
  }

  Result<SeqAck> operator()(const ExpireCommand& c) {
    std::vector<std::int64_t> ids;
    for (const auto& [id, o] : s.orders) {
      if (o.state == "open" && o.day && o.trading_day < c.today) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    if (ids.empty()) return SeqAck{};
    type = kRecExpire;
    w.i64(c.today);
    w.i64(static_cast<std::int64_t>(ids.size()));
    for (auto id : ids) w.i64(id);
    return Applier{s}.expire(ids);
  }
};

//! Redoes one journal record on the state.
void redo(Sequencer::State& s, const JournalRecord& rec) {
  Reader r(rec.payload);
  Applier a{s};
  switch (rec.type) {
    case kRecProduct: {
      SeqProduct p;
      p.id = r.i64();
      p.fee_bp = static_cast<int>(r.i64());
      p.band_low_fen = r.i64();
      p.band_high_fen = r.i64();
      p.open = r.u8() != 0;
      a.product(p);
      break;
    }
    case kRecCash: {
      auto member = r.i64();
      a.cash(member, r.i64());
      break;
    }
    case kRecUnits: {
      auto member = r.i64();
      auto product = r.i64();
      a.units(member, product, r.i64());
      break;
    }
    case kRecPlace: {
      SeqOrder o = getOrder(r);
      auto recorded = getFills(r);
      bool stopped = r.u8() != 0;
      std::vector<RecFill> fills;
      if (a.place(std::move(o), fills, &recorded).self_trade_stopped != stopped)
        throw std::runtime_error("journal replay: order stopped differently than recorded");
      break;
    }
    case kRecCancel:
      a.cancel(r.i64());
      break;
    case kRecAmend: {
      auto id = r.i64();
      (void)r.i64();  // product, member, side: for readers of the journal
      (void)r.i64();
      (void)r.u8();
      auto price = r.i64();
      auto quantity = r.i64();
      bool kept = r.u8() != 0;
      auto priority = r.i64();
      auto recorded = getFills(r);
      bool stopped = r.u8() != 0;
      std::vector<RecFill> fills;
      if (a.amend(id, price, quantity, kept, priority, fills, &recorded).self_trade_stopped !=
          stopped)
        throw std::runtime_error("journal replay: amendment stopped differently than recorded");
      break;
    }
    case kRecPick: {
      PickCommand c;
      c.idempotency_key = r.str();
      c.product = r.i64();
      c.member = r.i64();
      c.side = r.u8() == 0 ? Side::kBuy : Side::kSell;
      c.level = static_cast<int>(r.i64());
      c.quantity = r.i64();
      auto recorded = getFills(r);
      std::vector<RecFill> fills;
      a.pick(c, fills, &recorded);
      break;
    }
    case kRecExpire: {
      (void)r.i64();
      std::vector<std::int64_t> ids;
      for (auto n = r.i64(); n > 0; --n) ids.push_back(r.i64());
      a.expire(ids);
      break;
    }
    default:
      throw std::runtime_error("journal replay: unknown record type " + std::to_string(rec.type));
  }
  if (!r.done())
    throw std::runtime_error("journal replay: record " + std::to_string(rec.seq) +
                             " has bytes left over");
}

}  // namespace

namespace {

std::vector<SeqTrade> tradesOf(const std::vector<RecFill>& fills, std::int64_t product,
                               Side taker_side, std::int64_t taker_order,
                               std::int64_t taker_member) {
  std::vector<SeqTrade> out;
  bool taker_buys = taker_side == Side::kBuy;
  for (const auto& f : fills) {
    SeqTrade t;
    t.id = f.trade;
    t.product = product;
    t.buy_order = taker_buys ? taker_order : f.maker_order;
    t.sell_order = taker_buys ? f.maker_order : taker_order;
    t.buyer = taker_buys ? taker_member : f.maker_member;
    t.seller = taker_buys ? f.maker_member : taker_member;
    t.price_fen = f.price_fen;
    t.quantity = f.quantity;
    t.buyer_fee_fen = t.seller_fee_fen = f.fee_fen;
    out.push_back(t);
  }
  return out;
}

SeqEvent decode(const JournalRecord& rec) {
  Reader r(rec.payload);
  SeqEvent e;
  e.seq = rec.seq;
  e.kind = static_cast<SeqEventKind>(rec.type);
  switch (rec.type) {
    case kRecProduct:
      e.product.id = r.i64();
      e.product.fee_bp = static_cast<int>(r.i64());
      e.product.band_low_fen = r.i64();
      e.product.band_high_fen = r.i64();
      e.product.open = r.u8() != 0;
      break;
    case kRecCash:
      e.cash.member = r.i64();
      e.cash.delta_fen = r.i64();
      break;
    case kRecUnits:
      e.units.member = r.i64();
      e.units.product = r.i64();
      e.units.delta = r.i64();
      break;
    case kRecPlace:
      e.order = getOrder(r);
      e.trades = tradesOf(getFills(r), e.order.product, e.order.side, e.order.id, e.order.member);
      e.self_trade_stopped = r.u8() != 0;
      break;
    case kRecCancel:
      e.order.id = r.i64();
      break;
    case kRecAmend:
      e.order.id = r.i64();
      e.order.product = r.i64();
      e.order.member = r.i64();
      e.order.side = r.u8() == 0 ? Side::kBuy : Side::kSell;
      e.order.price_fen = r.i64();
      e.order.remaining = r.i64();
      e.kept = r.u8() != 0;
      e.order.priority = r.i64();
      e.trades = tradesOf(getFills(r), e.order.product, e.order.side, e.order.id, e.order.member);
      e.self_trade_stopped = r.u8() != 0;
      break;
    case kRecPick: {
      e.key = r.str();
      e.order.product = r.i64();
      e.order.member = r.i64();
      e.order.side = r.u8() == 0 ? Side::kBuy : Side::kSell;
      (void)r.i64();  // level
      e.order.quantity = r.i64();
      e.trades = tradesOf(getFills(r), e.order.product, e.order.side, 0, e.order.member);
      break;
    }
    case kRecExpire:
      (void)r.i64();
      for (auto n = r.i64(); n > 0; --n) e.orders.push_back(r.i64());
      break;
    default:
      throw std::runtime_error("journal: unknown record type " + std::to_string(rec.type));
  }
  if (!r.done())
    throw std::runtime_error("journal: record " + std::to_string(rec.seq) + " has bytes left over");
  return e;
}

}  // namespace

Result<SeqEvent> decodeSeqEvent(const JournalRecord& record) {
  try {
    return decode(record);
  } catch (const std::exception& e) {
    return Error{ErrorCode::kInternal, {}, e.what()};
  }
}

Status Sequencer::events(std::uint64_t after_seq,
                         const std::function<Status(const SeqEvent&)>& each) const {
  std::uint64_t up_to = durableSeq();
  return journal_->replay(
      after_seq,
      [&](const JournalRecord& record) -> Status {
        TPH_TRY_ASSIGN(event, decodeSeqEvent(record));
        return each(event);
      },
      up_to);
}

Sequencer::Sequencer(SequencerOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  // A trading day's orders without rehashing on the way (rehashing a large table stalls every
  // command queued behind it).
  state_->orders.reserve(kSequencerOrdersReserved);
  state_->keys.reserve(kSequencerOrdersReserved);
}

Result<std::unique_ptr<Sequencer>> Sequencer::open(SequencerOptions options) {
  std::unique_ptr<Sequencer> seq(new Sequencer(std::move(options)));
  TPH_TRY_ASSIGN(journal, Journal::open(seq->options_.journal));
  seq->journal_ = std::move(journal);
  TPH_TRY_ASSIGN(snapshot, seq->journal_->latestSnapshot());
  std::uint64_t from = 0;
  try {
    if (snapshot) {
      seq->state_->load(snapshot->state);
      from = snapshot->seq;
    }
    TPH_TRY(seq->journal_->replay(from, [&](const JournalRecord& rec) -> Status {
      redo(*seq->state_, rec);
      ++seq->replayed_;
      return {};
    }));
  } catch (const std::exception& e) {
    return Error{ErrorCode::kInternal, {}, std::string("journal replay failed: ") + e.what()};
  }
  seq->writer_ = std::thread([s = seq.get()] { s->run(); });
  return seq;
}

Sequencer::~Sequencer() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Sequencer::submit(SeqCommand command, Done done) {
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() < kSequencerQueueMax && !stopping_) {
      queue_.push_back({std::move(command), std::move(done)});
      if (queue_.size() == 1) queue_cv_.notify_one();
      return;
    }
  }
  done(Error{ErrorCode::kUnavailable, {}, "the market is busy: try again"});
}

std::future<Result<SeqAck>> Sequencer::submit(SeqCommand command) {
  auto promise = std::make_shared<std::promise<Result<SeqAck>>>();
  auto future = promise->get_future();
  submit(std::move(command), [promise](Result<SeqAck> r) { promise->set_value(std::move(r)); });
  return future;
}

Result<SeqAck> Sequencer::execute(SeqCommand command) {
  return submit(std::move(command)).get();
}

void Sequencer::run() {
  std::vector<Pending> group;
  std::vector<Result<SeqAck>> results;
  Writer record;
  for (;;) {
    group.clear();
    results.clear();
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, all answered
      while (!queue_.empty() && group.size() < kSequencerGroupMax) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::uint64_t first = 0, last = 0;
    {
      std::lock_guard journal_lock(journal_mu_);
      first = journal_->lastSeq() + 1;
      {
        std::lock_guard state_lock(state_mu_);
        for (auto& p : group) {
          if (journal_->failed()) {
            results.push_back(Error{ErrorCode::kUnavailable, {}, "the market journal failed"});
            continue;
          }
          record.bytes().clear();  // one buffer for every record: no allocation per command
          Decider d{*state_, record, 0};
          auto r = std::visit(d, p.command);
          if (r.ok() && d.type != 0) {
            auto appended = journal_->append(d.type, d.w.bytes());
            if (!appended) {
              // Too large a record can only come from a bug: the state already moved.
              throw std::logic_error("sequencer: cannot journal: " + appended.error().message);
            }
            r.value().journal_seq = appended.value();
          }
          results.push_back(std::move(r));
        }
      }
      last = journal_->lastSeq();
      auto committed = journal_->commit();
      if (!committed) {
        // Nothing of this group is known durable: no command of it is acknowledged. The state
        // ran ahead of the disk, so the sequencer takes nothing more until reopened.
        for (auto& r : results)
          r = Error{ErrorCode::kUnavailable,
                    {},
                    "the market journal failed: " + committed.error().message};
      } else if (last >= first && options_.on_durable) {
        options_.on_durable(first, last);
      }
    }
    for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
  }
}

Status Sequencer::checkpoint(std::uint64_t keep_after) {
  std::lock_guard journal_lock(journal_mu_);
  std::lock_guard state_lock(state_mu_);
  if (journal_->failed()) return Error{ErrorCode::kUnavailable, {}, "the market journal failed"};
  return journal_->checkpoint(journal_->durableSeq(), state_->snapshot(), keep_after);
}

std::optional<SeqOrder> Sequencer::order(std::int64_t id) const {
  std::lock_guard lock(state_mu_);
  auto it = state_->orders.find(id);
  if (it == state_->orders.end()) return std::nullopt;
  return it->second;
}

SeqPosition Sequencer::position(std::int64_t member, std::int64_t product) const {
  std::lock_guard lock(state_mu_);
  SeqPosition out;
  auto m = state_->members.find(member);
  if (m == state_->members.end()) return out;
  out.cash_fen = m->second.cash_fen;
  out.cash_reserved_fen = m->second.cash_reserved_fen;
  auto h = m->second.holdings.find(product);
  if (h != m->second.holdings.end()) {
    out.units = h->second.units;
    out.units_reserved = h->second.reserved;
  }
  return out;
}

std::vector<PriceLevel> Sequencer::levels(std::int64_t product, Side side, int depth) const {
  std::lock_guard lock(state_mu_);
  auto b = state_->books.find(product);
  return b == state_->books.end() ? std::vector<PriceLevel>{} : b->second.levels(side, depth);
}

std::vector<BookOrder> Sequencer::bookOrders(std::int64_t product) const {
  std::lock_guard lock(state_mu_);
  auto b = state_->books.find(product);
  return b == state_->books.end() ? std::vector<BookOrder>{} : b->second.orders();
}

std::int64_t Sequencer::feesCollected() const {
  std::lock_guard lock(state_mu_);
  return state_->fees_fen;
}

std::uint64_t Sequencer::durableSeq() const {
  std::lock_guard lock(journal_mu_);
  return journal_->durableSeq();
}

bool Sequencer::failed() const {
  std::lock_guard lock(journal_mu_);
  return journal_->failed();
}

}  // namespace tph::market
