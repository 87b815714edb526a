// One-way auctions (单向竞价) on a real database: the clearing order (price, then time), pay-as-bid
// amounts and fees, the marginal bid's partial fill, the reserve price and the window, reservations
// that stop overbidding and are released at the close or a cancellation, sealed bids, and delivery
// versus payment under an injected fault.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "market_fixture.h"

namespace tph::market {
namespace {

class AuctionTest : public MarketTest {
 protected:
  explicit AuctionTest(MarketOptions options = {}) : MarketTest(std::move(options)) {
    third_user_ = user("third", Role::kExchangeMember, "");
    third_account_ = open("Third Trust", third_user_);
    third_ = market_.registerMember(province_, third_account_, "Third Trust", "institution")->id;
  }

  //! Opens now (10:00) and closes at 11:00.
  Result<Auction> announce(const Principal& who, std::int64_t member, Side side,
                           std::int64_t quantity, std::int64_t reserve_fen) {
    static int n = 0;
    return market_.announceAuction(
        who, {"a-" + std::to_string(++n), "PHCER-METRO", member, side, quantity, Fen(reserve_fen),
              clock_.now(), clock_.now() + std::chrono::hours(1)});
  }
  Result<AuctionBid> bid(const Principal& who, std::int64_t member, std::int64_t auction,
                         std::int64_t price_fen, std::int64_t quantity) {
    static int n = 0;
    clock_.advance(std::chrono::seconds(1));  // distinct times
    return market_.submitBid(
        who, {"b-" + std::to_string(++n), auction, member, Fen(price_fen), quantity});
  }
  void afterClose() { clock_.advance(std::chrono::hours(1)); }
  Fen fees() {
    return t_.db().read([](soci::session& sql) {
      long long fees = 0;
      soci::indicator ind;
      sql << "SELECT balance FROM market_cash_accounts WHERE code = 'exchange:fees'",
          soci::into(fees, ind);
      return Fen(sql.got_data() ? fees : 0);
    });
  }
  Member view(std::int64_t member) { return market_.member(province_, member).value(); }

