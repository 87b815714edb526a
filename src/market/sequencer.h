#pragma once
// Sequencer: the single writer of listed trading. One thread drains the commands callers submit,
// checks each against the in-memory state (books, every member's cash and units with what open
// orders reserve, the product's price band and whether it trades now, idempotency keys), matches,
// appends what it decided to the journal, makes the whole group durable with one fdatasync and only
// then answers every command of the group (group commit). A restart rebuilds the state from the
// latest snapshot and the records after it: an answered command is never lost, and replaying
// checks each record against the engine, so nothing is applied twice or differently.
//
// What this does not do (docs/market.md, "Matching and the journal"): write the database. The
// records carry everything a writer-behind needs (orders, fills with their fees, cancels, cash and
// unit movements) in sequence order; MarketService still settles through the database today.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/result.h"
#include "market/journal.h"
#include "market/order_book.h"

namespace tph::market {

inline constexpr std::size_t kSequencerQueueMax = 1u << 20;  //!< commands waiting: then "busy"
inline constexpr std::size_t kSequencerGroupMax = 16'384;    //!< commands per group commit
inline constexpr std::size_t kIdempotencyKeyMaxBytes = 128;
inline constexpr std::size_t kSequencerOrdersReserved = 1u << 21;  //!< hash table room at open

//! A product's trading rules as the sequencer applies them. Whether it trades now (calendar,
//! sessions, suspension) is decided by the caller and journalled with `open`.
struct SeqProduct {
  std::int64_t id = 0;
  int fee_bp = 0;
  std::int64_t band_low_fen = 1, band_high_fen = 0;
  bool open = false;
};

//! Money into (positive) or out of (negative) a member's cash: a deposit or a withdrawal. Out is
//! refused beyond the free cash, so cash an order reserved cannot leave.
struct CashCommand {
  std::int64_t member = 0;
  std::int64_t delta_fen = 0;
};
//! Units of a product into or out of a member's account (a registry transfer); out is refused
//! beyond the free units.
struct UnitsCommand {
  std::int64_t member = 0;
  std::int64_t product = 0;
  std::int64_t delta = 0;
};
struct PlaceCommand {
  std::string idempotency_key;
  std::int64_t product = 0;
  std::int64_t member = 0;
  Side side = Side::kBuy;
  std::int64_t price_fen = 0;
  std::int64_t quantity = 0;
  bool day = true;               //!< expires at the end of trading_day; else good till cancelled
  std::int32_t trading_day = 0;  //!< yyyymmdd, Asia/Shanghai
};
struct CancelCommand {
  std::int64_t member = 0;  //!< the member the caller acts for: only its own orders
  std::int64_t order = 0;
};
//! A lower quantity at the same price keeps the order's place; a new price or more units sends it
//! to the back of the queue, matching again.
struct AmendCommand {
  std::int64_t member = 0;
  std::int64_t order = 0;
  std::optional<std::int64_t> price_fen;
  std::optional<std::int64_t> quantity;  //!< the new remaining quantity
};
//! A taker takes up to `quantity` at the `level`-th best price (1..5) of the other side.
struct PickCommand {
  std::string idempotency_key;
  std::int64_t product = 0;
  std::int64_t member = 0;
  Side side = Side::kBuy;  //!< what the taker does
  int level = 1;
  std::int64_t quantity = 0;
};
//! Day orders of trading days before `today` (yyyymmdd) expire, in every product.
struct ExpireCommand {
  std::int32_t today = 0;
};

using SeqCommand = std::variant<SeqProduct, CashCommand, UnitsCommand, PlaceCommand, CancelCommand,
                                AmendCommand, PickCommand, ExpireCommand>;

//! One trade, delivery versus payment: the buyer pays amount + buyer_fee, the seller receives
//! amount - seller_fee, the exchange both fees; units seller → buyer.
struct SeqTrade {
  std::int64_t id = 0;
  std::int64_t product = 0;
  std::int64_t buy_order = 0, sell_order = 0;  //!< 0 for the taker of a pick
  std::int64_t buyer = 0, seller = 0;
  std::int64_t price_fen = 0, quantity = 0;
  std::int64_t buyer_fee_fen = 0, seller_fee_fen = 0;
};

//! The answer to a command, once it is durable.
struct SeqAck {
  std::uint64_t journal_seq = 0;  //!< 0 when nothing was journalled (a duplicate)
  std::int64_t order = 0;
  std::int64_t remaining = 0;
  std::string state;  //!< of the order: open, filled, cancelled, expired
  bool self_trade_stopped = false;
  bool duplicate = false;  //!< the idempotency key was seen: the order as it is now
  std::vector<SeqTrade> trades;
  std::int64_t expired = 0;  //!< for an expiry: how many orders
};

struct SeqOrder {
  std::int64_t id = 0, product = 0, member = 0;
  Side side = Side::kBuy;
  std::int64_t price_fen = 0, quantity = 0, remaining = 0;
  std::int64_t priority = 0;  //!< time priority: lower came first
  bool day = true;
  std::int32_t trading_day = 0;
  std::string state;
  std::string idempotency_key;
};

enum class SeqEventKind : std::uint8_t {
  kProduct = 1,
  kCash = 2,
  kUnits = 3,
  kPlace = 4,
  kCancel = 5,
  kAmend = 6,
  kPick = 7,
  kExpire = 8,
};

//! What one journal record says happened: what a writer-behind applies to the database, record by
//! record in sequence order. Only the fields of its kind are set.
struct SeqEvent {
  std::uint64_t seq = 0;
  SeqEventKind kind = SeqEventKind::kProduct;
  SeqProduct product;  //!< kProduct
  CashCommand cash;    //!< kCash
  UnitsCommand units;  //!< kUnits
  //! kPlace: the order as accepted (remaining = quantity, before matching); kAmend: id, product,
  //! member, side, the new price and remaining, and priority; kCancel: id; kPick: product, member,
  //! side (the taker's) and quantity asked.
  SeqOrder order;
  bool kept = false;  //!< kAmend: the order kept its place (a lower quantity only)
  //! kPlace, kAmend: self-trade prevention cancelled what was left after the trades
  bool self_trade_stopped = false;
  std::string key;                   //!< kPick: its idempotency key
  std::vector<SeqTrade> trades;      //!< kPlace, kAmend, kPick: in the order they traded
  std::vector<std::int64_t> orders;  //!< kExpire: the orders that expired
};

//! Reads one record (answers an error for a record it cannot read).
Result<SeqEvent> decodeSeqEvent(const JournalRecord& record);

struct SeqPosition {
  std::int64_t cash_fen = 0, cash_reserved_fen = 0;
  std::int64_t units = 0, units_reserved = 0;  //!< of the product asked for
  bool operator==(const SeqPosition&) const = default;
};

struct SequencerOptions {
  JournalOptions journal;
  //! Called with every group's records after they are durable and before the acks (the hook for a
  //! writer-behind). May be empty.
  std::function<void(std::uint64_t first_seq, std::uint64_t last_seq)> on_durable;
};

//! Shared between threads: submit from any thread; one internal thread writes. Reads take the
//! state lock and see every command processed so far (a group may not be durable yet).
class Sequencer {
 public:
  //! Opens the journal, loads the latest snapshot and replays the records after it, then starts
  //! the writer thread.
  static Result<std::unique_ptr<Sequencer>> open(SequencerOptions options);
  ~Sequencer();  //!< drains what was submitted, then stops
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  using Done = std::function<void(Result<SeqAck>)>;
  //! Queues a command; `done` runs on the writer thread once the command is durable (or refused).
  void submit(SeqCommand command, Done done);
  std::future<Result<SeqAck>> submit(SeqCommand command);
  //! submit() and wait.
  Result<SeqAck> execute(SeqCommand command);

