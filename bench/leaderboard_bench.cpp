// Leaderboards at scale: a generated province of TPH_BENCH_SUBJECTS residents (default 1,000,000;
// half of them listed, spread over 20 cities and 1,000 communities) with week, month and all-time
// totals in the rollup, and the boards a portal asks for: the province, a city, a community, each
// with the caller's own line. Also the rollup's refresh of 100,000 new reductions spread over the
// week (what the job must keep up with while ingest credits). SQLite in a
// temporary file by default; TPH_BENCH_DATABASE_URL=postgresql://... runs it on PostgreSQL (an
// empty database it may fill).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/crypto.h"
#include "incentive/ranking_service.h"
#include "store/database.h"
#include "store/migrations.h"

namespace {

using namespace tph;

std::int64_t subjects() {
  const char* n = std::getenv("TPH_BENCH_SUBJECTS");
  return n ? std::atoll(n) : 1'000'000;
}

//! The generated population, built once for every benchmark of the program.
struct Province {
  Province() {
    const char* url = std::getenv("TPH_BENCH_DATABASE_URL");
    if (url) {
      db = std::move(*store::Database::open(url));
    } else {
      path = std::filesystem::temp_directory_path() / ("tph_board_" + randomHex(6) + ".db");
      db = std::move(*store::Database::open("sqlite:" + path.string()));
    }
    if (!store::migrate(*db, clock)) std::abort();
    auto started = std::chrono::steady_clock::now();
    generate();
    std::fprintf(stderr, "generated %lld residents in %.1f s\n", static_cast<long long>(subjects()),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  ~Province() {
    db.reset();
    if (!path.empty())
      for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + s);
  }

  //! Set-based generation: one INSERT ... SELECT per table over a recursive counter.
  void generate() {
    long long n = subjects(), now = toEpochMs(clock.now());
    auto week = incentive::rankingPeriod("week", clock.now())->first;
    std::string week_key = "w:" + shanghaiDay(week),
                month_key = "m:" + shanghaiDay(week).substr(0, 7);
    auto r = db->transaction([&](soci::session& sql) -> Status {
      sql << "INSERT INTO regions (code, parent_code, level, name_zh, name_en) VALUES "
             "('440000', NULL, 'province', '广东省', 'Guangdong')";
      for (int city = 1; city <= 20; ++city) {
        char code[8];
        std::snprintf(code, sizeof code, "44%02d00", city);
        sql << "INSERT INTO regions (code, parent_code, level, name_zh, name_en) VALUES "
               "(:c, '440000', 'city', :c2, :c3)",
            soci::use(std::string(code)), soci::use(std::string(code)),
            soci::use(std::string(code));
      }
      const std::string counter =
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) ";
      // City 01-20 and county 01-05 of resident i.
      const std::string region =
          "'44' || SUBSTR(CAST(100 + (i % 20) + 1 AS TEXT), 2, 2) || "
          "SUBSTR(CAST(100 + (i % 5) + 1 AS TEXT), 2, 2)";
      sql << counter +
                 "INSERT INTO communities (region_code, name, created_by, created_at_ms) "
                 "SELECT '44' || SUBSTR(CAST(100 + (i % 20) + 1 AS TEXT), 2, 2) || '00', "
                 "'社区' || i, 'bench', :t FROM n",
          soci::use(1000LL), soci::use(now);
      sql << counter +
                 "INSERT INTO users (id, username, password_hash, display_name, created_at_ms, "
                 "updated_at_ms) SELECT i, 'u' || i, '-', 'u' || i, :t, :t2 FROM n",
          soci::use(n), soci::use(now), soci::use(now);
      sql << counter +
                 "INSERT INTO ledger_accounts (id, code, kind, created_at_ms) "
                 "SELECT i, 'person:' || i, 'person', :t FROM n",
          soci::use(n), soci::use(now);
      sql << counter +
                 "INSERT INTO carbon_accounts (id, kind, name, region_code, ledger_account_id, "
                 "created_at_ms) SELECT i, 'person', 'u' || i, " +
                 region + ", i, :t FROM n",
          soci::use(n), soci::use(now);
      sql << counter +
                 "INSERT INTO account_members (account_id, user_id, role, joined_at_ms) "
                 "SELECT i, i, 'owner', :t FROM n",
          soci::use(n), soci::use(now);
      // Half are listed, each in one of 1,000 communities.
      sql << counter +
                 "INSERT INTO ranking_profiles (user_id, nickname, listed, community_id, "
                 "updated_at_ms) SELECT i, '选手' || i, CASE WHEN i % 2 = 0 THEN 1 ELSE 0 END, "
                 "(i % 1000) + 1, :t FROM n",
          soci::use(n), soci::use(now);
      // Grams spread without order; the all-time totals are larger than the month's and week's.
      for (auto [key, scale] : {std::pair{week_key, 1}, {month_key, 4}, {std::string("all"), 40}}) {
        long long s = scale;
        sql << counter +
                   "INSERT INTO ranking_totals (period, account_id, user_id, region_code, "
                   "listed, grams, reductions) SELECT :k, i, i, " +
                   region +
                   ", CASE WHEN i % 2 = 0 THEN 1 ELSE 0 END, ((i * 7919) % 100003 + 1) * :s, "
                   "(i % 30) + 1 FROM n",
            soci::use(n), soci::use(key), soci::use(s);
      }
      sql << "UPDATE ranking_refresh SET refreshed_at_ms = :t", soci::use(now);
      return {};
    });
    if (!r) {
      std::fprintf(stderr, "generation failed: %s\n", r.error().message.c_str());
      std::abort();
    }
    if (db->backend() == store::Backend::kPostgresql) {
      auto analyzed = db->transaction([](soci::session& sql) -> Status {
        sql << "ANALYZE";
        return {};
      });
      if (!analyzed) std::abort();
    }
  }

