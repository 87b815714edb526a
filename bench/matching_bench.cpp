// The in-memory matching engine on a generated stream of limit orders and cancels (about one
// cancel in five), prices around a mid that wanders, many members. Reports orders/s; the stream
// is generated before timing so only matching is measured. Target: 1,000,000 orders/s on one core.
//
// The second figure is the same stream with the durable journal on: every order and cancel goes
// through the Sequencer, which checks it against cash and units, matches, settles in memory,
// appends its record to the journal and answers only after the group's fdatasync (group commit).
// One client pipelines up to a window of commands (many clients at once); latency is submit to
// durable answer. Target in the issue: 200,000 orders/s. The database is not written meanwhile.
//
// The third figure is the writer-behind alone: the journal's events applied to SQLite in batches.
//
// The fourth figure is today's server path: every order and cancel through MarketService, one
// database transaction each (with its fills, settlement, reservations and audit events) before
// answering — on SQLite in WAL mode with synchronous=NORMAL and synchronous=FULL.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <vector>

#include "auth/auth_service.h"
#include "issued_units.h"
#include "market/journal_applier.h"
#include "market/market_service.h"
#include "market/order_book.h"
#include "market/sequencer.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "store/migrations.h"

namespace {

using tph::market::BookOrder;
using tph::market::OrderBook;
using tph::market::Side;

struct Action {
  bool cancel = false;
  BookOrder order;
  std::int64_t cancel_id = 0;
};

std::vector<Action> stream(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<Action> out;
  out.reserve(n);
  std::int64_t mid = 5000, next = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 1000 == 0) mid += static_cast<std::int64_t>(rng() % 21) - 10;
    if (rng() % 5 == 0 && next > 1) {
      out.push_back({true, {}, 1 + static_cast<std::int64_t>(rng() % next)});
      continue;
    }
    Side side = rng() % 2 ? Side::kBuy : Side::kSell;
    std::int64_t offset = static_cast<std::int64_t>(rng() % 40) - 10;
    std::int64_t price = side == Side::kBuy ? mid - offset : mid + offset;
    out.push_back({false,
                   {next, static_cast<std::int64_t>(rng() % 500), side, price,
                    1 + static_cast<std::int64_t>(rng() % 100), next},
                   0});
    ++next;
  }
  return out;
}

