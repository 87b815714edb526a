// ETS offsets on a real database: eligible PHCER retired with the enterprise as beneficiary, and
// each rule at its boundary — exactly 10% of verified emissions, exactly 70% from Guangdong, the
// deadline day in Asia/Shanghai — plus idempotency, permissions and the compliance report.

#include <gtest/gtest.h>

#include "auth/auth_service.h"
#include "ets/ets_service.h"
#include "issued_units.h"
#include "region/region_service.h"
#include "registry/registry_ledger.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::ets {
namespace {

using auth::Principal;
using auth::Role;

class EtsTest : public ::testing::Test {
 protected:
  // 1 March 2027, 10:00 Asia/Shanghai: compliance for 2026 is open.
  EtsTest()
      : clock_(*parseIso8601("2027-03-01T02:00:00Z")),
        registry_(t_.db(), clock_),
        ets_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"450000", "", "province", "广西壮族自治区", "Guangxi"}},
                          "test")
                    .ok());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto make = [&](const std::string& name, Role role, const std::string& region) {
      auto u =
          auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
      EXPECT_TRUE(u.ok()) << u.error().message;
      return Principal{u->id, u->username, u->display_name, u->grants, {}};
    };
    province_ = make("gd_admin", Role::kProvinceAdmin, "440000");
    verifier_ = make("cqc", Role::kVerifier, "");
    steel_user_ = make("steel", Role::kEtsEnterprise, "");
    other_user_ = make("cement", Role::kEtsEnterprise, "");
    steel_ = open("韶关钢铁", steel_user_);
    cement_ = open("英德水泥", other_user_);
    EligibleScope metro;
    metro.methodology = "travel.metro";
    metro.effective_from = clock_.now() - std::chrono::hours(24 * 365);
    auto s = ets_.admitScope(province_, metro);
    EXPECT_TRUE(s.ok()) << s.error().message;
    scope_ = s->id;
  }

  std::string open(const std::string& name, const Principal& user) {
    auto a = registry_.openAccount(
        province_, {registry::AccountKind::kEnterprise, name, "440300", {user.user_id}});
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a->account_no;
  }
  std::int64_t issue(const std::string& account, std::int64_t units,
                     const std::string& region = "440300",
                     const std::string& methodology = "travel.metro") {
    return testing::issueUnitsTo(t_.db(), clock_, {account, units, methodology, region, 2026});
  }
  Units held(const std::string& account_no) {
    return t_.db().read([&](soci::session& sql) {
      return registry::heldUnits(sql, *registry::findAccountId(sql, account_no), {});
    });
  }
  Result<Surrender> surrender(std::int64_t units, std::optional<std::int64_t> batch = {},
                              const Principal* who = nullptr) {
    static int n = 0;
    return ets_.surrender(who ? *who : steel_user_,
                          {"s-" + std::to_string(++n), steel_, 2026, units, batch});
  }
  void verify(std::int64_t tonnes) {
    auto v = ets_.setVerifiedEmissions(verifier_, steel_, 2026, tonnes);
    ASSERT_TRUE(v.ok()) << v.error().message;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  registry::RegistryService registry_;
  EtsService ets_;
  Principal province_, verifier_, steel_user_, other_user_;
  std::string steel_, cement_;
  std::int64_t scope_ = 0;
};

TEST_F(EtsTest, EligibleUnitsAreRetiredWithTheEnterpriseAsBeneficiaryUpToExactlyTenPercent) {
  issue(steel_, 2000);
  issue(steel_, 500, "440300", "sink.tree_planting");  // not eligible
  auto unverified = surrender(10);
  ASSERT_FALSE(unverified.ok());
  EXPECT_EQ(unverified.error().field, "verified_emissions_t");
  verify(10'000);

  auto done = surrender(1000);  // exactly 10% of 10,000 t
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->units, 1000);
  EXPECT_EQ(done->home_province_units, 1000);
  EXPECT_EQ(done->account.phcer_surrendered_t, 1000);
  ASSERT_EQ(done->operation_ids.size(), 1u);
  EXPECT_EQ(held(steel_), Units(1500));
  auto retirements = registry_.retirements(10, 0);
  ASSERT_EQ(retirements->size(), 1u);
  EXPECT_EQ((*retirements)[0].reason, "ets_offset");
  EXPECT_EQ((*retirements)[0].beneficiary, "韶关钢铁");
  EXPECT_EQ((*retirements)[0].units, Units(1000));

  auto over = surrender(1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "max_offset_bp");
  EXPECT_EQ(held(steel_), Units(1500));
  EXPECT_TRUE(registry_.check().ok);
}

