#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_runner.h"
#include "core/crypto.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::cli {
namespace {

using testing::runCli;
using testing::TestDatabase;

int count(store::Database& db, const std::string& sql_text) {
  return db.read([&](soci::session& sql) {
    int n = 0;
    sql << sql_text, soci::into(n);
    return n;
  });
}

std::string dataDir() {
  return std::string(TPH_SOURCE_DIR) + "/data";
}

TEST(Cli, MigrateAndDemoAreIdempotent) {
  TestDatabase t(/*migrate=*/false);
  std::string db = "--db '" + t.url() + "' --data-dir " + dataDir();
  std::string out;
  ASSERT_EQ(runCli("migrate " + db, &out), 0) << out;
  ASSERT_EQ(runCli("demo " + db, &out), 0) << out;
  ASSERT_EQ(runCli("demo " + db, &out), 0) << out;
  EXPECT_NE(out.find("0 created, 12 already present"), std::string::npos) << out;
  EXPECT_EQ(count(t.db(), "SELECT COUNT(*) FROM regions WHERE level = 'city'"), 21);
  EXPECT_EQ(count(t.db(), "SELECT COUNT(*) FROM regions"),
            22 + 122);  // and every county-level division
  EXPECT_EQ(count(t.db(), "SELECT COUNT(*) FROM users"), 12);
  EXPECT_EQ(count(t.db(), "SELECT COUNT(DISTINCT role) FROM user_roles"), 12);
  out.clear();
  EXPECT_EQ(runCli("audit verify --db '" + t.url() + "'", &out), 0) << out;
}

TEST(Cli, UserAddCreatesRolesAndRefusesBadInput) {
  TestDatabase t;
  std::string db = "--db '" + t.url() + "'";
  std::string out;
  ASSERT_EQ(runCli("migrate " + db + " --data-dir " + dataDir(), &out), 0) << out;
  out.clear();
  EXPECT_EQ(runCli("user add sz_admin --role region_admin:440300 " + db, &out), 1)
      << "no password on stdin or in TPH_NEW_PASSWORD must be refused";
  EXPECT_NE(out.find("password"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(runCli("user add sz_admin --role region_admin:440300 --role auditor " + db, &out,
                   "TPH_NEW_PASSWORD=city-admin-2026"),
            0)
      << out;
  EXPECT_NE(out.find("region_admin:440300"), std::string::npos) << out;
  EXPECT_EQ(count(t.db(), "SELECT COUNT(*) FROM user_roles WHERE region_code = '440300'"), 1);
  EXPECT_EQ(count(t.db(), "SELECT COUNT(*) FROM user_roles WHERE role = 'auditor'"), 1);
  out.clear();
  EXPECT_NE(runCli("user add x_user --role wizard " + db, &out), 0);
  EXPECT_NE(out.find("unknown role wizard"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(runCli("user add y_user --role region_admin:449999 " + db, &out), 0);
}

TEST(Cli, FlagsBeatEnvironmentWhichBeatsTheConfigFile) {
  TestDatabase flag_db(false), env_db(false), file_db(false);
  auto config = std::filesystem::temp_directory_path() / ("tph_cfg_" + randomHex(4) + ".toml");
  std::ofstream(config) << "db = \"" << file_db.url() << "\"\ndata_dir = \"" << dataDir() << "\"\n";
  std::string out;
  ASSERT_EQ(runCli("migrate --config " + config.string(), &out), 0) << out;
  ASSERT_EQ(runCli("migrate --config " + config.string(), &out), 0) << out;
  EXPECT_GT(count(file_db.db(), "SELECT COUNT(*) FROM regions"), 0);

  std::string env = "TPH_DATABASE_URL='" + env_db.url() + "'";
  ASSERT_EQ(runCli("migrate --config " + config.string(), &out, env), 0) << out;
  EXPECT_GT(count(env_db.db(), "SELECT COUNT(*) FROM regions"), 0);

  ASSERT_EQ(
      runCli("migrate --config " + config.string() + " --db '" + flag_db.url() + "'", &out, env), 0)
      << out;
  EXPECT_GT(count(flag_db.db(), "SELECT COUNT(*) FROM regions"), 0);
  std::filesystem::remove(config);
}

TEST(Cli, BadArgumentsExitNonZeroWithAMessage) {
  std::string out;
  EXPECT_NE(runCli("serve --listen nowhere", &out), 0);
  EXPECT_NE(out.find("listen"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(runCli("migrate --db mysql://x", &out), 0);
  EXPECT_NE(out.find("db"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(runCli("frobnicate", &out), 0);
  out.clear();
  EXPECT_NE(runCli("migrate --config /nonexistent/tph.toml", &out), 0);
  for (const char* command : {"serve", "migrate", "demo", "user add", "audit verify"}) {
    out.clear();
    EXPECT_EQ(runCli(std::string(command) + " --help", &out), 0) << command;
    EXPECT_NE(out.find("--db"), std::string::npos) << command << ": " << out;
  }
}

}  // namespace
}  // namespace tph::cli

namespace tph::cli {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Gen, TheSameSeedWritesTheSameFilesAndEveryGoodRecordIsBound) {
  auto base = std::filesystem::temp_directory_path() / ("tph_gen_" + randomHex(4));
  std::string out;
  auto gen = [&](const std::string& dir, int seed) {
    return testing::runCli("gen --residents 60 --days 10 --start 2026-03-01 --seed " +
                               std::to_string(seed) + " --out " + (base / dir).string(),
                           &out);
  };
  ASSERT_EQ(gen("a", 7), 0) << out;
  ASSERT_EQ(gen("b", 7), 0) << out;
  ASSERT_EQ(gen("c", 8), 0) << out;
  EXPECT_EQ(slurp(base / "a" / "gd-bus.ndjson"), slurp(base / "b" / "gd-bus.ndjson"));
  EXPECT_EQ(slurp(base / "a" / "setup.json"), slurp(base / "b" / "setup.json"));
  EXPECT_NE(slurp(base / "a" / "setup.json"), slurp(base / "c" / "setup.json"));

  auto setup = nlohmann::json::parse(slurp(base / "a" / "setup.json"));
  EXPECT_EQ(setup["residents"].size(), 60u);
  std::set<std::string> bound;
  for (const auto& b : setup["bindings"]) bound.insert(b["subject_ref"].get<std::string>());
  std::size_t records = 0;
  for (const auto& entry : std::filesystem::directory_iterator(base / "a")) {
    if (entry.path().extension() != ".ndjson") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      auto r = nlohmann::json::parse(line);
      ++records;
      EXPECT_TRUE(bound.count(r["subject_ref"].get<std::string>())) << line;
    }
  }
  EXPECT_GT(records, 500u);
  std::filesystem::remove_all(base);
}

TEST(Gen, RefusesBadArgumentsNamingTheOption) {
  std::string out;
  EXPECT_NE(testing::runCli("gen --residents 0 --days 3 --out /tmp/x", &out), 0);
  EXPECT_NE(out.find("residents"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(testing::runCli("gen --residents 5 --days 500 --out /tmp/x", &out), 0);
  EXPECT_NE(out.find("days"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(testing::runCli("gen --residents 5 --days 3 --bad-share 0.9 --out /tmp/x", &out), 0);
  EXPECT_NE(out.find("bad-share"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(testing::runCli("gen --residents 5 --days 3 --out /proc/nope/x", &out), 0);
  EXPECT_NE(out.find("out"), std::string::npos) << out;
}

}  // namespace
}  // namespace tph::cli