  SystemClock clock;
  std::filesystem::path path;
  std::unique_ptr<store::Database> db;
};

Province& province() {
  static Province p;
  return p;
}

//! A listed resident about halfway down the province's board.
auth::Principal median() {
  auth::Principal p;
  p.user_id = subjects() / 2 - (subjects() / 2) % 2;
  return p;
}

void board(benchmark::State& state, incentive::LeaderboardQuery query, bool yours) {
  auto& p = province();
  incentive::RankingService rankings(*p.db, p.clock);
  auto caller = yours ? median() : auth::Principal{};
  for (auto _ : state) {
    auto b = rankings.leaderboard(caller, query);
    if (!b || b->entries.size() != static_cast<std::size_t>(query.limit)) {
      state.SkipWithError("the board is not full");
      break;
    }
    benchmark::DoNotOptimize(b);
  }
}

void BM_Leaderboard_ProvinceWeekTop50(benchmark::State& state) {
  board(state, {"week", "", std::nullopt, 50}, false);
}
BENCHMARK(BM_Leaderboard_ProvinceWeekTop50)->Unit(benchmark::kMillisecond);

void BM_Leaderboard_ProvinceAllTimeTop50WithYours(benchmark::State& state) {
  board(state, {"all", "440000", std::nullopt, 50}, true);
}
BENCHMARK(BM_Leaderboard_ProvinceAllTimeTop50WithYours)->Unit(benchmark::kMillisecond);

void BM_Leaderboard_CityMonthTop50(benchmark::State& state) {
  board(state, {"month", "440300", std::nullopt, 50}, false);
}
BENCHMARK(BM_Leaderboard_CityMonthTop50)->Unit(benchmark::kMillisecond);

void BM_Leaderboard_CommunityWeekTop50(benchmark::State& state) {
  board(state, {"week", "", 7, 50}, false);
}
BENCHMARK(BM_Leaderboard_CommunityWeekTop50)->Unit(benchmark::kMillisecond);

//! Credits `count` new reductions to residents spread over the province, over the last five days.
void newReductions(Province& p, long long count) {
  long long now = toEpochMs(p.clock.now()), n = subjects(), day_ms = 24LL * 3600 * 1000;
  auto r = p.db->transaction([&](soci::session& sql) -> Status {
    sql << "INSERT INTO providers (provider_key, name, kind, pseudonym_key, created_by, "
           "created_at_ms) VALUES ('bench-metro', 'Metro', 'transit', 'k', 'bench', :t)",
        soci::use(now);
    long long provider = 0, batch = 0;
    sql << "SELECT id FROM providers WHERE provider_key = 'bench-metro'", soci::into(provider);
    sql << "INSERT INTO ingest_batches (provider_id, source, received_at_ms, records, credited, "
           "duplicate, held, quarantined, digest) VALUES (:p, 'bench', :t, 0, 0, 0, 0, 0, 'd')",
        soci::use(provider), soci::use(now);
    sql << "SELECT MAX(id) FROM ingest_batches", soci::into(batch);
    const std::string counter =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :count) ";
    // Record i goes to resident (i * 13) % n + 1, (i % 5) days ago.
    sql << counter +
               "INSERT INTO ingest_records (id, provider_id, provider_record_id, batch_id, "
               "subject_ref, methodology_id, occurred_at_ms, region_code, inputs_json, status, "
               "account_id, received_at_ms) SELECT i, :p, 'b' || i, :b, 's', 'transit.metro', "
               ":t - (i % 5) * :d, '440300', '{}', 'credited', (i * 13) % :n + 1, :t2 FROM c",
        soci::use(count), soci::use(provider), soci::use(batch), soci::use(now), soci::use(day_ms),
        soci::use(n), soci::use(now);
    sql << counter +
               "INSERT INTO reductions (id, record_id, account_id, provider_id, methodology_id, "
               "methodology_version, domain, occurred_at_ms, day, region_code, grams, points, "
               "cap_applied, explanation) SELECT i, i, (i * 13) % :n + 1, :p, 'transit.metro', 1, "
               "'transport', :t - (i % 5) * :d, '', '440300', 100 + i % 900, 0, '', '' FROM c",
        soci::use(count), soci::use(n), soci::use(provider), soci::use(now), soci::use(day_ms);
    return {};
  });
  if (!r) std::abort();
}

void BM_LeaderboardRefresh_100kNewReductions(benchmark::State& state) {
  auto& p = province();
  constexpr long long kReductions = 100'000;
  newReductions(p, kReductions);
  incentive::RankingService rankings(*p.db, p.clock);
  for (auto _ : state) {
    auto r = rankings.refreshAsSystem(1'000);
    if (!r || r->reductions != kReductions) {
      state.SkipWithError("the refresh did not read every new reduction");
      break;
    }
  }
  state.counters["reductions_per_s"] =
      benchmark::Counter(static_cast<double>(kReductions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LeaderboardRefresh_100kNewReductions)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
