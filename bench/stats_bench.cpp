// Dashboard query latency at province scale. Loads a year (2025) of reductions over every county
// (and Dongguan and Zhongshan, which have none), every methodology and every subject kind it
// applies to — TPH_BENCH_STATS_ROWS of them (default 100,000,000) — set-based, straight into the
// reductions table, one INSERT ... SELECT per day, and builds the rollups from them set-based, per
// day, as ingest would have left them (stats_daily, stats_cell_subjects, stats_enterprise_daily,
// participation; then the area and monthly rollups). Then it runs every query the public and
// console dashboards issue (web/src/views/StatsDashboardView.vue), each many times with varying
// regions and periods, and prints p50/p95 per query against the 50 ms target, and the database's
// size.
//
//   build-release/bench/stats_bench                          SQLite under TPH_BENCH_DIR (/tmp)
//   TPH_BENCH_DATABASE_URL=postgresql://... stats_bench      also on that PostgreSQL (a schema of
//                                                             its own, dropped at exit)
//
// Environment: TPH_BENCH_STATS_ROWS (rows, default 100000000), TPH_BENCH_LOAD_BUDGET_S (seconds the
// load may take on one backend, default 5400: past it the load stops at a whole day and the
// figures say how many rows were loaded), TPH_BENCH_RUNS (runs per query, default 40),
// TPH_BENCH_KEEP=1 keeps the SQLite file and the PostgreSQL schema, TPH_BENCH_SQLITE_PATH and
// TPH_BENCH_PG_SCHEMA name them (an existing one is not loaded again: only the queries run, so a
// loaded year can be measured again), TPH_BENCH_SQLITE=0 skips SQLite. The raw provider records
// (ingest_records) are not generated: no stats query reads them. Foreign keys are not checked
// during the load.

#include <soci/soci.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analytics/analytics_service.h"
#include "auth/role.h"
#include "core/crypto.h"
#include "region/region_service.h"
#include "store/database.h"
#include "store/migrations.h"

