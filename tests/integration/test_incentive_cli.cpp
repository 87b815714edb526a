// `tanpuhui incentive expire`, the daily cron sweep: points credited long enough ago expire as a
// ledger posting under the stored policy; `incentive expiry-policy` stores and lists versions, a
// bad one refused naming its option; `incentive rankings-refresh` brings the leaderboards up to
// date.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::cli {
namespace {

using testing::runCli;

TEST(IncentiveCli, ExpireSweepsVouchersAndPointsByPolicy) {
  testing::TestDatabase t;
  std::string db = "--db '" + t.url() + "'";
  std::string out;
  ASSERT_EQ(runCli("migrate " + db + " --data-dir " + TPH_SOURCE_DIR "/data", &out), 0) << out;

  // A resident credited 120 points in 2020: long past any policy's term by the time this runs.
  ManualClock clock(*parseIso8601("2020-05-01T10:00:00+08:00"));
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  auth::AuthService auth(t.db(), clock, options);
  auto u = auth.createUserAsSystem(
      "test", {"alice", "green-travel-42", "alice", {{auth::Role::kResident, ""}}}, false);
  ASSERT_TRUE(u.ok());
  account::CarbonAccountService accounts(t.db(), clock);
  auth::Principal alice{u->id, u->username, u->display_name, u->grants, {}};
  auto acct = accounts.personAccount(alice, "440300");
  ASSERT_TRUE(acct.ok()) << acct.error().message;
  auto posted = t.db().transaction([&](soci::session& sql) {
    auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                               "issuance", true, clock);
    return account::postEntry(
        sql,
        {"seed", "credit", "", {{issuance, Points(-120)}, {acct->ledger_account, Points(120)}}},
        clock);
  });
  ASSERT_TRUE(posted.ok());

  out.clear();
  EXPECT_NE(
      runCli("incentive expiry-policy set --region 440000 --kind months --term 0 --reason x " + db,
             &out),
      0);
  EXPECT_NE(out.find("--term"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(runCli("incentive expiry-policy set --region 440000 --kind year_end --term 1 "
                   "--reason x --effective-from 2020-01-01T00:00:00+08:00 " +
                       db,
                   &out),
            0);
  EXPECT_NE(out.find("effective_from"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(runCli("incentive expiry-policy set --region 440000 --kind year_end --term 2 "
                   "--notice-days 45 --reason '两年有效' --json " +
                       db,
                   &out),
            0)
      << out;
  EXPECT_EQ(nlohmann::json::parse(out)["version"], 1);
  out.clear();
  ASSERT_EQ(runCli("incentive expiry-policy list --json " + db, &out), 0) << out;
  auto listed = nlohmann::json::parse(out);
  EXPECT_EQ(listed["policies"].size(), 1u);
  EXPECT_EQ(listed["in_force"]["term"], 2);
  EXPECT_EQ(listed["in_force"]["created_by"], "cli:incentive-expiry-policy");
  out.clear();
  EXPECT_NE(runCli("incentive expire --skip-vouchers --skip-points " + db, &out), 0);

  out.clear();
  ASSERT_EQ(runCli("incentive expire --json " + db, &out), 0) << out;
  auto summary = nlohmann::json::parse(out);
  EXPECT_EQ(summary["vouchers_expired"], 0);
  EXPECT_EQ(summary["accounts_expired"], 1);
  EXPECT_EQ(summary["points_expired"], 120);
  EXPECT_EQ(accounts.personAccount(alice)->points, Points(0));
  out.clear();
  ASSERT_EQ(runCli("incentive expire " + db, &out), 0) << out;
  EXPECT_NE(out.find("0 points expired"), std::string::npos) << out;
  auto check = t.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
  EXPECT_TRUE(check.ok) << check.problem;

  out.clear();
  ASSERT_EQ(runCli("incentive rankings-refresh --json " + db, &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["caught_up"], true);
  out.clear();
  EXPECT_NE(runCli("incentive rankings-refresh --max-chunks 0 " + db, &out), 0);
}

}  // namespace
}  // namespace tph::cli
