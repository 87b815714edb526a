#include "market/journal_applier.h"

#include <map>
#include <stdexcept>
#include <vector>

#include "audit/audit_log.h"
#include "market/cash_ledger.h"
#include "market/market_internal.h"
#include "market/market_store.h"
#include "store/database.h"

namespace tph::market {

using nlohmann::json;

namespace {

//! 20260302 → "2026-03-02".
std::string dayOf(std::int32_t yyyymmdd) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", yyyymmdd / 10000, yyyymmdd / 100 % 100,
                yyyymmdd % 100);
  return text;
}

//! One transaction's worth of events applied to the database.
class Batch {
 public:
  Batch(soci::session& sql, const Clock& clock, const JournalApplierOptions& options)
      : sql_(sql), clock_(clock), options_(options), now_ms_(toEpochMs(clock.now())) {}

  void apply(const SeqEvent& e) {
    switch (e.kind) {
      case SeqEventKind::kProduct:  // the product's rules mirror market_products
      case SeqEventKind::kUnits:    // units arrive and leave through the registry itself
        return;
      case SeqEventKind::kCash:
        return cash(e);
      case SeqEventKind::kPlace:
        return place(e);
      case SeqEventKind::kCancel:
        return close(e.order.id, "cancelled", "market.order.cancel");
      case SeqEventKind::kAmend:
        return amend(e);
      case SeqEventKind::kPick:
        settleAll(e.trades, "pick", 0);
        return;
      case SeqEventKind::kExpire:
        for (auto id : e.orders) close(id, "expired", "market.order.expire");
        return;
    }
    throw std::logic_error("journal applier: unknown event kind");
  }

 private:
  const Product& product(std::int64_t id) {
    auto it = products_.find(id);
    if (it != products_.end()) return it->second;
    auto p = detail::findProductById(sql_, id);
    if (!p) throw std::logic_error("journal applier: no product " + std::to_string(id));
    return products_[id] = *p;
  }
  const detail::MemberRow& member(std::int64_t id) {
    auto it = members_.find(id);
    if (it != members_.end()) return it->second;
    auto m = detail::findMember(sql_, id);
    if (!m) throw std::logic_error("journal applier: no member " + std::to_string(id));
    return members_[id] = *m;
  }
  std::int64_t orderId(std::int64_t journal_order) {
    auto id = detail::journalOrder(sql_, options_.journal, journal_order);
    if (!id)
      throw std::logic_error("journal applier: journalled order " + std::to_string(journal_order) +
                             " was never applied");
    return *id;
  }
  template <class T>
  static T must(Result<T> r, const char* what) {
    if (!r)
      throw std::runtime_error(std::string("journal applier: ") + what + ": " + r.error().message);
    return std::move(r.value());
  }

  void cash(const SeqEvent& e) {
    const auto& m = member(e.cash.member);
    bool in = e.cash.delta_fen > 0;
    auto bank = openCashAccount(sql_, MarketService::kBankAccountCode, "bank", true, clock_);
    Fen amount(in ? e.cash.delta_fen : -e.cash.delta_fen);
    std::string key = "journal:" + options_.journal + ":" + std::to_string(e.seq);
    auto posted =
        must(postCash(sql_,
                      {key,
                       in ? "deposit" : "withdrawal",
                       "journal " + std::to_string(e.seq),
                       {{bank, in ? -amount : amount}, {m.cash_account_id, in ? amount : -amount}}},
                      clock_),
             "cash");
    audit::appendAuditEvent(
        sql_, clock_,
        {options_.actor, in ? "market.cash.deposit" : "market.cash.withdraw",
         "market_member:" + std::to_string(m.id),
         json{{"amount_fen", amount.value()}, {"entry", posted.entry_id}, {"journal_seq", e.seq}}});
  }

  void place(const SeqEvent& e) {
    const SeqOrder& o = e.order;
    const Product& p = product(o.product);
    const auto& m = member(o.member);
    detail::OrderRow row;
    row.order = {0,
                 p.code,
                 m.id,
                 o.side,
                 Fen(o.price_fen),
                 o.quantity,
                 o.quantity,
                 o.day ? TimeInForce::kDay : TimeInForce::kGoodTillCancelled,
                 "open",
                 dayOf(o.trading_day),
                 fromEpochMs(now_ms_)};
    row.product_id = p.id;
    row.seq = detail::nextSeq(sql_);
    row.idempotency_key = o.idempotency_key;
    row.order.id = detail::insertOrder(sql_, row, options_.actor, now_ms_);
    detail::mapJournalOrder(sql_, options_.journal, o.id, row.order.id);
    audit::appendAuditEvent(
        sql_, clock_,
        {options_.actor, "market.order.place", "market_order:" + std::to_string(row.order.id),
         json{{"product", p.code},
              {"member", m.id},
              {"side", internal::sideName(o.side)},
              {"price_fen", o.price_fen},
              {"quantity", o.quantity},
              {"time_in_force", o.day ? "day" : "gtc"},
              {"journal_seq", e.seq}}});
    finish(row.order.id, o.id, o.quantity, e);
  }

  void amend(const SeqEvent& e) {
    const SeqOrder& o = e.order;
    std::int64_t id = orderId(o.id);
    audit::appendAuditEvent(
        sql_, clock_,
        {options_.actor, "market.order.amend", "market_order:" + std::to_string(id),
         json{{"price_fen", o.price_fen},
              {"remaining", o.remaining},
              {"priority", e.kept ? "kept" : "lost"},
              {"journal_seq", e.seq}}});
    if (e.kept) {
      detail::updateOrder(sql_, id, o.remaining, "open", std::nullopt, std::nullopt, now_ms_);
      return;
    }
    detail::updateOrder(sql_, id, o.remaining, "open", o.price_fen, detail::nextSeq(sql_), now_ms_);
    finish(id, o.id, o.remaining, e);
  }