namespace {

using namespace tph;
using Clock = std::chrono::steady_clock;

constexpr double kTargetMs = 50.0;
constexpr int kDays = 365;

std::int64_t envInt(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Combo {
  std::string methodology, domain, kind;
};

//! Every (methodology, subject kind) the shipped library allows.
std::vector<Combo> combos() {
  std::vector<Combo> out;
  for (const auto& entry :
       std::filesystem::directory_iterator(TPH_SOURCE_DIR "/data/methodologies")) {
    if (entry.path().extension() != ".toml") continue;
    auto doc = toml::parse_file(entry.path().string());
    std::string id = doc["id"].value_or(std::string());
    std::string domain = doc["domain"].value_or(std::string());
    if (auto* subjects = doc["subjects"].as_array())
      for (const auto& s : *subjects) out.push_back({id, domain, s.value_or(std::string())});
  }
  std::sort(out.begin(), out.end(), [](const Combo& a, const Combo& b) {
    return std::tie(a.methodology, a.kind) < std::tie(b.methodology, b.kind);
  });
  return out;
}

std::string dayOf(int n) {
  using namespace std::chrono;
  year_month_day d{sys_days{year{2025} / January / 1} + days(n)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::int64_t shanghaiMidnightMs(int n) {
  using namespace std::chrono;
  auto utc = sys_days{year{2025} / January / 1} + days(n);
  return duration_cast<milliseconds>(utc.time_since_epoch()).count() - 8LL * 3'600'000;
}

//! Replaces each {name} in text by its value: the bench's own integers and days, never input.
std::string fill(std::string text,
                 std::initializer_list<std::pair<std::string, std::string>> values) {
  for (const auto& [name, value] : values) {
    std::string key = "{" + name + "}";
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos))
      text.replace(pos, key.size(), value);
  }
  return text;
}

std::string str(std::int64_t n) {
  return std::to_string(n);
}

class Loader {
 public:
  Loader(store::Database& db, std::int64_t rows, double budget_s)
      : db_(db), rows_(rows), budget_s_(budget_s) {}

  //! Loads the year; answers the rows loaded.
  std::int64_t run() {
    auto started = Clock::now();
    store::Database::Lease lease(db_);
    soci::session& sql = lease.session();
    pg_ = db_.backend() == store::Backend::kPostgresql;
    // A bulk load: no foreign key checks (the raw records are not generated), no fsync per day,
    // big sorts spill to files rather than memory.
    if (pg_) {
      sql << "SET session_replication_role = replica";
      sql << "SET synchronous_commit = off";
      sql << "SET maintenance_work_mem = '512MB'";
      sql << "SET work_mem = '256MB'";
    } else {
      sql << "PRAGMA foreign_keys = OFF";
      sql << "PRAGMA synchronous = OFF";
      sql << "PRAGMA temp_store = FILE";
      // 2 GiB of page cache holds the accounts and the day's index pages; checkpoints every
      // 800 MiB of WAL rather than every 4 MiB, so hot pages are not copied out again and again.
      sql << "PRAGMA cache_size = -2097152";
      sql << "PRAGMA wal_autocheckpoint = 200000";
    }
    auto all = combos();
    std::vector<Combo> ph, ent;
    for (const auto& c : all) (c.kind == "enterprise" ? ent : ph).push_back(c);
    std::int64_t n_ph = static_cast<std::int64_t>(ph.size()),
                 n_ent = static_cast<std::int64_t>(ent.size());
    // A row's combination is its number's hash modulo the count, spelt out as CASE expressions
    // (cheaper per row than a lookup).
    for (int part = 0; part < 3; ++part) {
      std::string e = "CASE ((({g0} + s.i) * 40503) % {nph})";
      for (std::size_t n = 0; n < ph.size(); ++n) {
        const auto& c = ph[n];
        e += " WHEN " + std::to_string(n) + " THEN '" +
             (part == 0   ? c.methodology
              : part == 1 ? c.domain
                          : c.kind) +
             "'";
      }
      ph_case_[part] = e + " END";
    }
    // Enterprises report once a day per methodology they may: 2,000 of them at 100 million rows
    // (about 2% of the rows).
    // TPH_BENCH_ENTERPRISES sets their number (a smaller load with the industry cells of a
    // bigger one).
    enterprises_ =
        envInt("TPH_BENCH_ENTERPRISES", std::clamp<std::int64_t>(rows_ / 50'000, 10, 2'000));
    std::int64_t ent_per_day = enterprises_ * n_ent;
    std::int64_t ph_per_day = std::max<std::int64_t>(1, (rows_ - ent_per_day * kDays) / kDays);
    // Residents credited about 25 times a year each; a household for every four of them.
    persons_ = std::max<std::int64_t>(1000, ph_per_day * kDays / 25);
    households_ = std::max<std::int64_t>(200, persons_ / 4);

    tx(sql, [&] {
      if (!pg_) {
        sql << "CREATE TABLE bench_seq (i INTEGER PRIMARY KEY)";
        sql << "INSERT INTO bench_seq (i) WITH RECURSIVE q(i) AS (SELECT 0 UNION ALL SELECT i + 1 "
               "FROM q WHERE i + 1 < " +
                   str(std::max(
                       {ph_per_day, ent_per_day, persons_ + households_ + enterprises_ + 1})) +
                   ") SELECT i FROM q";
      }
      sql << "CREATE TABLE bench_leaf (n BIGINT PRIMARY KEY, code TEXT NOT NULL)";
      sql << "CREATE TABLE bench_combo (n BIGINT NOT NULL, methodology_id TEXT NOT NULL, "
             "domain TEXT NOT NULL, kind TEXT NOT NULL, enterprise INTEGER NOT NULL, "
             "PRIMARY KEY (enterprise, n))";
      // Leaves: counties, and cities that have none (Dongguan, Zhongshan).
      sql << "INSERT INTO bench_leaf (n, code) SELECT ROW_NUMBER() OVER (ORDER BY code) - 1, code "
             "FROM regions r WHERE level = 'county' OR (level = 'city' AND NOT EXISTS (SELECT 1 "
             "FROM regions c WHERE c.parent_code = r.code))";
      sql << "SELECT COUNT(*) FROM bench_leaf", soci::into(leaves_);
      std::int64_t i_ph = 0, i_ent = 0;
      for (const auto& c : all) {
        bool enterprise = c.kind == "enterprise";
        sql << fill(
            "INSERT INTO bench_combo (n, methodology_id, domain, kind, enterprise) "
            "VALUES ({n}, '{m}', '{d}', '{k}', {e})",
            {{"n", str(enterprise ? i_ent++ : i_ph++)},
             {"m", c.methodology},
             {"d", c.domain},
             {"k", c.kind},
             {"e", enterprise ? "1" : "0"}});
      }
      sql << "INSERT INTO providers (id, provider_key, name, kind, pseudonym_key, created_by, "
             "created_at_ms) VALUES (1, 'bench', 'bench', 'utility', 'k', 'bench', 0)";
      // Accounts: persons, then households, then enterprises (with a GB/T 4754 industry), each
      // homed in a leaf region.
      sql << fill(
          "INSERT INTO carbon_accounts (id, kind, name, region_code, ledger_account_id, "
          "created_at_ms, industry_section, industry_division) SELECT s.i, CASE WHEN s.i <= {p} "
          "THEN 'person' WHEN s.i <= {ph} THEN 'household' ELSE 'enterprise' END, 'bench', "
          "l.code, s.i, 0, CASE WHEN s.i > {ph} THEN substr('CDEFGI', CAST(1 + s.i % 6 AS "
          "INTEGER), 1) END, CASE WHEN s.i > {ph} THEN CAST(13 + s.i % 30 AS TEXT) END FROM " +
              sequence("1", str(persons_ + households_ + enterprises_ + 1)) +
              " s JOIN bench_leaf l ON l.n = (s.i * 7) % {leaves}",
          {{"p", str(persons_)}, {"ph", str(persons_ + households_)}, {"leaves", str(leaves_)}});
      // Ingest keeps these indexes; a bulk load builds them once at the end.
      sql << "DROP INDEX reductions_account_time";
      sql << "DROP INDEX reductions_methodology_day";
    });
    std::printf(
        "  %lld leaf regions, %zu methodology x kind combinations, %lld persons, %lld "
        "households, %lld enterprises\n",
        leaves_, all.size(), static_cast<long long>(persons_), static_cast<long long>(households_),
        static_cast<long long>(enterprises_));

    std::int64_t next_id = 1, loaded = 0, month_new = 0;
    for (int d = 0; d < kDays; ++d) {
      if (secondsSince(started) > budget_s_) {
        std::printf("  load budget of %.0f s reached after %d days: %lld rows\n", budget_s_, d,
                    static_cast<long long>(loaded));
        partial_ = true;
        break;
      }
      std::string day = dayOf(d);
      std::int64_t id0 = next_id, id_ent = id0 + ph_per_day, id_end = id_ent + ent_per_day - 1;
      // The CASE expressions first: they contain {g0} and {nph}, filled in after them.
      std::initializer_list<std::pair<std::string, std::string>> values = {
          {"mcase", ph_case_[0]},
          {"dcase", ph_case_[1]},
          {"kcase", ph_case_[2]},
          {"ms", str(shanghaiMidnightMs(d))},
          {"day", day},
          {"id0", str(id0)},
          {"id1", str(id_ent)},
          {"g0", str(static_cast<std::int64_t>(d) * ph_per_day)},
          {"p", str(persons_)},
          {"h", str(households_)},
          {"nph", str(n_ph)},
          {"nent", str(n_ent)},
          {"e0", str(persons_ + households_ + 1)},
          {"leaves", str(leaves_)}};
      tx(sql, [&] {
        // Residents' reductions: a combination and an account drawn from the row's number, the
        // region the account's home.
        sql << fill(
            "INSERT INTO reductions (id, record_id, account_id, provider_id, methodology_id, "
            "methodology_version, domain, occurred_at_ms, day, region_code, grams, points, "
            "cap_applied, explanation) SELECT q.id, q.id, q.account, 1, q.methodology_id, 1, "
            "q.domain, {ms} + (q.g * 7919) % 86400000, '{day}', (SELECT code FROM bench_leaf "
            "WHERE n = (q.account * 7) % {leaves}), q.grams, q.grams / 100, 'none', '' FROM "
            "(SELECT c.id, c.g, c.methodology_id, c.domain, CASE WHEN c.kind = 'person' THEN 1 + "
            "(c.g * 2654435761) % {p} ELSE {p} + 1 + (c.g * 2246822519) % {h} END AS account, 50 "
            "+ (c.g * 31) % 5000 AS grams FROM (SELECT {id0} + s.i AS id, {g0} + s.i AS g, "
            "{mcase} AS methodology_id, {dcase} AS domain, {kcase} AS kind FROM " +
                sequence("0", str(ph_per_day)) + " s) c) q",
            values);
        // Enterprises: each reports every methodology it may, once a day.
        sql << fill(
            "INSERT INTO reductions (id, record_id, account_id, provider_id, methodology_id, "
            "methodology_version, domain, occurred_at_ms, day, region_code, grams, points, "
            "cap_applied, explanation) SELECT {id1} + s.i, {id1} + s.i, a.id, 1, "
            "c.methodology_id, 1, c.domain, {ms} + 3600000, '{day}', a.region_code, 10000 + (s.i "
            "* 37) % 90000, (10000 + (s.i * 37) % 90000) / 100, 'none', '' FROM " +
                sequence("0", str(ent_per_day)) +
                " s JOIN bench_combo c ON c.enterprise = 1 AND c.n = s.i % {nent} JOIN "
                "carbon_accounts a ON a.id = {e0} + s.i / {nent} WHERE s.i >= 0",
            values);
        buildDayRollups(sql, id0, id_end, day, month_new);
      });
      next_id = id_end + 1;
      loaded += ph_per_day + ent_per_day;
      bool month_ends = d + 1 == kDays || dayOf(d + 1).substr(5, 2) != day.substr(5, 2);
      if (month_ends) {
        tx(sql, [&] { buildMonthParticipation(sql, day.substr(0, 7), month_new); });
        month_new = 0;
        std::printf("  %s: %lld rows, %.0f s\n", day.substr(0, 7).c_str(),
                    static_cast<long long>(loaded), secondsSince(started));
        std::fflush(stdout);
      }
    }
    auto tail = Clock::now();
    tx(sql, [&] {
      buildAreaRollups(sql);
      sql << "CREATE INDEX reductions_account_time ON reductions (account_id, occurred_at_ms)";
      sql << "CREATE INDEX reductions_methodology_day ON reductions (methodology_id, day)";
      sql << "DROP TABLE bench_leaf";
      sql << "DROP TABLE bench_combo";
      if (!pg_) sql << "DROP TABLE bench_seq";
    });
    sql << "ANALYZE";
    if (pg_) {
      // What autovacuum leaves a serving database with: the rollups' pages all-visible, so their
      // covering keys answer without reading the rows.
      for (const char* table :
           {"stats_daily", "stats_daily_area", "stats_monthly_area", "stats_industry_daily",
            "stats_industry_monthly", "stats_participation", "stats_enterprise_daily",
            "stats_enterprise_monthly"})
        sql << std::string("VACUUM ") + table;
    }
    if (pg_) {
      sql << "SET session_replication_role = origin";
    } else {
      sql << "PRAGMA wal_checkpoint(TRUNCATE)";
      sql << "PRAGMA foreign_keys = ON";
      sql << "PRAGMA synchronous = NORMAL";
      sql << "PRAGMA temp_store = MEMORY";
      sql << "PRAGMA cache_size = -65536";
    }
    std::printf("  area rollups, account index, ANALYZE: %.0f s; load total %.0f s\n",
                secondsSince(tail), secondsSince(started));
    return loaded;
  }

  bool partial() const { return partial_; }

 private:
  template <class Fn>
  static void tx(soci::session& sql, Fn&& fn) {
    soci::transaction t(sql);
    fn();
    t.commit();
  }

  std::string sequence(const std::string& from, const std::string& to_excl) const {
    if (pg_)
      return "(SELECT generate_series(CAST(" + from + " AS BIGINT), CAST(" + to_excl +
             " AS BIGINT) - 1) AS i)";
    // SQLite: a range of bench_seq, which a table scan reads faster than a recursive query makes.
    return "(SELECT i FROM bench_seq WHERE i >= " + from + " AND i < " + to_excl + ")";
  }

  //! The day's rollups from its reductions (ids id0..id1), set-based.
  void buildDayRollups(soci::session& sql, std::int64_t id0, std::int64_t id1,
                       const std::string& day, std::int64_t& month_new) {
    // Accounts above persons and households are the enterprises.
    std::initializer_list<std::pair<std::string, std::string>> v = {
        {"a", str(id0)},
        {"b", str(id1)},
        {"day", day},
        {"e0", str(persons_ + households_ + 1)},
        {"h", str(households_)}};
    sql << fill(
        "INSERT INTO stats_daily (day, region_code, domain, methodology_id, subject_kind, "
        "records, subjects, grams, points) SELECT r.day, r.region_code, r.domain, "
        "r.methodology_id, r.kind, COUNT(*), COUNT(DISTINCT r.account_id), SUM(r.grams), "
        "SUM(r.points) FROM (SELECT day, region_code, domain, methodology_id, account_id, grams, "
        "points, CASE WHEN account_id < {e0} - {h} THEN 'person' WHEN account_id < {e0} THEN "
        "'household' ELSE 'enterprise' END AS kind FROM "
        "reductions WHERE id >= {a} AND id <= {b}) r GROUP BY r.day, r.region_code, r.domain, "
        "r.methodology_id, r.kind",
        v);
    sql << fill(
        "INSERT INTO stats_cell_subjects (day, region_code, methodology_id, account_id) SELECT "
        "DISTINCT day, region_code, methodology_id, account_id FROM reductions WHERE id >= {a} "
        "AND id <= {b}",
        v);
    sql << fill(
        "INSERT INTO stats_enterprise_daily (day, region_code, domain, methodology_id, "
        "account_id, records, grams, points) SELECT r.day, r.region_code, r.domain, "
        "r.methodology_id, r.account_id, COUNT(*), SUM(r.grams), SUM(r.points) FROM reductions "
        "r WHERE r.id >= {a} AND r.id <= {b} AND r.account_id >= {e0} GROUP BY r.day, "
        "r.region_code, r.domain, r.methodology_id, r.account_id",
        v);
    soci::statement members =
        (sql.prepare << fill("INSERT INTO stats_period_subjects (period, account_id) SELECT "
                             "DISTINCT 'd:{day}', account_id FROM reductions WHERE id >= {a} AND "
                             "id <= {b}",
                             v));
    members.execute(true);
    long long subjects = members.get_affected_rows();
    // Days are loaded in order: a subject not yet in stats_subject_first is new today.
    soci::statement first =
        (sql.prepare << fill("INSERT INTO stats_subject_first (account_id, first_day) SELECT "
                             "DISTINCT account_id, '{day}' FROM reductions WHERE id >= {a} AND "
                             "id <= {b} ON CONFLICT DO NOTHING",
                             v));
    first.execute(true);
    long long fresh = first.get_affected_rows();
    month_new += fresh;
    sql << fill(
        "INSERT INTO stats_participation (period, subjects, new_subjects) VALUES "
        "('d:{day}', {s}, {n})",
        {{"day", day}, {"s", str(subjects)}, {"n", str(fresh)}});
  }

  static void buildMonthParticipation(soci::session& sql, const std::string& month,
                                      std::int64_t fresh) {
    soci::statement members =
        (sql.prepare << fill("INSERT INTO stats_period_subjects (period, account_id) SELECT "
                             "DISTINCT 'm:{m}', account_id FROM stats_period_subjects WHERE "
                             "period >= 'd:{m}-01' AND period <= 'd:{m}-31'",
                             {{"m", month}}));
    members.execute(true);
    long long subjects = members.get_affected_rows();
    sql << fill(
        "INSERT INTO stats_participation (period, subjects, new_subjects) VALUES "
        "('m:{m}', {s}, {n})",
        {{"m", month}, {"s", str(subjects)}, {"n", str(fresh)}});
  }

  //! The area, monthly and industry rollups from the county and enterprise cells: the statements
  //! migrations 0020 and 0023 backfill them with.
  static void buildAreaRollups(soci::session& sql) {
    for (const char* name : {"stats_areas", "stats_industry"})
      for (const auto& statement :
           store::migrationStatements(migrationNamed(name), store::backendOf(sql)))
        if (auto first = statement.find_first_not_of(" \t\r\n");
            first != std::string::npos && statement.compare(first, 6, "INSERT") == 0)
          sql << statement;
  }

  static const store::Migration& migrationNamed(const char* name) {
    for (const auto& m : store::shippedMigrations())
      if (m.name.find(name) != std::string::npos) return m;
    std::fprintf(stderr, "stats_bench: no %s migration\n", name);
    std::abort();
  }

  store::Database& db_;
  std::int64_t rows_;
  double budget_s_;
  bool pg_ = false;
  long long leaves_ = 0;
  std::int64_t persons_ = 0, households_ = 0, enterprises_ = 0;
  bool partial_ = false;
  std::string ph_case_[3];  //!< methodology, domain and kind of a resident's row, as CASE
};

struct Query {
  std::string name;
  std::function<bool(int run)> run;  //!< false on an error
};

//! Whether a query answered; prints the first error it gives.
template <class T>
bool succeeded(const Result<T>& r) {
  static int printed = 0;
  if (!r.ok() && printed++ < 3)
    std::fprintf(stderr, "stats_bench: %s\n", r.error().message.c_str());
  return r.ok();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

//! Every query the dashboards issue, with the periods and regions they offer.
std::vector<Query> dashboardQueries(analytics::AnalyticsService& stats,
                                    const std::vector<std::string>& cities,
                                    const std::vector<std::string>& counties) {
  using analytics::Interval;
  using analytics::StatsFilter;
  // The queries outlive this function: the callers they run as are kept with them.
  static const std::optional<auth::Principal> pub;
  static const std::optional<auth::Principal> admin =
      auth::Principal{1, "admin", "admin", {{auth::Role::kProvinceAdmin, "440000"}}, {}};
  auto year = [](StatsFilter f) {
    f.from_day = "2025-01-01";
    f.to_day = "2025-12-31";
    return f;
  };
  // The last 30 days before a day of the year (unaligned to months).
  auto days30 = [](StatsFilter f, int run) {
    int end = 40 + (run * 37) % 320;
    f.from_day = dayOf(end - 29);
    f.to_day = dayOf(end);
    return f;
  };
  auto quarter = [](StatsFilter f, int run) {
    static const char* from[] = {"2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"};
    static const char* to[] = {"2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"};
    f.from_day = from[run % 4];
    f.to_day = to[run % 4];
    return f;
  };
  auto city = [&cities](int run) { return cities[static_cast<std::size_t>(run) % cities.size()]; };
  auto county = [&counties](int run) {
    return counties[static_cast<std::size_t>(run * 7) % counties.size()];
  };
  static const char* kinds[] = {"", "person", "household", "enterprise"};
  std::vector<Query> q;
  auto add = [&q](std::string name, std::function<bool(int)> fn) {
    q.push_back({std::move(name), std::move(fn)});
  };
  // Public dashboard: province and cities.
  add("public year totals", [&, year](int r) {
    StatsFilter f;
    f.subject_kind = kinds[r % 4];
    return succeeded(stats.totals(pub, year(f)));
  });
  add("public year series by month", [&, year](int r) {
    StatsFilter f;
    f.subject_kind = kinds[r % 4];
    return succeeded(stats.series(pub, year(f), Interval::kMonth));
  });
  add("public year series by week", [&, year](int r) {
    StatsFilter f;
    f.subject_kind = kinds[r % 4];
    return succeeded(stats.series(pub, year(f), Interval::kWeek));
  });
  add("public year map by city", [&, year](int r) {
    StatsFilter f;
    f.subject_kind = kinds[r % 4];
    return succeeded(stats.top(pub, year(f), "region", 30));
  });
  add("public year by domain",
      [&, year](int) { return succeeded(stats.top(pub, year(StatsFilter{}), "domain", 20)); });
  add("public year by methodology",
      [&, year](int) { return succeeded(stats.top(pub, year(StatsFilter{}), "methodology", 30)); });
  add("public year participation by month", [&, year](int) {
    return succeeded(stats.participation(year(StatsFilter{}), Interval::kMonth));
  });
  add("public 30 days totals",
      [&, days30](int r) { return succeeded(stats.totals(pub, days30(StatsFilter{}, r))); });
  add("public 30 days series by day", [&, days30](int r) {
    return succeeded(stats.series(pub, days30(StatsFilter{}, r), Interval::kDay));
  });
  add("public 30 days map by city", [&, days30](int r) {
    return succeeded(stats.top(pub, days30(StatsFilter{}, r), "region", 30));
  });
  add("public 30 days by domain", [&, days30](int r) {
    return succeeded(stats.top(pub, days30(StatsFilter{}, r), "domain", 20));
  });
  add("public 30 days participation by day", [&, days30](int r) {
    return succeeded(stats.participation(days30(StatsFilter{}, r), Interval::kDay));
  });
  add("public city year totals", [&, year, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.totals(pub, year(f)));
  });
  add("public city year series by month", [&, year, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.series(pub, year(f), Interval::kMonth));
  });
  add("public city year by methodology", [&, year, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.top(pub, year(f), "methodology", 30));
  });
  add("public city quarter series by week", [&, quarter, city](int r) {
    StatsFilter f;
    f.region = city(r);
    f.domain = r % 2 ? "travel" : "";
    return succeeded(stats.series(pub, quarter(f, r), Interval::kWeek));
  });
  add("public city 30 days series by day", [&, days30, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.series(pub, days30(f, r), Interval::kDay));
  });
  // Console dashboard: counties and industries.
  add("console city year map by county", [&, year, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.top(admin, year(f), "region", 100));
  });
  add("console city 30 days map by county", [&, days30, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.top(admin, days30(f, r), "region", 100));
  });
  add("console county year totals", [&, year, county](int r) {
    StatsFilter f;
    f.region = county(r);
    return succeeded(stats.totals(admin, year(f)));
  });
  add("console county year series by month", [&, year, county](int r) {
    StatsFilter f;
    f.region = county(r);
    return succeeded(stats.series(admin, year(f), Interval::kMonth));
  });
  add("console county year by methodology", [&, year, county](int r) {
    StatsFilter f;
    f.region = county(r);
    return succeeded(stats.top(admin, year(f), "methodology", 30));
  });
  add("console year by industry",
      [&, year](int) { return succeeded(stats.top(admin, year(StatsFilter{}), "industry", 20)); });
  add("console city year by industry", [&, year, city](int r) {
    StatsFilter f;
    f.region = city(r);
    return succeeded(stats.top(admin, year(f), "industry", 20));
  });
  add("console 30 days by industry", [&, days30](int r) {
    return succeeded(stats.top(admin, days30(StatsFilter{}, r), "industry", 20));
  });
  add("console industry C year series by month", [&, year](int) {
    StatsFilter f;
    f.industry = "C";
    return succeeded(stats.series(admin, year(f), Interval::kMonth));
  });
  return q;
}

