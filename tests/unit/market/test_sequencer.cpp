// The sequencer: checks, matching and in-memory settlement, group commit, restart from the
// journal (with and without a snapshot), a failing fsync, parallel submitters, and a writer
// process killed mid-session.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "market/sequencer.h"

namespace tph::market {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMetro = 1;
constexpr std::int32_t kMonday = 20260302;

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("tph-sequencer-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::unique_ptr<Sequencer> openOk(const fs::path& dir, std::function<bool(int)> sync = nullptr) {
  SequencerOptions options;
  options.journal.dir = dir;
  options.journal.sync = std::move(sync);
  auto s = Sequencer::open(std::move(options));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s.value()) : nullptr;
}

SeqProduct metro() {
  return {kMetro, 10, 4500, 5500, true};
}

PlaceCommand order(const std::string& key, std::int64_t member, Side side, std::int64_t price,
                   std::int64_t quantity) {
  return {key, kMetro, member, side, price, quantity, false, kMonday};
}

//! A product, two members: 1 sells (1,000 units), 2 buys (10,000,000 fen).
void setUp(Sequencer& s) {
  ASSERT_TRUE(s.execute(metro()).ok());
  ASSERT_TRUE(s.execute(UnitsCommand{1, kMetro, 1000}).ok());
  ASSERT_TRUE(s.execute(CashCommand{2, 10'000'000}).ok());
}

