#pragma once
// OrderBook: the in-memory continuous book of one product, with price-time priority. It knows
// nothing of cash, units or storage: the market service decides what may enter it, persists what
// it answers, and drops the book (to rebuild it from storage) when a transaction fails.

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace tph::market {

enum class Side { kBuy, kSell };
inline Side opposite(Side side) {
  return side == Side::kBuy ? Side::kSell : Side::kBuy;
}

//! A resting order: prices in fen per unit, quantities in units.
struct BookOrder {
  std::int64_t id = 0;
  std::int64_t member = 0;
  Side side = Side::kBuy;
  std::int64_t price_fen = 0;
  std::int64_t remaining = 0;
  std::int64_t seq = 0;  //!< time priority: lower came first
  bool operator==(const BookOrder&) const = default;
};

//! One match: the maker's resting order traded with the incoming order at the maker's price.
struct Fill {
  std::int64_t maker_order = 0;
  std::int64_t maker_member = 0;
  std::int64_t price_fen = 0;
  std::int64_t quantity = 0;
  bool maker_done = false;  //!< the maker has nothing left and left the book
};

struct PriceLevel {
  std::int64_t price_fen = 0;
  std::int64_t quantity = 0;
  int orders = 0;
};

//! What an incoming order did: its fills, and what is left of it (resting, or stopped by
//! self-trade prevention).
struct SubmitOutcome {
  std::vector<Fill> fills;
  std::int64_t remaining = 0;
  bool rested = false;
  bool self_trade_stopped = false;  //!< met the member's own order: the rest was cancelled
};

inline constexpr int kPickLevels = 5;  //!< a taker picks one of the best five levels

//! Not thread-safe: the market service gives each product's book one writer at a time.
class OrderBook {
 public:
  //! Matches `order` against the other side while prices cross, best price first and oldest first
  //! at a price, then rests the remainder. Meeting the member's own order stops matching and
  //! cancels the remainder (self-trade prevention, cancel newest).
  SubmitOutcome submit(const BookOrder& order);
  //! Puts an order in the book without matching (rebuilding from storage). The book must not
  //! cross afterwards; that is checked.
  void restore(const BookOrder& order);
  //! A taker picks the `level`-th best price (1..5) on `side` and takes up to `quantity` there, in
  //! time order, skipping its own orders. Answers the fills; empty when there is no such level.
  std::vector<Fill> take(Side side, int level, std::int64_t quantity, std::int64_t taker_member);
  std::optional<BookOrder> cancel(std::int64_t order_id);
  //! Lowers the quantity in place, keeping time priority.
  bool reduce(std::int64_t order_id, std::int64_t new_remaining);
  std::optional<BookOrder> find(std::int64_t order_id) const;

  std::vector<PriceLevel> levels(Side side, int depth) const;
  std::optional<std::int64_t> best(Side side) const;
  std::size_t size() const { return index_.size(); }
  //! Every resting order, bids then asks, each side best first.
  std::vector<BookOrder> orders() const;

 private:
  using Queue = std::list<BookOrder>;
  struct Location {
    Side side;
    std::int64_t price_fen;
    Queue::iterator it;
  };
  Queue& queueFor(Side side, std::int64_t price);
  void erase(const Location& where);
  void rest(const BookOrder& order);
  Fill fillFront(Queue& queue, std::int64_t quantity);

  std::map<std::int64_t, Queue, std::greater<>> bids_;
  std::map<std::int64_t, Queue> asks_;
  std::unordered_map<std::int64_t, Location> index_;
};

}  // namespace tph::market
