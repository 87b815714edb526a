#include <gtest/gtest.h>

#include <thread>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::account {
namespace {

using auth::Principal;
using auth::Role;

class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() : clock_(testing::testEpoch()) {
    (void)t_.db().transaction([&](soci::session& sql) -> Result<int> {
      issuance_ = openLedgerAccount(sql, issuanceLedgerCode("440300"), "issuance", true, clock_);
      alice_ = openLedgerAccount(sql, "person:alice", "person", false, clock_);
      shop_ = openLedgerAccount(sql, "merchant:shop", "merchant", false, clock_);
      return 0;
    });
  }
  Result<PostResult> post(JournalEntry entry) {
    return t_.db().transaction([&](soci::session& sql) { return postEntry(sql, entry, clock_); });
  }
  Points balance(LedgerAccountId id) {
    return t_.db().read([&](soci::session& sql) { return balanceOf(sql, id); });
  }
  LedgerCheck check() {
    return t_.db().read([](soci::session& sql) { return verifyLedger(sql); });
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  LedgerAccountId issuance_ = 0, alice_ = 0, shop_ = 0;
};

TEST_F(LedgerTest, CreditsMoveFromIssuanceAndBalance) {
  auto r = post(
      {"credit:batch1", "credit", "metro", {{issuance_, Points(-120)}, {alice_, Points(120)}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(balance(alice_), Points(120));
  EXPECT_EQ(balance(issuance_), Points(-120));
  auto c = check();
  EXPECT_TRUE(c.ok) << c.problem;
  EXPECT_EQ(c.entries, 1);
}

TEST_F(LedgerTest, ARetryWithTheSameKeyPostsNothingNew) {
  JournalEntry entry{
      "credit:batch1", "credit", "", {{issuance_, Points(-50)}, {alice_, Points(50)}}};
  ASSERT_TRUE(post(entry).ok());
  auto again = post(entry);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(balance(alice_), Points(50));
  entry.legs = {{issuance_, Points(-60)}, {alice_, Points(60)}};
  auto different = post(entry);
  ASSERT_FALSE(different.ok());
  EXPECT_EQ(different.error().field, "idempotency_key");
}

TEST_F(LedgerTest, NoBalanceGoesNegativeUnlessAllowed) {
  ASSERT_TRUE(
      post({"credit:1", "credit", "", {{issuance_, Points(-30)}, {alice_, Points(30)}}}).ok());
  auto overdraw = post({"redeem:1", "redeem", "", {{alice_, Points(-31)}, {shop_, Points(31)}}});
  ASSERT_FALSE(overdraw.ok());
  EXPECT_EQ(overdraw.error().field, "points");
  EXPECT_EQ(balance(alice_), Points(30));
  EXPECT_EQ(balance(shop_), Points(0));
  EXPECT_TRUE(post({"redeem:2", "redeem", "", {{alice_, Points(-30)}, {shop_, Points(30)}}}).ok());
  EXPECT_TRUE(check().ok);
}

TEST_F(LedgerTest, UnbalancedLegsAreABug) {
  EXPECT_THROW(post({"bad:1", "credit", "", {{issuance_, Points(-1)}, {alice_, Points(2)}}}),
               std::logic_error);
  EXPECT_THROW(post({"bad:2", "credit", "", {{alice_, Points(1)}}}), std::logic_error);
  EXPECT_EQ(check().entries, 0);
}

TEST_F(LedgerTest, ConcurrentSpendingNeverOverdraws) {
  ASSERT_TRUE(
      post({"credit:1", "credit", "", {{issuance_, Points(-100)}, {alice_, Points(100)}}}).ok());
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        auto r = post({"redeem:" + std::to_string(i) + ":" + std::to_string(j),
                       "redeem",
                       "",
                       {{alice_, Points(-7)}, {shop_, Points(7)}}});
        if (r.ok()) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 14);  // 14 × 7 = 98 ≤ 100 < 15 × 7
  EXPECT_EQ(balance(alice_), Points(2));
  EXPECT_EQ(balance(shop_), Points(98));
  EXPECT_TRUE(check().ok);
}

TEST_F(LedgerTest, VerifyCatchesABalanceEditedBehindItsBack) {
  ASSERT_TRUE(
      post({"credit:1", "credit", "", {{issuance_, Points(-10)}, {alice_, Points(10)}}}).ok());
  t_.exec("UPDATE ledger_accounts SET balance = 1000 WHERE code = 'person:alice'");
  auto c = check();
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.problem.find("shows 1000 but its postings sum to 10"), std::string::npos)
      << c.problem;
}

class AccountTest : public ::testing::Test {
 protected:
  AccountTest() : clock_(testing::testEpoch()), accounts_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    for (const char* name : {"alice", "bob", "carol"}) {
      auto u = auth.createUserAsSystem(
          "test", {name, "green-travel-42", name, {{Role::kResident, ""}}}, false);
      users_[name] = Principal{u->id, u->username, u->display_name, u->grants, {}};
    }
    auto sme = auth.createUserAsSystem(
        "test", {"sme", "green-travel-42", "SME", {{Role::kEnterprise, "440300"}}}, false);
    users_["sme"] = Principal{sme->id, sme->username, sme->display_name, sme->grants, {}};
  }
  testing::TestDatabase t_;
  ManualClock clock_;
  CarbonAccountService accounts_;
  std::map<std::string, Principal> users_;
};

TEST_F(AccountTest, APersonAccountOpensOnceOnFirstUse) {
  auto first = accounts_.personAccount(users_["alice"], "440300");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->kind, AccountKind::kPerson);
  EXPECT_EQ(first->points, Points(0));
  auto again = accounts_.personAccount(users_["alice"]);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(accounts_.personAccount(users_["bob"], "449999").error().field, "region");
}