TEST(MarketSequencer, MatchesAndSettlesDeliveryVersusPayment) {
  TempDir dir;
  auto s = openOk(dir.path);
  setUp(*s);
  auto sell = s->execute(order("s1", 1, Side::kSell, 5000, 100));
  ASSERT_TRUE(sell.ok()) << sell.error().message;
  EXPECT_EQ(sell->state, "open");
  EXPECT_GT(sell->journal_seq, 0u);
  EXPECT_EQ(s->position(1, kMetro).units_reserved, 100);
  auto buy = s->execute(order("b1", 2, Side::kBuy, 5100, 60));
  ASSERT_TRUE(buy.ok()) << buy.error().message;
  EXPECT_EQ(buy->state, "filled");
  ASSERT_EQ(buy->trades.size(), 1u);
  const SeqTrade& t = buy->trades[0];
  EXPECT_EQ(t.price_fen, 5000);  // the maker's price
  EXPECT_EQ(t.quantity, 60);
  EXPECT_EQ(t.buyer_fee_fen, 300);  // 300,000 × 10 bp
  EXPECT_EQ(t.seller, 1);
  EXPECT_EQ(t.sell_order, sell->order);
  auto seller = s->position(1, kMetro), buyer = s->position(2, kMetro);
  EXPECT_EQ(seller.units, 940);
  EXPECT_EQ(seller.units_reserved, 40);
  EXPECT_EQ(seller.cash_fen, 300'000 - 300);
  EXPECT_EQ(buyer.units, 60);
  EXPECT_EQ(buyer.cash_fen, 10'000'000 - 300'000 - 300);
  EXPECT_EQ(buyer.cash_reserved_fen, 0);
  EXPECT_EQ(s->feesCollected(), 600);
  EXPECT_EQ(s->order(sell->order)->remaining, 40);
}

TEST(MarketSequencer, RefusesWhatTheRulesForbid) {
  TempDir dir;
  auto s = openOk(dir.path);
  setUp(*s);
  // Outside the band, more units than held, more cash than free, a closed product.
  EXPECT_EQ(s->execute(order("a", 1, Side::kSell, 5600, 1)).error().field, "price_fen");
  EXPECT_EQ(s->execute(order("b", 1, Side::kSell, 5000, 1001)).error().code, ErrorCode::kConflict);
  EXPECT_EQ(s->execute(order("c", 2, Side::kBuy, 5000, 2000)).error().field, "quantity");
  ASSERT_TRUE(s->execute(order("d", 1, Side::kSell, 5000, 600)).ok());
  // Reserved units cannot leave the account, reserved cash cannot be withdrawn.
  EXPECT_EQ(s->execute(UnitsCommand{1, kMetro, -401}).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(s->execute(UnitsCommand{1, kMetro, -400}).ok());
  ASSERT_TRUE(s->execute(order("e", 2, Side::kBuy, 4900, 2000)).ok());  // reserves 9,809,800
  EXPECT_EQ(s->execute(CashCommand{2, -200'201}).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(s->execute(CashCommand{2, -190'200}).ok());
  // A key used again answers the order as it is, without a second order.
  auto again = s->execute(order("d", 1, Side::kSell, 5000, 600));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->journal_seq, 0u);
  EXPECT_EQ(s->execute(order("d", 1, Side::kSell, 5000, 7)).error().field, "idempotency_key");
  // Self-trade prevention: member 1 buying against its own ask cancels the newcomer.
  ASSERT_TRUE(s->execute(CashCommand{1, 1'000'000}).ok());
  auto self = s->execute(order("f", 1, Side::kBuy, 5000, 10));
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(self->self_trade_stopped);
  EXPECT_EQ(self->state, "cancelled");
  // Someone else's order cannot be cancelled.
  EXPECT_EQ(s->execute(CancelCommand{2, 1}).error().code, ErrorCode::kNotFound);
  // The fee cannot change under open buy orders (they reserved it).
  SeqProduct dearer = metro();
  dearer.fee_bp = 20;
  EXPECT_EQ(s->execute(dearer).error().field, "fee_bp");
  SeqProduct closed = metro();
  closed.open = false;
  ASSERT_TRUE(s->execute(closed).ok());
  EXPECT_EQ(s->execute(order("g", 1, Side::kSell, 5000, 1)).error().field, "product");
}

TEST(MarketSequencer, AmendKeepsOrLosesPriorityAndPickTakesALevel) {
  TempDir dir;
  auto s = openOk(dir.path);
  setUp(*s);
  ASSERT_TRUE(s->execute(UnitsCommand{3, kMetro, 1000}).ok());
  auto a = s->execute(order("a", 1, Side::kSell, 5000, 100)).value();
  auto b = s->execute(order("b", 3, Side::kSell, 5000, 100)).value();
  // Member 1 lowers its quantity: it stays first at 50.00.
  ASSERT_TRUE(s->execute(AmendCommand{1, a.order, std::nullopt, 80}).ok());
  EXPECT_EQ(s->position(1, kMetro).units_reserved, 80);
  auto pick = s->execute(PickCommand{"p1", kMetro, 2, Side::kBuy, 1, 50});
  ASSERT_TRUE(pick.ok()) << pick.error().message;
  ASSERT_EQ(pick->trades.size(), 1u);
  EXPECT_EQ(pick->trades[0].sell_order, a.order);
  // Member 1 raises its quantity: to the back of the queue, behind member 3.
  ASSERT_TRUE(s->execute(AmendCommand{1, a.order, std::nullopt, 200}).ok());
  auto pick2 = s->execute(PickCommand{"p2", kMetro, 2, Side::kBuy, 1, 120});
  ASSERT_TRUE(pick2.ok());
  ASSERT_EQ(pick2->trades.size(), 2u);
  EXPECT_EQ(pick2->trades[0].sell_order, b.order);
  EXPECT_EQ(pick2->trades[1].sell_order, a.order);
  EXPECT_EQ(pick2->trades[1].quantity, 20);
  EXPECT_TRUE(s->execute(PickCommand{"p2", kMetro, 2, Side::kBuy, 1, 120})->duplicate);
  // A new price through the book trades at once.
  auto bid = s->execute(order("bid", 2, Side::kBuy, 4800, 10)).value();
  ASSERT_TRUE(s->execute(AmendCommand{1, a.order, 4800, std::nullopt}).ok());
  EXPECT_EQ(s->order(bid.order)->state, "filled");
  // Day orders of an earlier trading day expire.
  auto day = s->execute(PlaceCommand{"day", kMetro, 2, Side::kBuy, 4600, 5, true, kMonday});
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(s->execute(ExpireCommand{kMonday + 1})->expired, 1);
  EXPECT_EQ(s->order(day->order)->state, "expired");
  EXPECT_EQ(s->position(2, kMetro).cash_reserved_fen, 0);
}

//! Everything a restart must give back the same.
struct Picture {
  std::vector<BookOrder> book;
  std::vector<SeqPosition> positions;
  std::int64_t fees = 0;
  bool operator==(const Picture&) const = default;
};
Picture picture(const Sequencer& s, int members) {
  Picture p;
  p.book = s.bookOrders(kMetro);
  for (int m = 1; m <= members; ++m) p.positions.push_back(s.position(m, kMetro));
  p.fees = s.feesCollected();
  return p;
}

//! A seeded random session of orders, cancels, amends and picks among `members` members.
void randomSession(Sequencer& s, int members, int commands, std::uint64_t seed, int& key) {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> placed;
  for (int i = 0; i < commands; ++i) {
    std::int64_t m = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(members));
    auto r = rng() % 10;
    if (r < 6 || placed.empty()) {
      Side side = rng() % 2 ? Side::kBuy : Side::kSell;
      auto o = s.execute(order("k" + std::to_string(++key), m, side,
                               4900 + static_cast<std::int64_t>(rng() % 200),
                               1 + static_cast<std::int64_t>(rng() % 50)));
      if (o.ok()) placed.push_back(o->order);
    } else if (r < 8) {
      auto id = placed[rng() % placed.size()];
      if (auto o = s.order(id)) (void)s.execute(CancelCommand{o->member, id});
    } else if (r < 9) {
      auto id = placed[rng() % placed.size()];
      if (auto o = s.order(id))
        (void)s.execute(AmendCommand{o->member, id, 4900 + static_cast<std::int64_t>(rng() % 200),
                                     std::nullopt});
    } else {
      (void)s.execute(PickCommand{
          "pick" + std::to_string(++key), kMetro, m, rng() % 2 ? Side::kBuy : Side::kSell,
          1 + static_cast<int>(rng() % 3), 1 + static_cast<std::int64_t>(rng() % 30)});
    }
  }
}

void fund(Sequencer& s, int members) {
  ASSERT_TRUE(s.execute(metro()).ok());
  for (int m = 1; m <= members; ++m) {
    ASSERT_TRUE(s.execute(UnitsCommand{m, kMetro, 5000}).ok());
    ASSERT_TRUE(s.execute(CashCommand{m, 50'000'000}).ok());
  }
}

TEST(MarketSequencer, ARestartRebuildsTheSameStateFromTheJournal) {
  const std::uint64_t seed = 20260302;
  SCOPED_TRACE("seed " + std::to_string(seed));
  TempDir dir;
  Picture before;
  int key = 0;
  std::uint64_t durable = 0;
  {
    auto s = openOk(dir.path);
    fund(*s, 6);
    randomSession(*s, 6, 1500, seed, key);
    before = picture(*s, 6);
    durable = s->durableSeq();
    // Cash and units are conserved: what members hold plus fees is what came in.
    std::int64_t cash = before.fees, units = 0;
    for (const auto& p : before.positions) {
      cash += p.cash_fen;
      units += p.units;
    }
    EXPECT_EQ(cash, 6 * 50'000'000);
    EXPECT_EQ(units, 6 * 5000);
  }
  {
    auto s = openOk(dir.path);
    EXPECT_EQ(s->replayed(), durable);
    EXPECT_EQ(picture(*s, 6), before);
    // Opening again replays again, onto a fresh state: nothing counts twice.
  }
  auto s = openOk(dir.path);
  EXPECT_EQ(picture(*s, 6), before);
  // New work continues the numbering.
  auto next = s->execute(order("after", 1, Side::kSell, 5500, 1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->journal_seq, durable + 1);
}

//! What a writer-behind sees: the events of a session, read back from the journal while the
//! sequencer runs, rebuild every member's cash and units (DvP: each trade moves both legs and the
//! fees), with trade ids in order and each trade once.
TEST(MarketSequencer, TheJournalsEventsCarryEveryTradeOnceWithBothLegs) {
  TempDir dir;
  auto s = openOk(dir.path);
  int key = 0;
  fund(*s, 5);
  randomSession(*s, 5, 800, 99, key);
  std::map<std::int64_t, std::int64_t> cash, units;
  std::int64_t fees = 0, last_trade = 0, trades = 0, places = 0;
  std::uint64_t last_seq = 0;
  auto read = s->events(0, [&](const SeqEvent& e) -> Status {
    EXPECT_EQ(e.seq, last_seq + 1);
    last_seq = e.seq;
    switch (e.kind) {
      case SeqEventKind::kCash:
        cash[e.cash.member] += e.cash.delta_fen;
        break;
      case SeqEventKind::kUnits:
        units[e.units.member] += e.units.delta;
        break;
      case SeqEventKind::kPlace:
        ++places;
        EXPECT_EQ(e.order.remaining, e.order.quantity);
        break;
      default:
        break;
    }
    for (const auto& t : e.trades) {
      EXPECT_GT(t.id, last_trade);
      last_trade = t.id;
      ++trades;
      EXPECT_NE(t.buyer, t.seller);
      std::int64_t amount = t.price_fen * t.quantity;
      EXPECT_EQ(t.buyer_fee_fen, amount * 10 / 10'000);
      cash[t.buyer] -= amount + t.buyer_fee_fen;
      cash[t.seller] += amount - t.seller_fee_fen;
      fees += t.buyer_fee_fen + t.seller_fee_fen;
      units[t.buyer] += t.quantity;
      units[t.seller] -= t.quantity;
    }
    return {};
  });
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(last_seq, s->durableSeq());
  EXPECT_GT(trades, 50);
  EXPECT_GT(places, 300);
  EXPECT_EQ(fees, s->feesCollected());
  for (int m = 1; m <= 5; ++m) {
    auto p = s->position(m, kMetro);
    EXPECT_EQ(cash[m], p.cash_fen) << "member " << m;
    EXPECT_EQ(units[m], p.units) << "member " << m;
  }
  // A damaged record is an error for its reader, not a silent skip.
  EXPECT_FALSE(decodeSeqEvent({1, 4, "short"}).ok());
}

TEST(MarketSequencer, ACheckpointShortensReplayAndGivesTheSameState) {
  TempDir dir;
  Picture before;
  int key = 0;
  {
    auto s = openOk(dir.path);
    fund(*s, 4);
    randomSession(*s, 4, 600, 7, key);
    ASSERT_TRUE(s->checkpoint().ok());
    randomSession(*s, 4, 300, 8, key);
    before = picture(*s, 4);
  }
  auto s = openOk(dir.path);
  EXPECT_LE(s->replayed(), 300u);
  EXPECT_EQ(picture(*s, 4), before);
  // An idempotency key from before the checkpoint is still known.
  auto reused = s->execute(order("k1", 1, Side::kBuy, 4900, 1));
  EXPECT_TRUE(reused.ok() ? reused->duplicate : reused.error().field == "idempotency_key");
}

TEST(MarketSequencer, ATornTailLosesOnlyTheUnacknowledgedGroup) {
  TempDir dir;
  Picture before;
  int key = 0;
  {
    auto s = openOk(dir.path);
    fund(*s, 3);
    randomSession(*s, 3, 200, 11, key);
    before = picture(*s, 3);
  }
  fs::path last;
  for (const auto& e : fs::directory_iterator(dir.path))
    if (e.path().extension() == ".log" && e.path() > last) last = e.path();
  {
    std::ofstream out(last, std::ios::binary | std::ios::app);
    out.write("\x40\x00\x00\x00garbage-of-a-torn-write", 27);
  }
  auto s = openOk(dir.path);
  EXPECT_EQ(picture(*s, 3), before);
}

TEST(MarketSequencer, GroupCommitAnswersOnlyAfterTheSync) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false, released = false;
  int held = 0;
  auto s = openOk(dir.path, [&](int fd) {
    std::unique_lock lock(mu);
    if (hold) {
      ++held;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    return ::fdatasync(fd) == 0;
  });
  setUp(*s);
  {
    std::lock_guard lock(mu);
    hold = true;
  }
  auto first = s->submit(order("s1", 1, Side::kSell, 5000, 10));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return held == 1; });  // the writer is inside the sync
  }
  // More commands queue up behind the sync and go in the next group.
  std::vector<std::future<Result<SeqAck>>> more;
  for (int i = 0; i < 20; ++i)
    more.push_back(s->submit(order("s" + std::to_string(i + 2), 1, Side::kSell, 5000, 10)));
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(more[0].wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  {
    std::lock_guard lock(mu);
    released = true;
    hold = false;
  }
  cv.notify_all();
  ASSERT_TRUE(first.get().ok());
  std::set<std::uint64_t> seqs;
  for (auto& f : more) {
    auto r = f.get();
    ASSERT_TRUE(r.ok());
    seqs.insert(r->journal_seq);
  }
  EXPECT_EQ(seqs.size(), 20u);
  EXPECT_EQ(held, 1);  // the twenty waiting commands shared syncs, most likely one
}

TEST(MarketSequencer, AFailingSyncAcknowledgesNothing) {
  TempDir dir;
  std::atomic<bool> fail{false};
  std::vector<std::int64_t> acked;
  {
    auto s = openOk(dir.path, [&](int fd) { return !fail && ::fdatasync(fd) == 0; });
    setUp(*s);
    auto ok = s->execute(order("s1", 1, Side::kSell, 5000, 10));
    ASSERT_TRUE(ok.ok());
    acked.push_back(ok->order);
    fail = true;
    std::vector<std::future<Result<SeqAck>>> futures;
    for (int i = 0; i < 50; ++i)
      futures.push_back(s->submit(order("f" + std::to_string(i), 1, Side::kSell, 5000, 1)));
    for (auto& f : futures) {
      auto r = f.get();
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    }
    EXPECT_TRUE(s->failed());
    fail = false;  // even a healthy disk now: the sequencer stays stopped until reopened
    EXPECT_FALSE(s->execute(order("late", 1, Side::kSell, 5000, 1)).ok());
  }
  auto s = openOk(dir.path);
  for (auto id : acked) EXPECT_EQ(s->order(id)->state, "open");
  // The retried commands are accepted once: their keys either made it to disk or not.
  for (int i = 0; i < 50; ++i) {
    auto r = s->execute(order("f" + std::to_string(i), 1, Side::kSell, 5000, 1));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_EQ(s->position(1, kMetro).units_reserved, 60);
}

TEST(MarketSequencer, ParallelRequestsNeverOversellReservations) {
  TempDir dir;
  auto s = openOk(dir.path);
  ASSERT_TRUE(s->execute(metro()).ok());
  // Member 1 holds 100 units: 8 threads try to sell 10 each, 5 times.
  ASSERT_TRUE(s->execute(UnitsCommand{1, kMetro, 100}).ok());
  // Member 2 holds cash for exactly 7 buys of 10 at 50.00 with fees (50,050 fen each).
  ASSERT_TRUE(s->execute(CashCommand{2, 7 * 50'050}).ok());
  std::atomic<int> sold{0}, bought{0}, moved{0}, withdrawn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string k = std::to_string(t) + "-" + std::to_string(i);
        if (s->execute(order("s" + k, 1, Side::kSell, 5500, 10)).ok()) ++sold;
        if (s->execute(order("b" + k, 2, Side::kBuy, 5000, 10)).ok()) ++bought;
        // A transfer out and a withdrawal race the orders.
        if (s->execute(UnitsCommand{1, kMetro, -1}).ok()) ++moved;
        if (s->execute(CashCommand{2, -1}).ok()) ++withdrawn;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto seller = s->position(1, kMetro), buyer = s->position(2, kMetro);
  EXPECT_EQ(seller.units, 100 - moved);
  EXPECT_EQ(seller.units_reserved, sold * 10);
  EXPECT_LE(seller.units_reserved, seller.units);
  EXPECT_EQ(buyer.cash_fen, 7 * 50'050 - withdrawn);
  EXPECT_EQ(buyer.cash_reserved_fen, bought * 50'050);
  EXPECT_LE(buyer.cash_reserved_fen, buyer.cash_fen);
  EXPECT_GE(bought.load(), 6);  // one withdrawal of 1 fen may come first and leave room for 6
  EXPECT_LE(bought.load(), 7);
}

//! A writer process submits orders as fast as it can and reports each acknowledged key on a pipe;
//! it is killed with SIGKILL mid-stream. Reopened, every acknowledged order is there, once.
TEST(MarketSequencer, AKilledWriterLosesNoAcknowledgedOrder) {
  TempDir dir;
  {
    auto s = openOk(dir.path);
    fund(*s, 4);
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    SequencerOptions options;
    options.journal.dir = dir.path;
    auto s = Sequencer::open(std::move(options));
    if (!s) ::_exit(2);
    for (int i = 0;; ++i) {
      std::int64_t m = 1 + i % 4;
      (*s)->submit(order("kill-" + std::to_string(i), m, i % 2 ? Side::kBuy : Side::kSell,
                         4950 + (i * 7) % 100, 1 + i % 5),
                   [fd = fds[1], i](Result<SeqAck> r) {
                     if (!r.ok()) return;
                     char line[32];
                     int n = std::snprintf(line, sizeof line, "%d\n", i);
                     if (::write(fd, line, static_cast<std::size_t>(n)) != n) ::_exit(3);
                   });
      if (i % 64 == 0) ::usleep(200);  // let groups form and the parent read
    }
  }
  ::close(fds[1]);
  struct KillOnExit {  // an assertion below must not leave the writer running
    pid_t pid;
    ~KillOnExit() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } guard{child};
  std::string acked_text;
  char buf[4096];
  while (acked_text.size() < 20'000) {
    auto n = ::read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "the writer process stopped";
    acked_text.append(buf, static_cast<std::size_t>(n));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  guard.pid = 0;
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself";
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    acked_text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  std::vector<int> acked;
  std::size_t start = 0;
  for (std::size_t i = 0; i < acked_text.size(); ++i) {
    if (acked_text[i] == '\n') {
      acked.push_back(std::stoi(acked_text.substr(start, i - start)));
      start = i + 1;
    }
  }
  ASSERT_GT(acked.size(), 1000u);
  auto s = openOk(dir.path);
  ASSERT_NE(s, nullptr);
  for (int i : acked) {
    std::int64_t m = 1 + i % 4;
    auto again = s->execute(order("kill-" + std::to_string(i), m, i % 2 ? Side::kBuy : Side::kSell,
                                  4950 + (i * 7) % 100, 1 + i % 5));
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_TRUE(again->duplicate) << "acknowledged order kill-" << i << " was lost";
  }
  // Nothing doubled: cash and units are conserved, reservations match the open orders.
  std::int64_t cash = s->feesCollected(), units = 0;
  for (int m = 1; m <= 4; ++m) {
    auto p = s->position(m, kMetro);
    cash += p.cash_fen;
    units += p.units;
  }
  EXPECT_EQ(cash, 4 * 50'000'000);
  EXPECT_EQ(units, 4 * 5000);
}

}  // namespace
}  // namespace tph::market
