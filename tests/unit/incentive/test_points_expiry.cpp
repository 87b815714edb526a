// Points expire by the stored policy, oldest first, announced in the account 30 days before, as
// ledger postings; policy versions are set by the province only, take effect at their date and
// never bring back or re-expire what was due before.

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
  EXPECT_EQ(checkExpiryPolicy({"year_end", 11, 30}).error().field, "term");
  EXPECT_EQ(checkExpiryPolicy({"months", 0, 30}).error().field, "term");
  EXPECT_EQ(checkExpiryPolicy({"never", 1, 30}).error().field, "term");
  EXPECT_EQ(checkExpiryPolicy({"weekly", 1, 30}).error().field, "kind");
  EXPECT_EQ(checkExpiryPolicy({"year_end", 1, 0}).error().field, "notice_days");
  EXPECT_TRUE(checkExpiryPolicy({"year_end", 0, 30}).ok());
  EXPECT_TRUE(checkExpiryPolicy({"months", 120, 366}).ok());
  EXPECT_TRUE(checkExpiryPolicy({"never", 0, 30}).ok());
}

TEST_F(PointsExpiryTest, OnlyTheProvinceSetsVersionsWhichAreAuditedAndNeverBackdated) {
  PointsExpiryService expiry(t_.db(), clock_);
  NewExpiryPolicy p{"440000", {"months", 6, 30}, std::nullopt, "清理长期未用积分"};
  EXPECT_EQ(expiry.setPolicy(sz_admin_, p).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(expiry.setPolicy(shop_owner_, p).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(expiry.policyInForce("440305")->id, 0);  // the built-in default
  EXPECT_EQ(expiry.policyInForce("440305")->policy.kind, "year_end");

  auto first = expiry.setPolicy(province_, p);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->effective_from, clock_.now());
  EXPECT_EQ(first->created_by, province_.auditActor());
  EXPECT_EQ(expiry.policyInForce("440305")->id, first->id);

  auto bad = p;
  bad.region_code = "449999";
  EXPECT_EQ(expiry.setPolicy(province_, bad).error().field, "region");
  bad = p;
  bad.reason = "";
  EXPECT_EQ(expiry.setPolicy(province_, bad).error().field, "reason");
  bad = p;
  bad.effective_from = clock_.now() - std::chrono::hours(1);
  EXPECT_EQ(expiry.setPolicy(province_, bad).error().field, "effective_from");

  // A version scheduled for later; another may not take effect before it.
  auto later = p;
  later.policy = {"year_end", 2, 60};
  later.effective_from = *parseIso8601("2026-07-01T00:00:00+08:00");
  auto scheduled = expiry.setPolicy(province_, later);
  ASSERT_TRUE(scheduled.ok());
  EXPECT_EQ(scheduled->version, 2);
  EXPECT_EQ(expiry.policyInForce("440000")->version, 1);
  EXPECT_EQ(expiry.setPolicy(province_, p).error().code, ErrorCode::kConflict);
  clock_.set(*parseIso8601("2026-07-01T00:00:00+08:00"));
  EXPECT_EQ(expiry.policyInForce("440000")->version, 2);

  // A city's override governs its counties; the other city keeps the province's.
  auto sz = expiry.setPolicy(province_, {"440300", {"never", 0, 30}, std::nullopt, "深圳试点"});
  ASSERT_TRUE(sz.ok());
  EXPECT_EQ(sz->version, 1);
  EXPECT_EQ(expiry.policyInForce("440305")->id, sz->id);
  EXPECT_EQ(expiry.policyInForce("440100")->id, scheduled->id);
  EXPECT_EQ(expiry.policies("")->size(), 3u);
  EXPECT_EQ(expiry.policies("440300")->size(), 1u);

  long long audited = 0;
  t_.db().read([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM audit_events WHERE action = 'points.expiry_policy'",
        soci::into(audited);
    return 0;
  });
  EXPECT_EQ(audited, 3);
}

TEST_F(PointsExpiryTest, MonthlyPolicyAnnouncesThirtyDaysBeforeAndExpiresOldestFirst) {
  PointsExpiryService expiry(t_.db(), clock_);
  clock_.set(*parseIso8601("2025-11-10T10:00:00+08:00"));
  auto alice = resident("alice", 100);  // earned November 2025, before the policy
  auto ledger = accounts_.personAccount(alice)->ledger_account;
  // From 5 January 2026: points credited in month M expire when month M + 3 ends. Its first
  // expiry is a full notice period later: 1 March, for points credited before December.
  clock_.set(*parseIso8601("2026-01-05T10:00:00+08:00"));
  ASSERT_TRUE(
      expiry.setPolicy(province_, {"440000", {"months", 3, 30}, std::nullopt, "monthly"}).ok());
  clock_.set(*parseIso8601("2026-01-10T10:00:00+08:00"));
  credit(ledger, 200, "alice-jan");
  clock_.set(*parseIso8601("2026-01-20T10:00:00+08:00"));
  spend(alice, 30, "alice-spend");  // from November's points, oldest first
  clock_.set(*parseIso8601("2026-02-15T10:00:00+08:00"));
  credit(ledger, 50, "alice-feb");

  clock_.set(*parseIso8601("2026-01-29T10:00:00+08:00"));
  auto early = expiry.run("test");
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->notices, 0);
  EXPECT_EQ(early->accounts, 0);
  auto upcoming = expiry.upcoming(alice);
  ASSERT_TRUE(upcoming.ok() && upcoming->has_value());
  EXPECT_EQ((*upcoming)->points, Points(70));
  EXPECT_EQ((*upcoming)->expires_at, *parseIso8601("2026-03-01T00:00:00+08:00"));
  EXPECT_EQ((*upcoming)->credited_before, *parseIso8601("2025-12-01T00:00:00+08:00"));

  // 30 days before 1 March the notice is written, once.
  clock_.set(*parseIso8601("2026-01-30T10:00:00+08:00"));
  EXPECT_EQ(expiry.run("test")->notices, 1);
  EXPECT_EQ(expiry.run("test")->notices, 0);
  auto notices = expiry.notices(alice);
  ASSERT_EQ(notices->size(), 1u);
  EXPECT_EQ(notices->front().points, Points(70));
  EXPECT_EQ(notices->front().expires_at, *parseIso8601("2026-03-01T00:00:00+08:00"));
  EXPECT_EQ(*notices->front().credited_before, *parseIso8601("2025-12-01T00:00:00+08:00"));

  // On 1 March what is left of November expires; January's and February's points stay.
  clock_.set(*parseIso8601("2026-03-01T00:10:00+08:00"));
  auto run = expiry.run("test");
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->accounts, 1);
  EXPECT_EQ(run->points_expired, Points(70));
  EXPECT_EQ(pointsOf(alice), Points(250));
  EXPECT_EQ(expiredPoints(), Points(70));
  EXPECT_EQ(expiry.run("test")->accounts, 0);
  // Nothing was credited in December; January's 200 are next, on 1 May.
  auto next = expiry.upcoming(alice);
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->points, Points(200));
  EXPECT_EQ((*next)->expires_at, *parseIso8601("2026-05-01T00:00:00+08:00"));
  expectLedgerBalanced();
}