TEST_F(AccountTest, HouseholdsHaveOneAdminAndMembersInOneHouseholdEach) {
  auto home = accounts_.createHousehold(users_["alice"], "陈家", "440300");
  ASSERT_TRUE(home.ok()) << home.error().message;
  auto id = home->id;
  EXPECT_EQ(home->members[0].role, "admin");
  EXPECT_EQ(accounts_.addHouseholdMember(users_["bob"], id, "carol").error().code,
            ErrorCode::kNotFound);
  ASSERT_TRUE(accounts_.addHouseholdMember(users_["alice"], id, "bob").ok());
  EXPECT_EQ(accounts_.addHouseholdMember(users_["bob"], id, "carol").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(accounts_.addHouseholdMember(users_["alice"], id, "nobody").error().field, "username");
  EXPECT_EQ(accounts_.createHousehold(users_["bob"], "second", "440300").error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(
      accounts_.removeHouseholdMember(users_["alice"], id, users_["alice"].user_id).error().code,
      ErrorCode::kConflict);
  auto left = accounts_.removeHouseholdMember(users_["bob"], id, users_["bob"].user_id);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->members.size(), 1u);
  EXPECT_EQ(accounts_.account(users_["bob"], id).error().code, ErrorCode::kNotFound);
  auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(chain.ok);
}

TEST_F(AccountTest, EnterpriseAccountsAreForEnterpriseUsers) {
  EXPECT_EQ(accounts_.createEnterprise(users_["alice"], "Shop", "440300").error().code,
            ErrorCode::kForbidden);
  auto sme = accounts_.createEnterprise(users_["sme"], "绿源科技", "440300");
  ASSERT_TRUE(sme.ok()) << sme.error().message;
  EXPECT_EQ(sme->kind, AccountKind::kEnterprise);
  auto mine = accounts_.accountsOf(users_["sme"]);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(accounts_.createEnterprise(users_["sme"], "again", "440300").error().code,
            ErrorCode::kConflict);
}

}  // namespace
}  // namespace tph::account