void BM_MatchOrdersAndCancels(benchmark::State& state) {
  auto actions = stream(static_cast<std::size_t>(state.range(0)));
  std::int64_t fills = 0;
  for (auto _ : state) {
    OrderBook book;
    for (const auto& a : actions) {
      if (a.cancel) {
        benchmark::DoNotOptimize(book.cancel(a.cancel_id));
      } else {
        fills += static_cast<std::int64_t>(book.submit(a.order).fills.size());
      }
    }
    benchmark::DoNotOptimize(book.size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["orders_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
  state.counters["fills"] = static_cast<double>(fills) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MatchOrdersAndCancels)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

double processCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

//! The stream through the Sequencer with the journal on a real disk (the temporary directory).
void BM_SequencerGroupCommit(benchmark::State& state) {
  using namespace tph::market;
  const std::int64_t window = state.range(1);  // commands in flight: clients waiting at once
  constexpr std::int64_t kProduct = 1, kMembers = 500;
  auto actions = stream(static_cast<std::size_t>(state.range(0)));
  std::vector<std::int64_t> member_of(actions.size() + 2, 0);
  for (const auto& a : actions)
    if (!a.cancel) member_of[static_cast<std::size_t>(a.order.id)] = a.order.member;
  std::vector<std::chrono::steady_clock::time_point> sent(actions.size());
  std::vector<std::int64_t> latency_ns(actions.size());
  std::int64_t done = 0, refused_total = 0, syncs_total = 0;
  double seconds = 0, cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::filesystem::temp_directory_path() /
               ("tph-sequencer-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::atomic<std::int64_t> syncs{0}, acked{0}, refused{0};
    SequencerOptions options;
    options.journal.dir = dir;
    options.journal.sync = [&](int fd) {
      ++syncs;
      return ::fdatasync(fd) == 0;
    };
    auto seq = Sequencer::open(options).value();
    (void)seq->execute(SeqProduct{kProduct, 10, 4500, 5500, true}).value();
    for (std::int64_t m = 0; m < kMembers; ++m) {
      (void)seq->execute(CashCommand{m, 1'000'000'000'000}).value();
      (void)seq->execute(UnitsCommand{m, kProduct, 1'000'000'000}).value();
    }
    const std::int64_t setup_syncs = syncs.load();
    state.ResumeTiming();
    auto start = std::chrono::steady_clock::now();
    double cpu_start = processCpuSeconds();
    std::int64_t submitted = 0;
    for (std::size_t i = 0; i < actions.size(); ++i) {
      const Action& a = actions[i];
      SeqCommand command;
      if (a.cancel) {
        command = CancelCommand{member_of[static_cast<std::size_t>(a.cancel_id)], a.cancel_id};
      } else {
        command = PlaceCommand{"k" + std::to_string(a.order.id),
                               kProduct,
                               a.order.member,
                               a.order.side,
                               std::clamp<std::int64_t>(a.order.price_fen, 4500, 5500),
                               a.order.remaining,
                               false,
                               20260302};
      }
      for (std::int64_t seen = acked.load(); submitted - seen >= window; seen = acked.load())
        acked.wait(seen);
      sent[i] = std::chrono::steady_clock::now();
      seq->submit(std::move(command), [&, i](tph::Result<SeqAck> r) {
        latency_ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - sent[i])
                            .count();
        if (!r.ok()) ++refused;  // a cancel of an order that already traded
        acked.fetch_add(1);
        acked.notify_one();
      });
      ++submitted;
    }
    for (std::int64_t seen = acked.load(); seen < submitted; seen = acked.load()) acked.wait(seen);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu_seconds += processCpuSeconds() - cpu_start;
    state.PauseTiming();
    done += submitted;
    refused_total += refused.load();
    syncs_total += syncs.load() - setup_syncs;
    seq.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  std::sort(latency_ns.begin(), latency_ns.end());
  auto pct = [&](double q) {
    return static_cast<double>(latency_ns[static_cast<std::size_t>(
               q * static_cast<double>(latency_ns.size() - 1))]) /
           1000.0;
  };
  auto iterations = static_cast<double>(state.iterations());
  state.counters["orders_per_s"] = static_cast<double>(done) / seconds;
  // Of every thread of the process (client, writer): what the figure would be on an idle core.
  state.counters["orders_per_cpu_s"] = static_cast<double>(done) / cpu_seconds;
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["fdatasyncs"] = static_cast<double>(syncs_total) / iterations;
  state.counters["per_group"] = static_cast<double>(done) / static_cast<double>(syncs_total);
  state.counters["refused"] = static_cast<double>(refused_total) / iterations;
}
// Many clients in flight make large groups (throughput); fewer make small ones (latency).
BENCHMARK(BM_SequencerGroupCommit)
    ->Args({1'000'000, 20'000})
    ->Args({1'000'000, 1'000})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

//! A fresh SQLite database with a product trading around the clock, `kMembers` members each
//! holding units and cash, and a service on it.
struct Exchange {
  static constexpr int kMembers = 8;
  std::filesystem::path file;
  std::unique_ptr<tph::store::Database> db;
  tph::ManualClock clock{*tph::parseIso8601("2026-03-02T02:00:00Z")};  // a Monday, 10:00
  std::unique_ptr<tph::market::MarketService> market;
  std::vector<tph::auth::Principal> users;
  std::vector<std::int64_t> members;

  explicit Exchange(const std::string& synchronous) {
    file = std::filesystem::temp_directory_path() /
           ("tph-matching-bench-" + std::to_string(::getpid()) + "-" + synchronous + ".db");
    std::filesystem::remove(file);
    db = tph::store::Database::open("sqlite:" + file.string() + "?synchronous=" + synchronous)
             .value();
    (void)tph::store::migrate(*db, clock).value();
    tph::region::RegionService(*db, clock)
        .load({{"440000", "", "province", "广东省", "Guangdong"},
               {"440300", "440000", "city", "深圳市", "Shenzhen"}},
              "bench")
        .value();
    tph::auth::AuthOptions auth_options;
    auth_options.password_cost = tph::auth::PasswordCost::kMinimum;
    tph::auth::AuthService auth(*db, clock, auth_options);
    auto make = [&](const std::string& name, tph::auth::Role role, const std::string& region) {
      auto u =
          auth.createUserAsSystem("bench", {name, "green-travel-42", name, {{role, region}}}, false)
              .value();
      return tph::auth::Principal{u.id, u.username, u.display_name, u.grants, {}};
    };
    auto province = make("gd_admin", tph::auth::Role::kProvinceAdmin, "440000");
    market = std::make_unique<tph::market::MarketService>(*db, clock);
    tph::registry::RegistryService registry(*db, clock);
    tph::market::Product p;
    p.code = "PHCER-METRO";
    p.name = "metro";
    p.methodology = "travel.metro";
    p.effective_from = clock.now() - std::chrono::hours(24);
    p.reference_price = tph::Fen(5000);
    p.sessions = "00:00-24:00";
    p.fee_bp = 10;
    (void)market->admitProduct(province, p).value();
    for (int i = 0; i < kMembers; ++i) {
      std::string name = "member" + std::to_string(i);
      users.push_back(make(name, tph::auth::Role::kExchangeMember, ""));
      auto account = registry
                         .openAccount(province, {tph::registry::AccountKind::kExchangeMember,
                                                 name,
                                                 "440300",
                                                 {users.back().user_id}})
                         .value();
      members.push_back(
          market->registerMember(province, account.account_no, name, "enterprise").value().id);
      tph::testing::issueUnitsTo(*db, clock, {account.account_no, 100'000'000});
      (void)market
          ->deposit(province, members.back(), tph::Fen(1'000'000'000'000), "d" + name, "BANK")
          .value();
    }
  }
  ~Exchange() {
    market.reset();
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
  }
};

//! The stream above through the service: prices inside the ±10% band, members by the stream's
//! member modulo the exchange's; a cancel names an earlier action's order.
void journalled(benchmark::State& state, const std::string& synchronous) {
  Exchange exchange(synchronous);
  auto actions = stream(static_cast<std::size_t>(state.range(0)));
  struct Resting {
    std::int64_t id = 0;
    std::size_t member = 0;
  };
  std::vector<Resting> resting(actions.size() + 2);
  std::int64_t done = 0, refused = 0, key = 0;
  for (auto _ : state) {
    for (const auto& a : actions) {
      if (a.cancel) {
        const Resting& r = resting[static_cast<std::size_t>(a.cancel_id)];
        if (r.id == 0) continue;  // traded at once, or refused
        if (!exchange.market->cancelOrder(exchange.users[r.member], r.id)) ++refused;
        ++done;
        continue;
      }
      auto m = static_cast<std::size_t>(a.order.member) % exchange.members.size();
      std::int64_t price = std::clamp<std::int64_t>(a.order.price_fen, 4500, 5500);
      auto placed = exchange.market->placeOrder(
          exchange.users[m],
          {"k" + std::to_string(++key), "PHCER-METRO", exchange.members[m], a.order.side,
           tph::Fen(price), a.order.remaining, tph::market::TimeInForce::kGoodTillCancelled});
      if (placed && placed->order.state == "open")
        resting[static_cast<std::size_t>(a.order.id)] = {placed->order.id, m};
      if (!placed) ++refused;
      ++done;
    }
  }
  state.counters["orders_per_s"] =
      benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  state.counters["refused"] = static_cast<double>(refused);
}

//! The writer-behind: the stream through the sequencer first (not timed), then the applier puts
//! every durable event into the SQLite database (synchronous=NORMAL) in batches of 1,000, timed.
void BM_ApplierSqlite(benchmark::State& state) {
  using namespace tph::market;
  Exchange exchange("normal");
  auto dir =
      std::filesystem::temp_directory_path() / ("tph-applier-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  SequencerOptions options;
  options.journal.dir = dir;
  auto seq = Sequencer::open(options).value();
  std::int64_t product = exchange.market->product("PHCER-METRO")->id;
  (void)seq->execute(SeqProduct{product, 10, 4500, 5500, true}).value();
  for (auto member : exchange.members) {
    // What the members hold in the database, as the sequencer is told of it.
    (void)seq->execute(UnitsCommand{member, product, 100'000'000}).value();
    (void)seq->execute(CashCommand{member, 1'000'000'000'000}).value();
  }
  auto actions = stream(static_cast<std::size_t>(state.range(0)));
  std::vector<std::int64_t> ids(actions.size() + 2, 0), owner(actions.size() + 2, 0);
  for (const auto& a : actions) {
    if (a.cancel) {
      auto i = static_cast<std::size_t>(a.cancel_id);
      if (ids[i]) (void)seq->execute(CancelCommand{owner[i], ids[i]});
      continue;
    }
    auto m = exchange.members[static_cast<std::size_t>(a.order.member) % exchange.members.size()];
    auto placed =
        seq->execute(PlaceCommand{"k" + std::to_string(a.order.id), product, m, a.order.side,
                                  std::clamp<std::int64_t>(a.order.price_fen, 4500, 5500),
                                  a.order.remaining, false, 20260302});
    if (placed.ok() && placed->state == "open") {
      ids[static_cast<std::size_t>(a.order.id)] = placed->order;
      owner[static_cast<std::size_t>(a.order.id)] = m;
    }
  }
  std::uint64_t events = seq->durableSeq();
  for (auto _ : state) {
    JournalApplier applier(*exchange.db, exchange.clock);
    benchmark::DoNotOptimize(applier.catchUp(*seq).value());
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  seq.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ApplierSqlite)
    ->Arg(20'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_JournalledSqliteNormal(benchmark::State& state) {
  journalled(state, "normal");
}
void BM_JournalledSqliteFull(benchmark::State& state) {
  journalled(state, "full");
}
// Each transaction costs far more than matching, so a shorter stream, real time, one pass.
BENCHMARK(BM_JournalledSqliteNormal)
    ->Arg(20'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JournalledSqliteFull)
    ->Arg(5'000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
