// The in-memory matching engine on a generated stream of limit orders and cancels (about one
// cancel in five), prices around a mid that wanders, many members. Reports orders/s; the stream
// is generated before timing so only matching is measured. Target: 1,000,000 orders/s on one core.
//
// The second figure is the same kind of stream with the durable journal on: every order and
// cancel goes through MarketService, which writes it (with its fills, settlement, reservations
// and audit events) in one database transaction before answering — on SQLite in WAL mode, with
// synchronous=NORMAL (durable across a crash of the process) and synchronous=FULL (an fsync per
// commit: durable across a power cut). Target in the issue: 200,000 orders/s with group commit.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <vector>

#include "auth/auth_service.h"
#include "issued_units.h"
#include "market/market_service.h"
#include "market/order_book.h"
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