  //! Settles an incoming order's trades and writes what is left of it.
  void finish(std::int64_t id, std::int64_t journal_id, std::int64_t remaining, const SeqEvent& e) {
    settleAll(e.trades, "listed", journal_id);
    for (const auto& t : e.trades) remaining -= t.quantity;
    if (remaining < 0) throw std::logic_error("journal applier: an order filled beyond its size");
    std::string state = remaining == 0 ? "filled" : e.self_trade_stopped ? "cancelled" : "open";
    if (state != "open" || !e.trades.empty())
      detail::updateOrder(sql_, id, remaining, state, std::nullopt, std::nullopt, now_ms_);
  }

  //! Settles each trade and takes what traded off the resting order (the maker); the incoming
  //! order (`taker`, 0 for a pick) is written by finish().
  void settleAll(const std::vector<SeqTrade>& trades, const char* what, std::int64_t taker) {
    for (const auto& t : trades) {
      const Product& p = product(t.product);
      std::optional<std::int64_t> buy, sell;
      if (t.buy_order) buy = orderId(t.buy_order);
      if (t.sell_order) sell = orderId(t.sell_order);
      internal::SettleContext ctx{clock_, options_.market, options_.actor,
                                  shanghaiDay(fromEpochMs(now_ms_))};
      std::string key = "journal:" + options_.journal + ":trade:" + std::to_string(t.id);
      auto trade = must(internal::settle(sql_, ctx, p, "listed", member(t.buyer), member(t.seller),
                                         t.price_fen, t.quantity, buy, sell, key),
                        what);
      if (trade.buyer_fee.value() != t.buyer_fee_fen ||
          trade.seller_fee.value() != t.seller_fee_fen)
        throw std::logic_error("journal applier: trade " + std::to_string(t.id) +
                               " was journalled with other fees than the product's");
      std::int64_t maker_journal = t.buy_order == taker ? t.sell_order : t.buy_order;
      std::int64_t maker = maker_journal == t.buy_order ? *buy : *sell;
      auto row = detail::findOrder(sql_, maker);
      if (!row || row->order.state != "open")
        throw std::logic_error("journal applier: the resting order of trade " +
                               std::to_string(t.id) + " is not open");
      std::int64_t left = row->order.remaining - t.quantity;
      detail::updateOrder(sql_, maker, left, left == 0 ? "filled" : "open", std::nullopt,
                          std::nullopt, now_ms_);
    }
  }

  void close(std::int64_t journal_order, const char* state, const char* action) {
    std::int64_t id = orderId(journal_order);
    auto row = detail::findOrder(sql_, id);
    if (!row) throw std::logic_error("journal applier: no order row " + std::to_string(id));
    detail::updateOrder(sql_, id, row->order.remaining, state, std::nullopt, std::nullopt, now_ms_);
    audit::appendAuditEvent(sql_, clock_,
                            {options_.actor, action, "market_order:" + std::to_string(id),
                             json{{"remaining", row->order.remaining}}});
  }

  soci::session& sql_;
  const Clock& clock_;
  const JournalApplierOptions& options_;
  std::int64_t now_ms_;
  std::map<std::int64_t, Product> products_;
  std::map<std::int64_t, detail::MemberRow> members_;
};

}  // namespace

JournalApplier::JournalApplier(store::Database& db, const Clock& clock,
                               JournalApplierOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

std::uint64_t JournalApplier::appliedSeq() {
  return db_.read(
      [&](soci::session& sql) { return detail::journalApplied(sql, options_.journal); });
}

Result<std::uint64_t> JournalApplier::catchUp(const Sequencer& sequencer, std::size_t batch_max) {
  if (batch_max == 0) throw std::logic_error("journal applier: a batch holds at least one event");
  std::uint64_t applied = appliedSeq();
  std::vector<SeqEvent> events;
  TPH_TRY(sequencer.events(applied, [&](const SeqEvent& e) -> Status {
    events.push_back(e);
    return {};
  }));
  for (std::size_t from = 0; from < events.size(); from += batch_max) {
    std::size_t to = std::min(events.size(), from + batch_max);
    auto apply = [&](soci::session& sql) -> Result<std::uint64_t> {
      detail::lockMarket(sql);
      // Another applier, or this one after a crash, may have gone on: start where the database
      // says, never twice.
      std::uint64_t stored = detail::journalApplied(sql, options_.journal);
      Batch batch(sql, clock_, options_);
      std::uint64_t last = stored;
      for (std::size_t i = from; i < to; ++i) {
        if (events[i].seq <= stored) continue;
        if (events[i].seq != last + 1)
          throw std::logic_error("journal applier: event " + std::to_string(events[i].seq) +
                                 " after " + std::to_string(last));
        batch.apply(events[i]);
        last = events[i].seq;
      }
      if (last != stored)
        detail::setJournalApplied(sql, options_.journal, last, toEpochMs(clock_.now()));
      return last;
    };
    Result<std::uint64_t> done = std::uint64_t{0};
    try {
      done = db_.transaction(apply);
    } catch (const std::exception& e) {  // rolled back whole: nothing of the batch is applied
      return Error{ErrorCode::kInternal, {}, e.what()};
    }
    if (!done) return done.error();
    applied = done.value();
  }
  return applied;
}

}  // namespace tph::market