  Principal third_user_;
  std::string third_account_;
  std::int64_t third_ = 0;
};

TEST_F(AuctionTest, ASaleClearsByPriceThenTimePayAsBidWithThePartialMarginalBid) {
  fund(buyer_, 1'000'000);
  fund(third_, 1'000'000);
  auto a = announce(seller_user_, seller_, Side::kSell, 100, 4000);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(view(seller_).units_reserved, Units(100));
  auto b1 = bid(buyer_user_, buyer_, a->id, 4500, 60);  // second: 4500, earlier
  auto b2 = bid(third_user_, third_, a->id, 4800, 30);  // first: the highest
  auto b3 = bid(third_user_, third_, a->id, 4500, 30);  // third: 4500, later — gets 10
  auto b4 = bid(buyer_user_, buyer_, a->id, 4200, 10);  // loses
  for (auto* b : {&b1, &b2, &b3, &b4}) ASSERT_TRUE(b->ok()) << b->error().message;
  EXPECT_EQ(view(buyer_).cash_reserved, Fen(270'000 + 270 + 42'000 + 42));

  // Sealed: before the close each bidder sees only its own bids, the announcer none.
  EXPECT_EQ(market_.auctionBids(buyer_user_, a->id)->size(), 2u);
  EXPECT_EQ(market_.auctionBids(seller_user_, a->id)->size(), 0u);
  EXPECT_EQ(market_.auctionBids(province_, a->id)->size(), 0u);
  EXPECT_EQ(market_.closeAuction(seller_user_, a->id).error().code, ErrorCode::kConflict);

  afterClose();
  EXPECT_EQ(bid(buyer_user_, buyer_, a->id, 5000, 1).error().code, ErrorCode::kConflict);
  EXPECT_EQ(market_.closeAuction(buyer_user_, a->id).error().code, ErrorCode::kForbidden);
  auto cleared = market_.closeAuction(seller_user_, a->id);
  ASSERT_TRUE(cleared.ok()) << cleared.error().message;
  const auto& bids = cleared->bids;
  ASSERT_EQ(bids.size(), 4u);
  EXPECT_EQ(bids[0].id, b2->id);
  EXPECT_EQ(bids[1].id, b1->id);
  EXPECT_EQ(bids[2].id, b3->id);
  EXPECT_EQ(bids[3].id, b4->id);
  EXPECT_EQ(bids[0].state, "won");
  EXPECT_EQ(bids[1].state, "won");
  EXPECT_EQ(bids[2].state, "partly_won");
  EXPECT_EQ(bids[2].filled, 10);
  EXPECT_EQ(bids[3].state, "lost");
  EXPECT_EQ(bids[3].filled, 0);
  ASSERT_EQ(cleared->trades.size(), 3u);
  EXPECT_EQ(cleared->trades[0].price, Fen(4800));  // pay-as-bid
  EXPECT_EQ(cleared->trades[0].amount, Fen(144'000));
  EXPECT_EQ(cleared->trades[1].amount, Fen(270'000));
  EXPECT_EQ(cleared->trades[2].amount, Fen(45'000));
  EXPECT_EQ(cleared->trades[2].buyer_fee, Fen(45));
  for (const auto& t : cleared->trades) {
    EXPECT_EQ(t.mode, "auction");
    EXPECT_EQ(t.seller_member_id, seller_);
  }

  const Auction& result = cleared->auction;
  EXPECT_EQ(result.state, "cleared");
  EXPECT_EQ(result.cleared_quantity, 100);
  EXPECT_EQ(result.cleared_amount, Fen(459'000));
  EXPECT_EQ(result.low_price, Fen(4500));
  EXPECT_EQ(result.high_price, Fen(4800));
  EXPECT_EQ(result.averagePrice(), Fen(4590));
  EXPECT_EQ(result.bids_count, 4);
  EXPECT_EQ(market_.auction(a->id)->cleared_quantity, 100);

  // Units and cash moved, fees to the exchange, every reservation released.
  EXPECT_EQ(held(seller_account_), Units(4900));
  EXPECT_EQ(held(buyer_account_), Units(60));
  EXPECT_EQ(held(third_account_), Units(40));
  EXPECT_EQ(cash(buyer_), Fen(1'000'000 - 270'270));
  EXPECT_EQ(cash(third_), Fen(1'000'000 - 144'144 - 45'045));
  EXPECT_EQ(cash(seller_), Fen(459'000 - 459));
  EXPECT_EQ(fees(), Fen(918));
  EXPECT_EQ(view(buyer_).cash_reserved, Fen(0));
  EXPECT_EQ(view(third_).cash_reserved, Fen(0));
  EXPECT_EQ(view(seller_).units_reserved, Units(0));

  // After the clearing the announcer and the province see every bid, a bidder its own.
  EXPECT_EQ(market_.auctionBids(seller_user_, a->id)->size(), 4u);
  EXPECT_EQ(market_.auctionBids(province_, a->id)->size(), 4u);
  EXPECT_EQ(market_.auctionBids(third_user_, a->id)->size(), 2u);
  EXPECT_EQ(market_.closeAuction(seller_user_, a->id).error().code, ErrorCode::kConflict);
  expectConsistent();
}

TEST_F(AuctionTest, APurchaseTakesTheLowestOffersAndReservesAtTheReservePrice) {
  issueTo(third_account_, 100);
  fund(buyer_, 250'250);  // 50 units at 50.00 with the 10 bp fee
  EXPECT_EQ(announce(buyer_user_, buyer_, Side::kBuy, 51, 5000).error().code, ErrorCode::kConflict);
  auto a = announce(buyer_user_, buyer_, Side::kBuy, 50, 5000);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(view(buyer_).cash_free, Fen(0));
  EXPECT_EQ(bid(seller_user_, seller_, a->id, 5001, 40).error().field, "price_fen");
  auto s = bid(seller_user_, seller_, a->id, 4900, 40);
  auto t = bid(third_user_, third_, a->id, 4700, 30);
  ASSERT_TRUE(s.ok() && t.ok());
  EXPECT_EQ(view(third_).units_reserved, Units(30));
  afterClose();
  auto cleared = market_.closeAuction(province_, a->id);
  ASSERT_TRUE(cleared.ok()) << cleared.error().message;
  ASSERT_EQ(cleared->trades.size(), 2u);
  EXPECT_EQ(cleared->trades[0].seller_member_id, third_);
  EXPECT_EQ(cleared->trades[0].quantity, 30);
  EXPECT_EQ(cleared->trades[1].seller_member_id, seller_);
  EXPECT_EQ(cleared->trades[1].quantity, 20);
  EXPECT_EQ(cleared->bids[1].state, "partly_won");
  EXPECT_EQ(cleared->auction.averagePrice(), Fen((141'000 + 98'000 + 25) / 50));
  EXPECT_EQ(held(buyer_account_), Units(50));
  EXPECT_EQ(cash(buyer_), Fen(250'250 - 239'000 - 239));
  EXPECT_EQ(view(buyer_).cash_reserved, Fen(0));
  EXPECT_EQ(view(seller_).units_reserved, Units(0));
  EXPECT_EQ(view(third_).units_reserved, Units(0));
  expectConsistent();
}

TEST_F(AuctionTest, ReservationsStopOverbiddingAndOverselling) {
  fund(buyer_, 5'005 * 10);
  auto a = announce(seller_user_, seller_, Side::kSell, 4000, 4000);
  ASSERT_TRUE(a.ok());
  // The announced units are not free for listing or another auction.
  EXPECT_EQ(place(seller_user_, seller_, Side::kSell, 5000, 1001).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(announce(seller_user_, seller_, Side::kSell, 1001, 4000).error().code,
            ErrorCode::kConflict);
  EXPECT_TRUE(place(seller_user_, seller_, Side::kSell, 5000, 1000).ok());

  auto b = bid(buyer_user_, buyer_, a->id, 5000, 10);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(bid(buyer_user_, buyer_, a->id, 5000, 1).error().field, "quantity");
  EXPECT_EQ(place(buyer_user_, buyer_, Side::kBuy, 5000, 1).error().code, ErrorCode::kConflict);
  EXPECT_EQ(market_.withdraw(province_, buyer_, Fen(1), "w-1", "BANK").error().code,
            ErrorCode::kConflict);
  // An amendment is covered by what is free besides the bid's own reservation.
  EXPECT_EQ(market_.amendBid(buyer_user_, {b->id, std::nullopt, 11}).error().code,
            ErrorCode::kConflict);
  auto lower = market_.amendBid(buyer_user_, {b->id, Fen(4900), 10});
  ASSERT_TRUE(lower.ok()) << lower.error().message;
  EXPECT_EQ(view(buyer_).cash_free, Fen(5'005 * 10 - 49'049));
  auto withdrawn = market_.withdrawBid(buyer_user_, b->id);
  ASSERT_TRUE(withdrawn.ok());
  EXPECT_EQ(withdrawn->state, "withdrawn");
  EXPECT_EQ(view(buyer_).cash_free, Fen(5'005 * 10));
  EXPECT_EQ(market_.withdrawBid(buyer_user_, b->id).error().code, ErrorCode::kConflict);
  EXPECT_EQ(market_.withdrawBid(third_user_, b->id).error().code, ErrorCode::kForbidden);
  expectConsistent();
}

TEST_F(AuctionTest, AmendingKeepsTimeForLessAndLosesItForANewPrice) {
  fund(buyer_, 1'000'000);
  fund(third_, 1'000'000);
  auto a = announce(seller_user_, seller_, Side::kSell, 10, 4000);
  auto first = bid(buyer_user_, buyer_, a->id, 5000, 10);
  auto second = bid(third_user_, third_, a->id, 5000, 10);
  ASSERT_TRUE(first.ok() && second.ok());
  // Less at the same price: still first in time.
  auto kept = market_.amendBid(buyer_user_, {first->id, std::nullopt, 8});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->at, first->at);
  // The second bidder re-prices down and back up: it is now the latest at 5000.
  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(market_.amendBid(third_user_, {second->id, Fen(4999), std::nullopt}).ok());
  ASSERT_TRUE(market_.amendBid(third_user_, {second->id, Fen(5000), std::nullopt}).ok());
  afterClose();
  auto cleared = market_.closeAuction(seller_user_, a->id);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->bids[0].id, first->id);
  EXPECT_EQ(cleared->bids[0].filled, 8);
  EXPECT_EQ(cleared->bids[1].filled, 2);
  EXPECT_EQ(cleared->bids[1].state, "partly_won");
}

TEST_F(AuctionTest, ReservePriceWindowAndRolesAreChecked) {
  fund(buyer_, 1'000'000);
  Instant now = clock_.now();
  auto request = [&](Instant opens, Instant closes) {
    return AnnounceAuctionRequest{
        "w-" + std::to_string(toEpochMs(opens)) + "-" + std::to_string(toEpochMs(closes)),
        "PHCER-METRO",
        seller_,
        Side::kSell,
        10,
        Fen(4000),
        opens,
        closes};
  };
  using std::chrono::hours;
  EXPECT_EQ(market_.announceAuction(seller_user_, request(now, now)).error().field, "closes_at");
  EXPECT_EQ(
      market_.announceAuction(seller_user_, request(now - hours(3), now - hours(1))).error().field,
      "closes_at");
  EXPECT_EQ(
      market_.announceAuction(seller_user_, request(now - hours(3), now + hours(1))).error().field,
      "opens_at");
  EXPECT_EQ(market_.announceAuction(seller_user_, request(now, now + hours(24 * 40))).error().field,
            "closes_at");
  EXPECT_EQ(market_.announceAuction(buyer_user_, request(now, now + hours(1))).error().code,
            ErrorCode::kForbidden);
  auto bad_product = request(now, now + hours(1));
  bad_product.product = "PHCER-NONE";
  EXPECT_EQ(market_.announceAuction(seller_user_, bad_product).error().code, ErrorCode::kNotFound);

  // The province announces for a member (say, the provincial inventory); a later opening.
  auto later = market_.announceAuction(province_, request(now + hours(1), now + hours(2)));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->phase, "upcoming");
  EXPECT_EQ(bid(buyer_user_, buyer_, later->id, 5000, 1).error().field, "auction_id");
  clock_.advance(hours(1));
  EXPECT_EQ(market_.auction(later->id)->phase, "open");
  EXPECT_EQ(bid(buyer_user_, buyer_, later->id, 3999, 1).error().field, "price_fen");
  EXPECT_EQ(bid(buyer_user_, buyer_, later->id, 4000, 11).error().field, "quantity");
  EXPECT_EQ(bid(seller_user_, seller_, later->id, 4000, 1).error().field, "member_id");
  EXPECT_EQ(bid(third_user_, buyer_, later->id, 4000, 1).error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(bid(buyer_user_, buyer_, later->id, 4000, 1).ok());  // exactly the reserve
  // A retried announcement answers the first; the same key for another auction is refused.
  auto again = market_.announceAuction(province_, request(now + hours(1), now + hours(2)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, later->id);
}

TEST_F(AuctionTest, CancellingBeforeTheCloseReleasesEveryReservation) {
  fund(buyer_, 1'000'000);
  auto a = announce(seller_user_, seller_, Side::kSell, 100, 4000);
  auto b = bid(buyer_user_, buyer_, a->id, 5000, 100);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(market_.cancelAuction(buyer_user_, a->id).error().code, ErrorCode::kForbidden);
  auto cancelled = market_.cancelAuction(seller_user_, a->id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->state, "cancelled");
  EXPECT_EQ(market_.auctionBids(buyer_user_, a->id)->at(0).state, "cancelled");
  EXPECT_EQ(view(buyer_).cash_reserved, Fen(0));
  EXPECT_EQ(view(seller_).units_reserved, Units(0));
  EXPECT_EQ(market_.cancelAuction(seller_user_, a->id).error().code, ErrorCode::kConflict);

  // After the close only the clearing is left to the announcer.
  auto other = announce(seller_user_, seller_, Side::kSell, 100, 4000);
  afterClose();
  EXPECT_EQ(market_.cancelAuction(seller_user_, other->id).error().code, ErrorCode::kConflict);
  EXPECT_TRUE(market_.cancelAuction(province_, other->id).ok());
  EXPECT_TRUE(market_.trades("PHCER-METRO", 10)->empty());
  expectConsistent();
}

TEST_F(AuctionTest, ThePeriodicJobClearsOnlyAuctionsPastTheirClose) {
  fund(buyer_, 1'000'000);
  auto soon = announce(seller_user_, seller_, Side::kSell, 10, 4000);
  clock_.advance(std::chrono::minutes(30));
  auto later = announce(seller_user_, seller_, Side::kSell, 10, 4000);
  ASSERT_TRUE(bid(buyer_user_, buyer_, soon->id, 4000, 5).ok());
  clock_.advance(std::chrono::minutes(31));
  auto done = market_.closeDueAuctions("system:market-close-auctions");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].auction_id, soon->id);
  ASSERT_TRUE(done[0].outcome.ok());
  EXPECT_EQ(done[0].outcome->auction.cleared_quantity, 5);
  EXPECT_EQ(market_.auction(later->id)->state, "open");
  EXPECT_TRUE(market_.closeDueAuctions("system").empty());
  EXPECT_EQ(held(buyer_account_), Units(5));
}

TEST_F(AuctionTest, NoBidsClearsNothingAndReleasesTheAnnouncer) {
  auto a = announce(seller_user_, seller_, Side::kSell, 100, 4000);
  afterClose();
  auto cleared = market_.closeAuction(seller_user_, a->id);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->auction.cleared_quantity, 0);
  EXPECT_FALSE(cleared->auction.low_price.has_value());
  EXPECT_EQ(view(seller_).units_reserved, Units(0));
}

TEST_F(AuctionTest, ParallelBidsNeverOverspend) {
  fund(buyer_, 5'005 * 10);  // ten units at 50.00 with the fee
  auto a = announce(seller_user_, seller_, Side::kSell, 1000, 5000);
  ASSERT_TRUE(a.ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        auto r = market_.submitBid(
            buyer_user_,
            {"pb-" + std::to_string(t) + "-" + std::to_string(i), a->id, buyer_, Fen(5000), 1});
        if (r.ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(view(buyer_).cash_free, Fen(0));
  afterClose();
  auto cleared = market_.closeAuction(seller_user_, a->id);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->auction.cleared_quantity, 10);
  EXPECT_EQ(cash(buyer_), Fen(0));
  expectConsistent();
}

class AuctionFaultTest : public AuctionTest {
 protected:
  AuctionFaultTest() : AuctionTest(options()) {}
  static MarketOptions options() {
    MarketOptions o;
    o.between_legs = [] {
      if (fail.load()) throw std::runtime_error("injected fault between the legs");
    };
    return o;
  }
  static inline std::atomic<bool> fail{false};
};

TEST_F(AuctionFaultTest, AFaultInTheClearingLeavesNoLegAndNoResult) {
  fund(buyer_, 1'000'000);
  fund(third_, 1'000'000);
  auto a = announce(seller_user_, seller_, Side::kSell, 100, 4000);
  ASSERT_TRUE(bid(buyer_user_, buyer_, a->id, 5000, 50).ok());
  ASSERT_TRUE(bid(third_user_, third_, a->id, 4500, 50).ok());
  afterClose();
  fail = true;
  EXPECT_THROW((void)market_.closeAuction(seller_user_, a->id), std::runtime_error);
  fail = false;
  EXPECT_EQ(market_.auction(a->id)->state, "open");
  EXPECT_EQ(held(seller_account_), Units(5000));
  EXPECT_EQ(cash(buyer_), Fen(1'000'000));
  EXPECT_EQ(cash(seller_), Fen(0));
  EXPECT_TRUE(market_.trades("PHCER-METRO", 10)->empty());
  auto sealed = market_.auctionBids(buyer_user_, a->id).value();
  for (const auto& b : sealed) EXPECT_EQ(b.state, "sealed");
  auto cleared = market_.closeAuction(seller_user_, a->id);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(cleared->trades.size(), 2u);
  EXPECT_EQ(held(seller_account_), Units(4900));
  expectConsistent();
}

}  // namespace
}  // namespace tph::market
