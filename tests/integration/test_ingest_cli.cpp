// `tanpuhui ingest` end to end: a setup file, NDJSON and CSV, a second run that changes nothing,
// and a run killed with SIGKILL at random moments and started again until it finishes.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "cli_runner.h"
#include "core/crypto.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::runCli;

constexpr const char* kKey = "5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d5c1d";

class IngestCliTest : public ::testing::Test {
 protected:
  IngestCliTest() : t_(false), dir_(fs::temp_directory_path() / ("tph_ingest_" + randomHex(6))) {
    fs::create_directories(dir_);
    json setup = {{"providers",
                   {{{"key", "sz-metro"},
                     {"name", "深圳地铁"},
                     {"kind", "transit_operator"},
                     {"regions", {"440300"}},
                     {"methodologies", {"travel.metro"}},
                     {"pseudonym_key", kKey}}}},
                  {"residents", json::array()},
                  {"households", json::array()},
                  {"bindings", json::array()}};
    for (int i = 0; i < kResidents; ++i) {
      std::string user = "cli_r" + std::to_string(i);
      setup["residents"].push_back(
          {{"username", user}, {"display_name", user}, {"region", "440305"}});
      setup["bindings"].push_back(
          {{"provider", "sz-metro"}, {"subject_ref", ref(i)}, {"username", user}});
    }
    std::ofstream(dir_ / "setup.json") << setup.dump();
    std::string out;
    EXPECT_EQ(runCli("migrate --db '" + t_.url() + "' --data-dir " TPH_SOURCE_DIR "/data", &out), 0)
        << out;
  }
  ~IngestCliTest() override { fs::remove_all(dir_); }

  static std::string ref(int i) { return hmacSha256Hex(kKey, "card:" + std::to_string(i)); }

  //! `days` days of month `month` of 2026, two trips a day for every resident, as NDJSON.
  fs::path writeTrips(int days, const std::string& name, int month = 3,
                      const std::string& id_prefix = "t") {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> km(3, 30), minute(0, 59);
    std::ofstream out(dir_ / name);
    int n = 0;
    for (int d = 1; d <= days; ++d) {
      for (int i = 0; i < kResidents; ++i) {
        for (int hour : {8, 18}) {
          char at[40];
          std::snprintf(at, sizeof at, "2026-%02d-%02dT%02d:%02d:00+08:00", month, d, hour,
                        minute(rng));
          out << json{{"provider_record_id", id_prefix + std::to_string(++n)},
                      {"subject_ref", ref(i)},
                      {"methodology", "travel.metro"},
                      {"occurred_at", at},
                      {"region", "440305"},
                      {"inputs", {{"distance_km", km(rng)}}}}
                     .dump()
              << "\n";
        }
      }
    }
    return dir_ / name;
  }

  std::int64_t count(const std::string& sql_text) {
    return t_.db().read([&](soci::session& sql) {
      long long n = 0;
      soci::indicator ind;
      sql << sql_text, soci::into(n, ind);
      return ind == soci::i_null ? 0LL : n;
    });
  }
  void expectConsistent() {
    auto ledger = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(ledger.ok) << ledger.problem;
    std::string out;
    EXPECT_EQ(runCli("audit verify --db '" + t_.url() + "'", &out), 0) << out;
    // Points credited equal points issued: every credit left an issuance account.
    EXPECT_EQ(count("SELECT SUM(points) FROM reductions"),
              -count("SELECT SUM(balance) FROM ledger_accounts WHERE kind = 'issuance'"));
  }

  static constexpr int kResidents = 20;
  testing::TestDatabase t_;
  fs::path dir_;
};

TEST_F(IngestCliTest, NdjsonAndCsvWithSetupAndASecondRunThatChangesNothing) {
  auto trips = writeTrips(3, "sz-metro.ndjson");
  std::ofstream(dir_ / "extra.csv")
      << "provider_record_id,subject_ref,methodology,occurred_at,region,inputs.distance_km\n"
      << "c1," << ref(0) << ",travel.metro,2026-03-05T09:00:00+08:00,440305,12\n"
      << "c2," << ref(1) << ",travel.metro,2026-03-05T09:00:00+08:00,440305,far\n"
      << "c3," << ref(2) << ",travel.metro,2026-03-05T09:00:00+08:00,440305,\n";
  std::string out;
  ASSERT_EQ(runCli("ingest --db '" + t_.url() + "' --setup " + (dir_ / "setup.json").string() +
                       " --json " + trips.string() + " " + (dir_ / "extra.csv").string() +
                       " --provider sz-metro",
                   &out),
            0)
      << out;
  auto summary = json::parse(out.substr(out.find('{')));
  EXPECT_EQ(summary["records"], kResidents * 2 * 3 + 3);
  EXPECT_EQ(summary["credited"], kResidents * 2 * 3 + 1);
  EXPECT_EQ(summary["quarantined"], 2);
  out.clear();
  ASSERT_EQ(runCli("ingest --db '" + t_.url() + "' --setup " + (dir_ / "setup.json").string() +
                       " --json " + trips.string() + " --provider sz-metro",
                   &out),
            0)
      << out;
  auto again = json::parse(out.substr(out.find('{')));
  EXPECT_EQ(again["credited"], 0);
  EXPECT_EQ(again["duplicate"], kResidents * 2 * 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), kResidents);
  EXPECT_EQ(count("SELECT COUNT(*) FROM reductions"), kResidents * 2 * 3 + 1);
  expectConsistent();
}

TEST_F(IngestCliTest, KilledAtRandomMomentsThenRunAgainCreditsEveryRecordOnce) {
  auto trips = writeTrips(20, "sz-metro.ndjson");  // 800 records
  std::string out;
  ASSERT_EQ(runCli("ingest --db '" + t_.url() + "' --setup " + (dir_ / "setup.json").string() +
                       " " + trips.string() + " --batch-size 25 --provider sz-metro --json",
                   &out),
            0)
      << out;
  // A second file of new records is the one the runs below are killed in.
  auto killed = writeTrips(20, "sz-metro-2.ndjson", 4, "k");
  std::mt19937 rng(20261128);
  std::uniform_int_distribution<int> delay_ms(5, 150);
  for (int attempt = 0; attempt < 6; ++attempt) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      std::string db = t_.url();
      execl(TPH_BINARY, TPH_BINARY, "ingest", "--db", db.c_str(), "--batch-size", "25",
            "--provider", "sz-metro", killed.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    usleep(static_cast<useconds_t>(delay_ms(rng)) * 1000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  out.clear();
  ASSERT_EQ(runCli("ingest --db '" + t_.url() + "' --batch-size 25 --provider sz-metro --json " +
                       killed.string(),
                   &out),
            0)
      << out;
  EXPECT_EQ(count("SELECT COUNT(*) FROM ingest_records WHERE provider_record_id LIKE 'k%'"), 800);
  EXPECT_EQ(count("SELECT COUNT(*) FROM reductions"), 1600);
  EXPECT_EQ(count("SELECT COUNT(*) FROM (SELECT record_id FROM reductions GROUP BY record_id "
                  "HAVING COUNT(*) > 1) d"),
            0);
  expectConsistent();
}

}  // namespace
}  // namespace tph::cli
