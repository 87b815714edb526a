#include "market/order_book.h"

#include <algorithm>
#include <stdexcept>

namespace tph::market {

OrderBook::Queue& OrderBook::queueFor(Side side, std::int64_t price) {
  return side == Side::kBuy ? bids_[price] : asks_[price];
}

void OrderBook::rest(const BookOrder& order) {
  if (order.remaining <= 0 || order.price_fen <= 0)
    throw std::logic_error("order book: an order rests with a positive price and quantity");
  if (index_.count(order.id))
    throw std::logic_error("order book: order " + std::to_string(order.id) + " rests twice");
  auto& queue = queueFor(order.side, order.price_fen);
  queue.push_back(order);
  index_.emplace(order.id, Location{order.side, order.price_fen, std::prev(queue.end())});
}

void OrderBook::erase(const Location& where) {
  if (where.side == Side::kBuy) {
    auto level = bids_.find(where.price_fen);
    level->second.erase(where.it);
    if (level->second.empty()) bids_.erase(level);
  } else {
    auto level = asks_.find(where.price_fen);
    level->second.erase(where.it);
    if (level->second.empty()) asks_.erase(level);
  }
}

Fill OrderBook::fillFront(Queue& queue, std::int64_t quantity) {
  auto& maker = queue.front();
  std::int64_t traded = std::min(quantity, maker.remaining);
  maker.remaining -= traded;
  Fill fill{maker.id, maker.member, maker.price_fen, traded, maker.remaining == 0};
  if (fill.maker_done) {
    index_.erase(maker.id);
    queue.pop_front();
  }
  return fill;
}

SubmitOutcome OrderBook::submit(const BookOrder& order) {
  SubmitOutcome out;
  out.remaining = order.remaining;
  auto match = [&](auto& book, auto crosses) {
    while (out.remaining > 0 && !book.empty()) {
      auto level = book.begin();
      if (!crosses(level->first)) break;
      auto& queue = level->second;
      while (out.remaining > 0 && !queue.empty()) {
        if (queue.front().member == order.member) {
          out.self_trade_stopped = true;
          break;
        }
        auto fill = fillFront(queue, out.remaining);
        out.remaining -= fill.quantity;
        out.fills.push_back(fill);
      }
      if (queue.empty()) book.erase(level);
      if (out.self_trade_stopped) break;
    }
  };
  if (order.side == Side::kBuy) {
    match(asks_, [&](std::int64_t ask) { return ask <= order.price_fen; });
  } else {
    match(bids_, [&](std::int64_t bid) { return bid >= order.price_fen; });
  }
  if (out.remaining > 0 && !out.self_trade_stopped) {
    BookOrder resting = order;
    resting.remaining = out.remaining;
    rest(resting);
    out.rested = true;
  }
  return out;
}

void OrderBook::restore(const BookOrder& order) {
  rest(order);
  auto bid = best(Side::kBuy), ask = best(Side::kSell);
  if (bid && ask && *bid >= *ask)
    throw std::logic_error("order book: restoring order " + std::to_string(order.id) +
                           " crosses the book");
}

std::vector<Fill> OrderBook::take(Side side, int level, std::int64_t quantity,
                                  std::int64_t taker_member) {
  std::vector<Fill> fills;
  if (level < 1 || level > kPickLevels || quantity <= 0) return fills;
  auto pick = [&](auto& book) {
    auto it = book.begin();
    for (int i = 1; i < level && it != book.end(); ++i) ++it;
    if (it == book.end()) return;
    auto& queue = it->second;
    for (auto order = queue.begin(); order != queue.end() && quantity > 0;) {
      if (order->member == taker_member) {
        ++order;
        continue;
      }
      std::int64_t traded = std::min(quantity, order->remaining);
      order->remaining -= traded;
      quantity -= traded;
      Fill fill{order->id, order->member, order->price_fen, traded, order->remaining == 0};
      fills.push_back(fill);
      if (fill.maker_done) {
        index_.erase(order->id);
        order = queue.erase(order);
      } else {
        ++order;
      }
    }
    if (queue.empty()) book.erase(it);
  };
  if (side == Side::kBuy) {
    pick(bids_);
  } else {
    pick(asks_);
  }
  return fills;
}

std::optional<BookOrder> OrderBook::cancel(std::int64_t order_id) {
  auto found = index_.find(order_id);
  if (found == index_.end()) return std::nullopt;
  BookOrder order = *found->second.it;
  Location where = found->second;
  index_.erase(found);
  erase(where);
  return order;
}

bool OrderBook::reduce(std::int64_t order_id, std::int64_t new_remaining) {
  auto found = index_.find(order_id);
  if (found == index_.end() || new_remaining <= 0 || new_remaining > found->second.it->remaining)
    return false;
  found->second.it->remaining = new_remaining;
  return true;
}

std::optional<BookOrder> OrderBook::find(std::int64_t order_id) const {
  auto found = index_.find(order_id);
  if (found == index_.end()) return std::nullopt;
  return *found->second.it;
}

std::vector<PriceLevel> OrderBook::levels(Side side, int depth) const {
  std::vector<PriceLevel> out;
  auto collect = [&](const auto& book) {
    for (const auto& [price, queue] : book) {
      if (static_cast<int>(out.size()) >= depth) break;
      PriceLevel level{price, 0, 0};
      for (const auto& o : queue) {
        level.quantity += o.remaining;
        ++level.orders;
      }
      out.push_back(level);
    }
  };
  if (side == Side::kBuy) {
    collect(bids_);
  } else {
    collect(asks_);
  }
  return out;
}

std::optional<std::int64_t> OrderBook::best(Side side) const {
  if (side == Side::kBuy) {
    if (bids_.empty()) return std::nullopt;
    return bids_.begin()->first;
  }
  if (asks_.empty()) return std::nullopt;
  return asks_.begin()->first;
}

std::vector<BookOrder> OrderBook::orders() const {
  std::vector<BookOrder> out;
  out.reserve(index_.size());
  for (const auto& [price, queue] : bids_) out.insert(out.end(), queue.begin(), queue.end());
  for (const auto& [price, queue] : asks_) out.insert(out.end(), queue.begin(), queue.end());
  return out;
}

}  // namespace tph::market
