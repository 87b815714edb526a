// The in-memory matching engine on a generated stream of limit orders and cancels (about one
// cancel in five), prices around a mid that wanders, many members. Reports orders/s; the stream
// is generated before timing so only matching is measured. Target: 1,000,000 orders/s on one core.

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "market/order_book.h"

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

}  // namespace

BENCHMARK_MAIN();