std::int64_t databaseBytes(store::Database& db, const std::string& sqlite_path) {
  if (db.backend() == store::Backend::kSqlite) {
    std::int64_t total = 0;
    for (const char* s : {"", "-wal"}) {
      std::error_code ec;
      auto n = std::filesystem::file_size(sqlite_path + s, ec);
      if (!ec) total += static_cast<std::int64_t>(n);
    }
    return total;
  }
  return db.read([](soci::session& sql) {
    long long bytes = 0;
    sql << "SELECT CAST(SUM(pg_total_relation_size(c.oid)) AS BIGINT) FROM pg_class c JOIN "
           "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "
           "c.relkind = 'r'",
        soci::into(bytes);
    return static_cast<std::int64_t>(bytes);
  });
}

//! Loads and queries one backend; answers false when a query failed or missed the target.
//! With reuse, the database was loaded by an earlier run (TPH_BENCH_KEEP): only the queries run.
bool runBackend(const std::string& name, const std::string& url, const std::string& sqlite_path,
                bool reuse) {
  std::int64_t rows = envInt("TPH_BENCH_STATS_ROWS", 100'000'000);
  double budget = static_cast<double>(envInt("TPH_BENCH_LOAD_BUDGET_S", 5400));
  int runs = static_cast<int>(envInt("TPH_BENCH_RUNS", 40));
  if (reuse)
    std::printf("== %s: querying the year loaded by an earlier run\n", name.c_str());
  else
    std::printf("== %s: loading a year of %lld reductions\n", name.c_str(),
                static_cast<long long>(rows));
  auto db = store::Database::open(url, {.pool_size = 2});
  if (!db) {
    std::fprintf(stderr, "stats_bench: %s\n", db.error().message.c_str());
    return false;
  }
  SystemClock clock;
  if (!store::migrate(**db, clock)) return false;
  auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
  if (!regions) return false;
  if (!reuse && !region::RegionService(**db, clock).load(*regions, "bench")) return false;
  std::vector<std::string> cities, counties;
  for (const auto& r : *regions) {
    if (r.level == "city") cities.push_back(r.code);
    if (r.level == "county") counties.push_back(r.code);
  }
  Loader loader(**db, rows, budget);
  std::int64_t loaded = 0;
  if (reuse) {
    loaded = (*db)->read([](soci::session& sql) {
      long long n = 0;
      sql << "SELECT COUNT(*) FROM reductions", soci::into(n);
      return static_cast<std::int64_t>(n);
    });
  } else {
    loaded = loader.run();
  }
  auto bytes = databaseBytes(**db, sqlite_path);
  std::printf("%s: %lld reductions %s%s; database %.2f GiB\n\n", name.c_str(),
              static_cast<long long>(loaded), reuse ? "in the database" : "loaded",
              loader.partial() ? " (partial: load budget)" : "",
              static_cast<double>(bytes) / (1024.0 * 1024 * 1024));

  analytics::AnalyticsService stats(**db);
  bool ok = true;
  std::printf("%-42s %9s %9s  %s\n", "query", "p50 ms", "p95 ms", "verdict");
  for (auto& query : dashboardQueries(stats, cities, counties)) {
    query.run(0);  // warm the cache, as a serving process is
    std::vector<double> ms;
    bool failed = false;
    for (int r = 0; r < runs; ++r) {
      auto t = Clock::now();
      if (!query.run(r)) failed = true;
      ms.push_back(secondsSince(t) * 1000.0);
    }
    double p95 = percentile(ms, 0.95);
    const char* verdict = failed ? "ERROR" : (p95 < kTargetMs ? "PASS" : "FAIL (p95 >= 50 ms)");
    if (failed || p95 >= kTargetMs) ok = false;
    std::printf("%-42s %9.2f %9.2f  %s\n", query.name.c_str(), percentile(ms, 0.5), p95, verdict);
  }
  std::printf("\n");
  return ok;
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, also in a log file
  bool ok = true;
  bool keep = std::getenv("TPH_BENCH_KEEP") != nullptr;
  const char* sqlite_flag = std::getenv("TPH_BENCH_SQLITE");
  if (!sqlite_flag || std::string(sqlite_flag) != "0") {
    std::string dir = std::getenv("TPH_BENCH_DIR") ? std::getenv("TPH_BENCH_DIR") : "/tmp";
    const char* named = std::getenv("TPH_BENCH_SQLITE_PATH");
    std::string path =
        named && *named ? std::string(named) : dir + "/tph_stats_bench_" + randomHex(6) + ".db";
    bool reuse = std::filesystem::exists(path);
    ok = runBackend("sqlite", "sqlite:" + path, path, reuse) && ok;
    if (!keep)
      for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  if (const char* base = std::getenv("TPH_BENCH_DATABASE_URL")) {
    const char* named = std::getenv("TPH_BENCH_PG_SCHEMA");
    std::string schema = named && *named ? std::string(named) : "stats_bench_" + randomHex(6);
    for (char c : schema)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        std::fprintf(stderr, "stats_bench: TPH_BENCH_PG_SCHEMA must be letters, digits and _\n");
        return 2;
      }
    auto admin = store::Database::open(base, {.pool_size = 1});
    if (!admin) return 1;
    bool reuse = (*admin)->read([&](soci::session& sql) {
      long long n = 0;
      std::string name = schema;
      sql << "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = :s",
          soci::use(name), soci::into(n);
      return n > 0;
    });
    if (!reuse && !(*admin)->transaction([&](soci::session& sql) -> Status {
          sql << "CREATE SCHEMA " + schema;
          return {};
        }))
      return 1;
    std::string url = std::string(base) +
                      (std::string(base).find('?') == std::string::npos ? "?" : "&") +
                      "options=-csearch_path%3D" + schema;
    ok = runBackend("postgresql", url, "", reuse) && ok;
    if (!keep && !(*admin)->transaction([&](soci::session& sql) -> Status {
          sql << "DROP SCHEMA " + schema + " CASCADE";
          return {};
        }))
      ok = false;
  } else {
    std::printf("postgresql: skipped (set TPH_BENCH_DATABASE_URL)\n");
  }
  return ok ? 0 : 1;
}
