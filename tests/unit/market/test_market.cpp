// The market service on a real database: products, members and cash, listed trading with its
// bands, hours, expiry and self-trade prevention, picks, amendments, block agreements, delivery
// versus payment under an injected fault, and parallel orders that must never overspend.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "market_fixture.h"

namespace tph::market {
namespace {

TEST_F(MarketTest, CrossingOrdersSettleUnitsCashAndFeesInOneTrade) {
  fund(buyer_, 1'000'000);
  auto sell = place(seller_user_, seller_, Side::kSell, 5000, 100);
  ASSERT_TRUE(sell.ok()) << sell.error().message;
  EXPECT_EQ(sell->order.state, "open");
  auto buy = place(buyer_user_, buyer_, Side::kBuy, 5100, 60);
  ASSERT_TRUE(buy.ok()) << buy.error().message;
  ASSERT_EQ(buy->trades.size(), 1u);
  const auto& trade = buy->trades[0];
  EXPECT_EQ(trade.price, Fen(5000));  // the maker's price
  EXPECT_EQ(trade.quantity, 60);
  EXPECT_EQ(trade.amount, Fen(300'000));
  EXPECT_EQ(trade.buyer_fee, Fen(300));  // 10 bp
  EXPECT_EQ(trade.seller_fee, Fen(300));
  ASSERT_EQ(trade.serials.size(), 1u);
  EXPECT_EQ(buy->order.state, "filled");
  EXPECT_EQ(held(buyer_account_), Units(60));
  EXPECT_EQ(held(seller_account_), Units(4940));
  EXPECT_EQ(cash(buyer_), Fen(1'000'000 - 300'300));
  EXPECT_EQ(cash(seller_), Fen(299'700));
  auto seller = market_.member(seller_user_, seller_);
  EXPECT_EQ(seller->units_reserved, Units(40));
  auto book = market_.book("PHCER-METRO");
  ASSERT_EQ(book->asks.size(), 1u);
  EXPECT_EQ(book->asks[0].quantity, 40);
  auto bars = market_.daily("PHCER-METRO", 10);
  ASSERT_EQ(bars->size(), 1u);
  EXPECT_EQ((*bars)[0].close, Fen(5000));
  expectConsistent();
}

TEST_F(MarketTest, PricesStayWithinTenPercentOfThePreviousClose) {
  fund(buyer_, 10'000'000);
  // No trade yet: the reference price 50.00 is the close, so 45.00-55.00.
  auto high = place(buyer_user_, buyer_, Side::kBuy, 5501, 1);
  ASSERT_FALSE(high.ok());
  EXPECT_EQ(high.error().field, "price_fen");
  EXPECT_FALSE(place(seller_user_, seller_, Side::kSell, 4499, 1).ok());
  // Trades at 52.00 x3 and 54.00 x1: the close is their volume-weighted average.
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5200, 3).ok());
  ASSERT_TRUE(place(buyer_user_, buyer_, Side::kBuy, 5200, 3).ok());
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5400, 1).ok());
  ASSERT_TRUE(place(buyer_user_, buyer_, Side::kBuy, 5500, 1).ok());
  clock_.advance(std::chrono::hours(24));
  auto band = market_.book("PHCER-METRO")->band;
  EXPECT_EQ(band.previous_close, Fen(5250));  // (3 * 5200 + 5400) / 4
  EXPECT_EQ(band.high, Fen(5775));
  EXPECT_EQ(band.low, Fen(4725));
  EXPECT_TRUE(place(buyer_user_, buyer_, Side::kBuy, 5775, 1).ok());
  EXPECT_FALSE(place(buyer_user_, buyer_, Side::kBuy, 5776, 1).ok());
  EXPECT_FALSE(place(seller_user_, seller_, Side::kSell, 4724, 1).ok());
  EXPECT_TRUE(place(seller_user_, seller_, Side::kSell, 4725, 1).ok());
}

TEST_F(MarketTest, TradingHoursAndWorkingDays) {
  fund(buyer_, 1'000'000);
  clock_.set(*parseIso8601("2026-03-02T04:00:00Z"));  // 12:00, lunch break
  auto lunch = place(buyer_user_, buyer_, Side::kBuy, 5000, 1);
  ASSERT_FALSE(lunch.ok());
  EXPECT_NE(lunch.error().message.find("closed"), std::string::npos);
  clock_.set(*parseIso8601("2026-03-02T05:30:00Z"));  // 13:30 opens
  EXPECT_TRUE(place(buyer_user_, buyer_, Side::kBuy, 5000, 1).ok());
  clock_.set(*parseIso8601("2026-03-02T07:30:00Z"));  // 15:30 has closed
  EXPECT_FALSE(place(buyer_user_, buyer_, Side::kBuy, 5000, 1).ok());
  clock_.set(*parseIso8601("2026-03-07T02:00:00Z"));  // Saturday
  EXPECT_FALSE(place(buyer_user_, buyer_, Side::kBuy, 5000, 1).ok());
}

TEST_F(MarketTest, DayOrdersExpireGoodTillCancelledStay) {
  fund(buyer_, 1'000'000);
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5000, 10).ok());
  ASSERT_TRUE(
      place(seller_user_, seller_, Side::kSell, 5010, 10, TimeInForce::kGoodTillCancelled).ok());
  EXPECT_EQ(market_.member(seller_user_, seller_)->units_reserved, Units(20));
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(market_.member(seller_user_, seller_)->units_reserved, Units(10));
  auto buy = place(buyer_user_, buyer_, Side::kBuy, 5010, 15);
  ASSERT_TRUE(buy.ok()) << buy.error().message;
  ASSERT_EQ(buy->trades.size(), 1u);
  EXPECT_EQ(buy->trades[0].price, Fen(5010));  // the expired 5000 was not there
  EXPECT_EQ(buy->order.remaining, 5);
  auto orders = market_.ordersOf(seller_user_, seller_, false);
  int expired = 0;
  for (const auto& o : *orders) expired += o.state == "expired";
  EXPECT_EQ(expired, 1);
  expectConsistent();
}

TEST_F(MarketTest, ReservationsStopOverspendingAndOverselling) {
  fund(buyer_, 100'100);  // 20 units at 5000 plus 10 bp
  ASSERT_TRUE(place(buyer_user_, buyer_, Side::kBuy, 5000, 20).ok());
  auto more = place(buyer_user_, buyer_, Side::kBuy, 4600, 1);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::kConflict);
  auto withdraw = market_.withdraw(province_, buyer_, Fen(1), "w1", "BANK");
  EXPECT_FALSE(withdraw.ok());
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5100, 5000).ok());
  EXPECT_FALSE(place(seller_user_, seller_, Side::kSell, 5100, 1).ok());
  auto free = market_.freeUnits(seller_user_, seller_, "PHCER-METRO");
  EXPECT_EQ(*free, Units(0));
}