TEST_F(EtsTest, IneligibleAndSuspendedUnitsCannotBeSurrendered) {
  issue(steel_, 500, "440300", "sink.tree_planting");
  verify(100'000);
  auto none = surrender(10);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "units");
  issue(steel_, 100);
  ASSERT_TRUE(ets_.setScopeSuspended(province_, scope_, true).ok());
  EXPECT_EQ(surrender(10).error().field, "units");
  ASSERT_TRUE(ets_.setScopeSuspended(province_, scope_, false).ok());
  EXPECT_TRUE(surrender(100).ok());
  EXPECT_EQ(surrender(1).error().field, "units");
  EXPECT_EQ(held(steel_), Units(500));
}

TEST_F(EtsTest, AtLeastSeventyPercentFromGuangdongCountedOverTheYear) {
  auto guangdong = issue(steel_, 700);
  auto guangxi = issue(steel_, 400, "450000");
  verify(100'000);
  auto first = surrender(300, guangxi);  // 0% from Guangdong
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().field, "min_home_province_bp");
  EXPECT_EQ(held(steel_), Units(1100));  // nothing retired
  ASSERT_TRUE(surrender(700, guangdong).ok());
  auto exactly = surrender(300, guangxi);  // 700 of 1,000: exactly 70%
  ASSERT_TRUE(exactly.ok()) << exactly.error().message;
  EXPECT_EQ(exactly->home_province_units, 0);
  EXPECT_EQ(exactly->account.phcer_home_province_t, 700);
  EXPECT_EQ(surrender(1, guangxi).error().field, "min_home_province_bp");

  // The province may set other rules for a year.
  ComplianceRules rules{2026, 1000, 6000, "2027-06-30"};
  ASSERT_TRUE(ets_.setRules(province_, rules).ok());
  EXPECT_TRUE(surrender(1, guangxi).ok());
  EXPECT_TRUE(ets_.rules(2026)->configured);
}

TEST_F(EtsTest, SurrenderClosesAtTheEndOfTheDeadlineDayInShanghai) {
  issue(steel_, 100);
  verify(10'000);
  EXPECT_EQ(ets_.rules(2026)->deadline_day, "2027-06-20");
  clock_.set(*parseIso8601("2027-06-20T15:59:59Z"));  // 23:59:59 on 20 June in Shanghai
  ASSERT_TRUE(surrender(10).ok());
  clock_.set(*parseIso8601("2027-06-20T16:00:00Z"));  // 00:00 on 21 June
  auto late = surrender(10);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().field, "deadline_day");
}

TEST_F(EtsTest, RetriesAnswerTheFirstSurrenderAndOnlyTheEnterpriseMaySurrender) {
  issue(steel_, 100);
  verify(10'000);
  SurrenderRequest request{"k-1", steel_, 2026, 40, std::nullopt};
  ASSERT_TRUE(ets_.surrender(steel_user_, request).ok());
  auto again = ets_.surrender(steel_user_, request);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(held(steel_), Units(60));
  request.units = 41;
  EXPECT_EQ(ets_.surrender(steel_user_, request).error().field, "idempotency_key");
  EXPECT_EQ(ets_.surrender(other_user_, {"k-2", steel_, 2026, 1}).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ets_.surrender(province_, {"k-3", steel_, 2026, 1}).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ets_.surrender(steel_user_, {"k-4", steel_, 2026, 0}).error().field, "units");
  EXPECT_EQ(ets_.surrender(steel_user_, {"k-5", steel_, 1999, 1}).error().field, "year");
  EXPECT_EQ(ets_.setVerifiedEmissions(steel_user_, steel_, 2026, 1).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ets_.setRules(province_, {2026, 1000, 7000, "2026-06-20"}).error().field,
            "deadline_day");
}

TEST_F(EtsTest, TheComplianceReportSaysWhoCompliedByAllowancesAndOffsets) {
  issue(steel_, 1000);
  verify(10'000);
  ASSERT_TRUE(ets_.setAllowancesSurrendered(province_, steel_, 2026, 9'000).ok());
  ASSERT_TRUE(surrender(1000).ok());
  ASSERT_TRUE(ets_.setVerifiedEmissions(province_, cement_, 2026, 5'000).ok());
  ASSERT_TRUE(ets_.setAllowancesSurrendered(province_, cement_, 2026, 4'000).ok());
  auto report = ets_.report(province_, 2026);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 2u);
  std::map<std::string, std::string> status;
  for (const auto& a : *report) status[a.account_no] = a.status();
  EXPECT_EQ(status[steel_], "complied");
  EXPECT_EQ(status[cement_], "short");
  EXPECT_EQ(ets_.report(steel_user_, 2026).error().code, ErrorCode::kForbidden);
  auto xlsx = ets_.reportXlsx(province_, 2026);
  ASSERT_TRUE(xlsx.ok());
  ASSERT_GT(xlsx->size(), 1000u);
  EXPECT_EQ(xlsx->substr(0, 2), "PK");  // a zip container
}

}  // namespace
}  // namespace tph::ets