  //! Stores a snapshot of the state (at the last durable record) and drops the journal segments
  //! before it that a writer-behind no longer needs (records above keep_after stay). The writer
  //! waits while the state is serialized.
  Status checkpoint(std::uint64_t keep_after = UINT64_MAX);

  std::optional<SeqOrder> order(std::int64_t id) const;
  SeqPosition position(std::int64_t member, std::int64_t product) const;
  std::vector<PriceLevel> levels(std::int64_t product, Side side, int depth) const;
  std::vector<BookOrder> bookOrders(std::int64_t product) const;
  std::int64_t feesCollected() const;
  std::uint64_t durableSeq() const;
  //! Every durable record above `after_seq` as an event, in order (the writer-behind's feed). Reads
  //! the journal's files; does not stop the writer.
  Status events(std::uint64_t after_seq, const std::function<Status(const SeqEvent&)>& each) const;
  //! Records replayed by open().
  std::uint64_t replayed() const { return replayed_; }
  //! The journal failed (a write or fdatasync): nothing more is accepted until reopened.
  bool failed() const;

  struct State;  // defined in sequencer.cpp

 private:
  explicit Sequencer(SequencerOptions options);
  void run();

  SequencerOptions options_;
  // Lock order: journal_mu_, then state_mu_. The writer holds journal_mu_ from the first record of
  // a group to its commit, so a checkpoint never sees state the journal does not hold yet.
  mutable std::mutex journal_mu_;
  std::unique_ptr<Journal> journal_;  // guarded by journal_mu_
  mutable std::mutex state_mu_;
  std::unique_ptr<State> state_;  // guarded by state_mu_
  std::uint64_t replayed_ = 0;

  struct Pending {
    SeqCommand command;
    Done done;
  };
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;  // guarded by queue_mu_
  bool stopping_ = false;      // guarded by queue_mu_
  std::thread writer_;
};

}  // namespace tph::market