TEST_F(MarketTest, SelfTradePreventionStopsTheIncomingOrder) {
  fund(seller_, 1'000'000);
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5000, 10).ok());
  auto own = place(seller_user_, seller_, Side::kBuy, 5000, 5);
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->self_trade_stopped);
  EXPECT_TRUE(own->trades.empty());
  EXPECT_EQ(own->order.state, "cancelled");
}

TEST_F(MarketTest, PickTakesOneOfTheBestFiveLevels) {
  fund(buyer_, 10'000'000);
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5000 + i * 10, 10).ok());
  auto book = market_.book("PHCER-METRO");
  EXPECT_EQ(book->asks.size(), 5u);
  auto picked = market_.pick(buyer_user_, {"pick-1", "PHCER-METRO", buyer_, Side::kBuy, 3, 4});
  ASSERT_TRUE(picked.ok()) << picked.error().message;
  ASSERT_EQ(picked->trades.size(), 1u);
  EXPECT_EQ(picked->trades[0].price, Fen(5020));
  EXPECT_EQ(held(buyer_account_), Units(4));
  auto bad = market_.pick(buyer_user_, {"pick-2", "PHCER-METRO", buyer_, Side::kBuy, 6, 1});
  EXPECT_FALSE(bad.ok());
  expectConsistent();
}

