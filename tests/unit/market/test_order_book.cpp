// The in-memory matching engine against a simple model: random orders, cancels, reductions and
// picks, seeded; after every step the book never crosses, quantities are conserved and each fill
// took the best price first and the oldest order first at that price.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "market/order_book.h"

namespace tph::market {
namespace {

TEST(OrderBook, MatchesByPriceThenTime) {
  OrderBook book;
  EXPECT_TRUE(book.submit({1, 10, Side::kSell, 105, 5, 1}).rested);
  EXPECT_TRUE(book.submit({2, 11, Side::kSell, 100, 5, 2}).rested);
  EXPECT_TRUE(book.submit({3, 12, Side::kSell, 100, 5, 3}).rested);
  auto out = book.submit({4, 13, Side::kBuy, 105, 12, 4});
  ASSERT_EQ(out.fills.size(), 3u);
  EXPECT_EQ(out.fills[0].maker_order, 2);  // best price, oldest
  EXPECT_EQ(out.fills[0].price_fen, 100);
  EXPECT_EQ(out.fills[1].maker_order, 3);
  EXPECT_EQ(out.fills[2].maker_order, 1);
  EXPECT_EQ(out.fills[2].quantity, 2);
  EXPECT_FALSE(out.fills[2].maker_done);
  EXPECT_EQ(out.remaining, 0);
  EXPECT_EQ(book.find(1)->remaining, 3);
}

TEST(OrderBook, SelfTradePreventionCancelsTheIncomingRest) {
  OrderBook book;
  (void)book.submit({1, 10, Side::kSell, 100, 5, 1});
  (void)book.submit({2, 11, Side::kSell, 101, 5, 2});
  auto out = book.submit({3, 11, Side::kBuy, 101, 8, 3});
  EXPECT_TRUE(out.self_trade_stopped);
  ASSERT_EQ(out.fills.size(), 1u);
  EXPECT_EQ(out.remaining, 3);
  EXPECT_FALSE(out.rested);
  EXPECT_EQ(book.find(2)->remaining, 5);
}

TEST(OrderBook, PickTakesAChosenLevelInTimeOrderSkippingOwnOrders) {
  OrderBook book;
  (void)book.submit({1, 10, Side::kSell, 100, 5, 1});
  (void)book.submit({2, 11, Side::kSell, 102, 5, 2});
  (void)book.submit({3, 20, Side::kSell, 102, 5, 3});
  (void)book.submit({4, 12, Side::kSell, 102, 5, 4});
  auto fills = book.take(Side::kSell, 2, 7, 20);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(fills[0].maker_order, 2);
  EXPECT_EQ(fills[0].quantity, 5);
  EXPECT_EQ(fills[1].maker_order, 4);
  EXPECT_EQ(fills[1].quantity, 2);
  EXPECT_TRUE(book.take(Side::kSell, 3, 1, 20).empty());
  EXPECT_TRUE(book.take(Side::kSell, 6, 1, 20).empty());
}

// The model: a flat list of resting orders; the best maker is found by brute force.
struct Model {
  std::vector<BookOrder> resting;
  std::optional<std::size_t> bestMaker(const BookOrder& taker) const {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < resting.size(); ++i) {
      const auto& o = resting[i];
      if (o.side == taker.side) continue;
      bool crosses = taker.side == Side::kBuy ? o.price_fen <= taker.price_fen
                                              : o.price_fen >= taker.price_fen;
      if (!crosses) continue;
      if (!best) {
        best = i;
        continue;
      }
      const auto& b = resting[*best];
      bool better =
          taker.side == Side::kBuy ? o.price_fen < b.price_fen : o.price_fen > b.price_fen;
      if (better || (o.price_fen == b.price_fen && o.seq < b.seq)) best = i;
    }
    return best;
  }
};

TEST(OrderBook, RandomStreamAgreesWithTheModel) {
  std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  OrderBook book;
  Model model;
  std::int64_t next_id = 1, submitted = 0, traded = 0, cancelled = 0, stopped = 0;
  for (int step = 0; step < 20'000; ++step) {
    int action = std::uniform_int_distribution<int>(0, 9)(rng);
    if (action < 7 || model.resting.empty()) {
      BookOrder o{next_id,
                  std::uniform_int_distribution<std::int64_t>(1, 6)(rng),
                  action % 2 ? Side::kBuy : Side::kSell,
                  std::uniform_int_distribution<std::int64_t>(95, 105)(rng),
                  std::uniform_int_distribution<std::int64_t>(1, 50)(rng),
                  next_id};
      ++next_id;
      submitted += o.remaining;
      auto out = book.submit(o);
      std::int64_t left = o.remaining;
      for (const auto& fill : out.fills) {
        auto expected = model.bestMaker(o);
        ASSERT_TRUE(expected);
        auto& maker = model.resting[*expected];
        ASSERT_NE(maker.member, o.member);
        ASSERT_EQ(fill.maker_order, maker.id) << "price-time priority";
        ASSERT_EQ(fill.price_fen, maker.price_fen);
        ASSERT_EQ(fill.quantity, std::min(left, maker.remaining));
        maker.remaining -= fill.quantity;
        left -= fill.quantity;
        traded += 2 * fill.quantity;
        if (maker.remaining == 0) model.resting.erase(model.resting.begin() + *expected);
      }
      ASSERT_EQ(out.remaining, left);
      if (out.rested) {
        BookOrder rest = o;
        rest.remaining = left;
        model.resting.push_back(rest);
      } else if (left > 0) {
        ASSERT_TRUE(out.self_trade_stopped);
        auto next = model.bestMaker(o);
        ASSERT_TRUE(next);
        ASSERT_EQ(model.resting[*next].member, o.member);
        stopped += left;
      }
    } else if (action < 9) {
      auto& victim = model.resting[std::uniform_int_distribution<std::size_t>(
          0, model.resting.size() - 1)(rng)];
      auto gone = book.cancel(victim.id);
      ASSERT_TRUE(gone);
      ASSERT_EQ(gone->remaining, victim.remaining);
      cancelled += victim.remaining;
      model.resting.erase(model.resting.begin() + (&victim - model.resting.data()));
    } else {
      auto& victim = model.resting[std::uniform_int_distribution<std::size_t>(
          0, model.resting.size() - 1)(rng)];
      if (victim.remaining > 1) {
        ASSERT_TRUE(book.reduce(victim.id, victim.remaining - 1));
        victim.remaining -= 1;
        cancelled += 1;
      }
    }
    auto bid = book.best(Side::kBuy), ask = book.best(Side::kSell);
    ASSERT_FALSE(bid && ask && *bid >= *ask) << "crossed book at step " << step;
    ASSERT_EQ(book.size(), model.resting.size());
  }
  std::int64_t resting = 0;
  for (const auto& o : book.orders()) resting += o.remaining;
  EXPECT_EQ(submitted, traded + cancelled + stopped + resting) << "units conserved";
}

}  // namespace
}  // namespace tph::market