TEST_F(PointsExpiryTest, AChangeNeitherReExpiresNorBringsBackWhatWasDueAndGivesFullNotice) {
  PointsExpiryService expiry(t_.db(), clock_);
  clock_.set(*parseIso8601("2024-06-01T10:00:00+08:00"));
  auto sz = resident("sz_resident", 100, "440305");
  auto gz = resident("gz_resident", 100, "440100");
  clock_.set(*parseIso8601("2025-06-01T10:00:00+08:00"));
  credit(accounts_.personAccount(sz)->ledger_account, 40, "sz-2025");
  credit(accounts_.personAccount(gz)->ledger_account, 40, "gz-2025");

  // 10 March 2026: Shenzhen stops expiring points. 2024's points were due on 1 January under the
  // default and stay due; Shenzhen's 2025 points no longer expire, Guangzhou's do next January.
  clock_.set(*parseIso8601("2026-03-10T10:00:00+08:00"));
  ASSERT_TRUE(
      expiry.setPolicy(province_, {"440300", {"never", 0, 30}, std::nullopt, "深圳试点"}).ok());
  auto run = expiry.run("test");
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->accounts, 2);
  EXPECT_EQ(run->points_expired, Points(200));
  EXPECT_FALSE(expiry.upcoming(sz)->has_value());
  auto gz_next = expiry.upcoming(gz);
  ASSERT_TRUE(gz_next->has_value());
  EXPECT_EQ((*gz_next)->points, Points(40));
  EXPECT_EQ((*gz_next)->expires_at, *parseIso8601("2027-01-01T00:00:00+08:00"));

  // The province shortens its default to one month: nothing posted is expired again, and nothing
  // more expires before a full notice period (first expiry 1 May, for points before April).
  ASSERT_TRUE(
      expiry.setPolicy(province_, {"440000", {"months", 1, 30}, std::nullopt, "shorter"}).ok());
  EXPECT_EQ(expiry.run("test")->accounts, 0);
  EXPECT_EQ(expiredPoints(), Points(200));
  gz_next = expiry.upcoming(gz);
  ASSERT_TRUE(gz_next->has_value());
  EXPECT_EQ((*gz_next)->expires_at, *parseIso8601("2026-05-01T00:00:00+08:00"));
  clock_.set(*parseIso8601("2026-05-01T08:00:00+08:00"));
  run = expiry.run("test");
  EXPECT_EQ(run->accounts, 1);  // Guangzhou's 40; Shenzhen's never
  EXPECT_EQ(pointsOf(gz), Points(0));
  EXPECT_EQ(pointsOf(sz), Points(40));
  expectLedgerBalanced();
}

TEST_F(PointsExpiryTest, OldestFirstNoticeThenPostingAtTheEndOfTheFollowingYear) {
  PointsExpiryService expiry(t_.db(), clock_);  // no stored policy: the built-in default
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