TEST_F(MarketTest, AmendingKeepsOrLosesPriority) {
  fund(buyer_, 10'000'000);
  auto first = place(seller_user_, seller_, Side::kSell, 5000, 10);
  auto other_user_account = open("Third", buyer_user_);
  (void)other_user_account;
  ASSERT_TRUE(first.ok());
  // Reducing keeps the place; raising the quantity loses it.
  auto reduced = market_.amendOrder(seller_user_, {first->order.id, std::nullopt, 8});
  ASSERT_TRUE(reduced.ok()) << reduced.error().message;
  EXPECT_EQ(reduced->order.remaining, 8);
  auto repriced = market_.amendOrder(seller_user_, {first->order.id, Fen(4990), std::nullopt});
  ASSERT_TRUE(repriced.ok()) << repriced.error().message;
  EXPECT_EQ(market_.book("PHCER-METRO")->asks[0].price_fen, 4990);
  auto cancelled = market_.cancelOrder(seller_user_, first->order.id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_FALSE(market_.cancelOrder(seller_user_, first->order.id).ok());
  EXPECT_TRUE(market_.book("PHCER-METRO")->asks.empty());
  EXPECT_EQ(market_.member(seller_user_, seller_)->units_reserved, Units(0));
  // Nobody else cancels it.
  auto second = place(seller_user_, seller_, Side::kSell, 5000, 1);
  EXPECT_EQ(market_.cancelOrder(buyer_user_, second->order.id).error().code, ErrorCode::kForbidden);
}

TEST_F(MarketTest, BlockAgreementsHaveAThresholdAndAThirtyPercentBand) {
  fund(buyer_, 100'000'000);
  auto small =
      market_.proposeBlock(seller_user_, {"b0", "PHCER-METRO", seller_, buyer_, Fen(5000), 999});
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().field, "quantity");
  EXPECT_FALSE(
      market_.proposeBlock(seller_user_, {"b1", "PHCER-METRO", seller_, buyer_, Fen(6501), 1000})
          .ok());
  EXPECT_FALSE(
      market_.proposeBlock(seller_user_, {"b2", "PHCER-METRO", seller_, buyer_, Fen(3499), 1000})
          .ok());
  auto deal =
      market_.proposeBlock(seller_user_, {"b3", "PHCER-METRO", seller_, buyer_, Fen(6500), 1000});
  ASSERT_TRUE(deal.ok()) << deal.error().message;
  EXPECT_EQ(market_.member(seller_user_, seller_)->units_reserved, Units(1000));
  // Only the buyer confirms.
  EXPECT_FALSE(market_.confirmBlock(seller_user_, deal->id).ok());
  auto done = market_.confirmBlock(buyer_user_, deal->id);
  ASSERT_TRUE(done.ok()) << done.error().message;
  ASSERT_TRUE(done->trade);
  EXPECT_EQ(done->trade->mode, "block");
  EXPECT_EQ(held(buyer_account_), Units(1000));
  EXPECT_EQ(cash(buyer_), Fen(100'000'000 - 6'500'000 - 6'500));
  EXPECT_EQ(market_.member(seller_user_, seller_)->units_reserved, Units(0));
  EXPECT_FALSE(market_.confirmBlock(buyer_user_, deal->id).ok());
  // Block trades do not set the listed close.
  EXPECT_EQ(market_.book("PHCER-METRO")->band.previous_close, Fen(5000));
  expectConsistent();
}

TEST_F(MarketTest, SuspendedOrUnadmittedProductsDoNotTrade) {
  ASSERT_TRUE(market_.setSuspended(province_, "PHCER-METRO", true).ok());
  EXPECT_FALSE(place(seller_user_, seller_, Side::kSell, 5000, 1).ok());
  ASSERT_TRUE(market_.setSuspended(province_, "PHCER-METRO", false).ok());
  EXPECT_TRUE(place(seller_user_, seller_, Side::kSell, 5000, 1).ok());
  // Units of another methodology are not units of this product.
  issueTo(buyer_account_, 50, "energy.solar");
  EXPECT_FALSE(place(buyer_user_, buyer_, Side::kSell, 5000, 1).ok());
  EXPECT_EQ(market_.admitProduct(seller_user_, Product{}).error().code, ErrorCode::kForbidden);
}

class MarketFaultTest : public MarketTest {
 protected:
  MarketFaultTest() : MarketTest(options()) {}
  static MarketOptions options() {
    MarketOptions o;
    o.between_legs = [] {
      if (fail.load()) throw std::runtime_error("injected fault between the legs");
    };
    return o;
  }
  static inline std::atomic<bool> fail{false};
};

TEST_F(MarketFaultTest, AFaultBetweenTheLegsLeavesNeither) {
  fund(buyer_, 1'000'000);
  ASSERT_TRUE(place(seller_user_, seller_, Side::kSell, 5000, 10).ok());
  fail = true;
  EXPECT_THROW((void)place(buyer_user_, buyer_, Side::kBuy, 5000, 10), std::runtime_error);
  fail = false;
  EXPECT_EQ(held(buyer_account_), Units(0));
  EXPECT_EQ(held(seller_account_), Units(5000));
  EXPECT_EQ(cash(buyer_), Fen(1'000'000));
  EXPECT_EQ(cash(seller_), Fen(0));
  EXPECT_TRUE(market_.trades("PHCER-METRO", 10)->empty());
  // The book was rebuilt from storage: the resting order is still whole and trades next time.
  auto book = market_.book("PHCER-METRO");
  ASSERT_EQ(book->asks.size(), 1u);
  EXPECT_EQ(book->asks[0].quantity, 10);
  auto buy = place(buyer_user_, buyer_, Side::kBuy, 5000, 10);
  ASSERT_TRUE(buy.ok());
  EXPECT_EQ(buy->trades.size(), 1u);
  expectConsistent();
}

TEST_F(MarketTest, ParallelOrdersNeverOverspendCashOrUnits) {
  fund(buyer_, 5'005 * 40);  // exactly 40 units at 50.00 with the fee
  constexpr int kThreads = 4, kEach = 20;
  std::atomic<int> buys_ok{0}, sells_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        auto b = market_.placeOrder(buyer_user_, {"pb-" + key, "PHCER-METRO", buyer_, Side::kBuy,
                                                  Fen(5000), 1, TimeInForce::kDay});
        if (b.ok()) ++buys_ok;
        auto s = market_.placeOrder(seller_user_, {"ps-" + key, "PHCER-METRO", seller_, Side::kSell,
                                                   Fen(5000), 100, TimeInForce::kDay});
        if (s.ok()) ++sells_ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(sells_ok.load(), 50);  // 5000 units, 100 an order
  EXPECT_LE(buys_ok.load(), 40);
  auto buyer = market_.member(province_, buyer_);
  EXPECT_FALSE(buyer->cash.isNegative());
  EXPECT_FALSE(buyer->cash_free.isNegative());
  EXPECT_EQ(held(buyer_account_).value() + held(seller_account_).value(), 5000);
  EXPECT_EQ(cash(buyer_) + cash(seller_) + t_.db().read([](soci::session& sql) {
    long long fees = 0;
    soci::indicator ind;
    sql << "SELECT balance FROM market_cash_accounts WHERE code = 'exchange:fees'",
        soci::into(fees, ind);
    return Fen(sql.got_data() ? fees : 0);
  }),
            Fen(5'005 * 40));
  expectConsistent();
}

}  // namespace
}  // namespace tph::market
