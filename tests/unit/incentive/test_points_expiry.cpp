// Points expire by policy, oldest first, announced in the account 30 days before, as ledger
// postings.

#include "incentive/points_expiry.h"
#include "incentive_fixture.h"

namespace tph::incentive {
namespace {

class PointsExpiryTest : public IncentiveTest {
 protected:
  void spend(const Principal& who, std::int64_t points, const std::string& key) {
    auto acct = accounts_.personAccount(who);
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto shop = account::openLedgerAccount(sql, "shop", "merchant", false, clock_);
      return account::postEntry(sql,
                                {key,
                                 "redeem",
                                 "test",
                                 {{acct->ledger_account, Points(-points)}, {shop, Points(points)}}},
                                clock_);
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  Points expiredPoints() {
    return t_.db().read([](soci::session& sql) {
      auto id = account::findLedgerAccount(sql, "points-expired");
      return id ? account::balanceOf(sql, *id) : Points(0);
    });
  }
};

TEST_F(PointsExpiryTest, PolicyIsChecked) {
  EXPECT_EQ(checkExpiryPolicy({11, 30}).error().field, "years_after");
  EXPECT_EQ(checkExpiryPolicy({1, 0}).error().field, "notice_days");
  EXPECT_TRUE(checkExpiryPolicy({0, 30}).ok());
}

TEST_F(PointsExpiryTest, OldestFirstNoticeThenPostingAtTheEndOfTheFollowingYear) {
  PointsExpiryService expiry(t_.db(), clock_, {1, 30});
  clock_.set(*parseIso8601("2025-06-01T10:00:00+08:00"));
  auto alice = resident("alice", 300);  // earned in 2025
  auto bob = resident("bob", 50);       // earned in 2025, all spent
  clock_.set(*parseIso8601("2026-03-01T10:00:00+08:00"));
  credit(accounts_.personAccount(alice)->ledger_account, 200, "alice-2026");
  spend(alice, 100, "alice-spend");  // from the 2025 points, oldest first
  spend(bob, 50, "bob-spend");

  // Before the notice window: nothing is announced or expired.
  clock_.set(*parseIso8601("2026-11-30T10:00:00+08:00"));
  auto early = expiry.run("test");
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->notices, 0);
  auto upcoming = expiry.upcoming(alice);
  ASSERT_TRUE(upcoming.ok());
  ASSERT_TRUE(upcoming->has_value());
  EXPECT_EQ((*upcoming)->points, Points(200));
  EXPECT_EQ((*upcoming)->cohort_year, 2025);

  // 30 days before the end of 2026: Alice is told 200 points expire; Bob has none left to lose.
  clock_.set(*parseIso8601("2026-12-02T10:00:00+08:00"));
  auto noticed = expiry.run("test");
  ASSERT_TRUE(noticed.ok());
  EXPECT_EQ(noticed->notices, 1);
  EXPECT_EQ(noticed->accounts, 0);
  EXPECT_EQ(expiry.run("test")->notices, 0);  // once
  auto notices = expiry.notices(alice);
  ASSERT_EQ(notices->size(), 1u);
  EXPECT_EQ(notices->front().points, Points(200));
  EXPECT_EQ(notices->front().expires_at, *parseIso8601("2027-01-01T00:00:00+08:00"));
  EXPECT_TRUE(expiry.notices(bob)->empty());

  // At the start of 2027 the 2025 points left expire: a posting, not a deletion.
  clock_.set(*parseIso8601("2027-01-01T00:10:00+08:00"));
  auto run = expiry.run("test");
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->accounts, 1);
  EXPECT_EQ(run->points_expired, Points(200));
  EXPECT_EQ(pointsOf(alice), Points(200));  // the 2026 points stay
  EXPECT_EQ(pointsOf(bob), Points(0));
  EXPECT_EQ(expiredPoints(), Points(200));
  auto again = expiry.run("test");
  EXPECT_EQ(again->accounts, 0);
  EXPECT_EQ(pointsOf(alice), Points(200));
  auto next = expiry.upcoming(alice);
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->cohort_year, 2026);
  EXPECT_EQ((*next)->points, Points(200));
  expectLedgerBalanced();
}

}  // namespace
}  // namespace tph::incentive
