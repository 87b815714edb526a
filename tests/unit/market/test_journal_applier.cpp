// The journal's writer-behind: the sequencer's decisions reach the database — orders, trades
// settled delivery versus payment through the registry and the cash ledger, cash movements, audit
// events — once each, and a failure mid-batch leaves no half-settled trade.

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "market/journal_applier.h"
#include "market/sequencer.h"
#include "market_fixture.h"

namespace tph::market {
namespace {

namespace fs = std::filesystem;

class MarketJournalApplierTest : public MarketTest {
 protected:
  MarketJournalApplierTest() {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("tph-applier-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(dir_);
    SequencerOptions options;
    options.journal.dir = dir_;
    seq_ = std::move(Sequencer::open(std::move(options)).value());
    metro_ = market_.product("PHCER-METRO")->id;
    EXPECT_TRUE(seq_->execute(SeqProduct{metro_, 10, 4500, 5500, true}).ok());
    // The seller's 5,000 registry units, as the sequencer is told of them.
    EXPECT_TRUE(seq_->execute(UnitsCommand{seller_, metro_, 5000}).ok());
  }
  ~MarketJournalApplierTest() override {
    seq_.reset();
    fs::remove_all(dir_);
  }

  SeqAck run(SeqCommand command) {
    auto r = seq_->execute(std::move(command));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : SeqAck{};
  }
  PlaceCommand order(const std::string& key, std::int64_t member, Side side, std::int64_t price,
                     std::int64_t quantity) {
    return {key, metro_, member, side, price, quantity, false, 20260302};
  }
  Order stored(std::int64_t member, std::size_t index) {
    auto orders = market_.ordersOf(province_, member, false).value();
    std::sort(orders.begin(), orders.end(),
              [](const Order& a, const Order& b) { return a.id < b.id; });
    return orders.at(index);
  }

  fs::path dir_;
  std::unique_ptr<Sequencer> seq_;
  std::int64_t metro_ = 0;
};

TEST_F(MarketJournalApplierTest, AppliesOrdersTradesAndCashOnce) {
  run(CashCommand{buyer_, 1'000'000});
  run(order("s1", seller_, Side::kSell, 5000, 100));
  auto buy = run(order("b1", buyer_, Side::kBuy, 5100, 60));
  ASSERT_EQ(buy.trades.size(), 1u);
  auto pick = run(PickCommand{"p1", metro_, buyer_, Side::kBuy, 1, 15});
  ASSERT_EQ(pick.trades.size(), 1u);
  auto rest = run(order("b2", buyer_, Side::kBuy, 4900, 10));
  run(CancelCommand{buyer_, rest.order});

  JournalApplier applier(t_.db(), clock_);
  auto applied = applier.catchUp(*seq_, 2);  // small batches: several transactions
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(applied.value(), seq_->durableSeq());
  // Units and cash moved as the sequencer says: 75 units at 50.00, 10 bp each side.
  EXPECT_EQ(held(buyer_account_), Units(75));
  EXPECT_EQ(held(seller_account_), Units(4925));
  EXPECT_EQ(cash(buyer_), Fen(1'000'000 - 375'000 - 375));
  EXPECT_EQ(cash(seller_), Fen(375'000 - 375));
  EXPECT_EQ(seq_->position(buyer_, metro_).cash_fen, cash(buyer_).value());
  auto sell = stored(seller_, 0);
  EXPECT_EQ(sell.remaining, 25);
  EXPECT_EQ(sell.state, "open");
  EXPECT_EQ(stored(buyer_, 0).state, "filled");
  EXPECT_EQ(stored(buyer_, 1).state, "cancelled");
  EXPECT_EQ(market_.trades("PHCER-METRO", 10)->size(), 2u);
  // The book the old path rebuilds from the open orders is the sequencer's.
  auto book = market_.book("PHCER-METRO").value();
  ASSERT_EQ(book.asks.size(), 1u);
  EXPECT_EQ(book.asks[0].quantity, 25);
  EXPECT_TRUE(book.bids.empty());
  expectConsistent();

  // Again, and by a second applier: nothing is applied twice.
  EXPECT_EQ(applier.catchUp(*seq_).value(), applied.value());
  JournalApplier again(t_.db(), clock_);
  EXPECT_EQ(again.catchUp(*seq_).value(), applied.value());
  EXPECT_EQ(held(buyer_account_), Units(75));
  EXPECT_EQ(market_.trades("PHCER-METRO", 10)->size(), 2u);
}

TEST_F(MarketJournalApplierTest, AFailureMidBatchLeavesNoHalfSettledTrade) {
  run(CashCommand{buyer_, 1'000'000});
  run(order("s1", seller_, Side::kSell, 5000, 10));
  run(order("s2", seller_, Side::kSell, 5010, 10));
  ASSERT_EQ(run(order("b1", buyer_, Side::kBuy, 5010, 20)).trades.size(), 2u);

  JournalApplierOptions failing;
  int legs = 0;
  failing.market.between_legs = [&] {
    if (++legs == 2) throw std::runtime_error("the database went away between the legs");
  };
  JournalApplier broken(t_.db(), clock_, failing);
  auto r = broken.catchUp(*seq_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(broken.appliedSeq(), 0u);  // the whole batch rolled back, the deposit with it
  EXPECT_EQ(held(buyer_account_), Units(0));
  EXPECT_EQ(cash(buyer_), Fen(0));
  EXPECT_TRUE(market_.trades("PHCER-METRO", 10)->empty());

  JournalApplier healthy(t_.db(), clock_);
  ASSERT_TRUE(healthy.catchUp(*seq_).ok());
  EXPECT_EQ(held(buyer_account_), Units(20));
  EXPECT_EQ(market_.trades("PHCER-METRO", 10)->size(), 2u);
  EXPECT_EQ(cash(buyer_).value(), seq_->position(buyer_, metro_).cash_fen);
  expectConsistent();
}

}  // namespace
}  // namespace tph::market
