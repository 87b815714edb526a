#pragma once
// A database with Guangdong's regions, admins, residents with points, and an approved merchant,
// for the incentive tests.

#include <gtest/gtest.h>

#include <string>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "auth/auth_service.h"
#include "incentive/merchant_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::incentive {

using auth::Principal;
using auth::Role;

class IncentiveTest : public ::testing::Test {
 protected:
  IncentiveTest()
      : clock_(*parseIso8601("2026-03-10T02:00:00Z")),
        accounts_(t_.db(), clock_),
        merchants_(t_.db(), clock_, accounts_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"}},
                          "test")
                    .ok());
    province_ = user("gd_admin", Role::kProvinceAdmin, "440000");
    sz_admin_ = user("sz_admin", Role::kRegionAdmin, "440300");
    gz_admin_ = user("gz_admin", Role::kRegionAdmin, "440100");
    shop_owner_ = user("cafe_owner", Role::kResident, "");
  }

  Principal user(const std::string& name, Role role, const std::string& region) {
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto u =
        auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  //! A resident of `region` credited `points`.
  Principal resident(const std::string& name, std::int64_t points,
                     const std::string& region = "440305") {
    Principal p = user(name, Role::kResident, "");
    auto acct = accounts_.personAccount(p, region);
    EXPECT_TRUE(acct.ok()) << acct.error().message;
    if (points > 0) credit(acct->ledger_account, points, "seed:" + name);
    return p;
  }

  void credit(account::LedgerAccountId to, std::int64_t points, const std::string& key) {
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                                 "issuance", true, clock_);
      return account::postEntry(
          sql, {key, "credit", "test", {{issuance, Points(-points)}, {to, Points(points)}}},
          clock_);
    });
    EXPECT_TRUE(r.ok()) << r.error().message;
  }

  Points pointsOf(const Principal& p) { return accounts_.personAccount(p)->points; }

  void expectLedgerBalanced() {
    auto check = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(check.ok) << check.problem;
  }

  //! An approved Shenzhen merchant run by shop_owner_; refreshes shop_owner_'s grants.
  std::int64_t approvedMerchant(const std::string& licence = "91440300MA5ABCDE1X") {
    auto m = merchants_.apply(shop_owner_, {"低碳咖啡", licence, "food", "440305",
                                            "深圳市南山区科技园 1 号", "0755-1234"});
    EXPECT_TRUE(m.ok()) << m.error().message;
    auto approved = merchants_.decide(sz_admin_, m->id, true, "");
    EXPECT_TRUE(approved.ok()) << approved.error().message;
    shop_owner_.grants.push_back({Role::kMerchant, "440305"});
    return m->id;
  }

  OfferFields offerFields(std::int64_t stock, std::int64_t cost = 100, int per_user = 1) {
    OfferFields f;
    f.title_zh = "免费咖啡";
    f.title_en = "Free coffee";
    f.description = "一杯美式";
    f.points_cost = Points(cost);
    f.stock = stock;
    f.per_user_limit = per_user;
    f.valid_from = *parseIso8601("2026-03-01T00:00:00+08:00");
    f.valid_until = *parseIso8601("2026-04-01T00:00:00+08:00");
    f.voucher_valid_days = 7;
    f.regions = {"440300"};
    return f;
  }

  std::int64_t offer(std::int64_t merchant, const OfferFields& f) {
    auto o = merchants_.createOffer(shop_owner_, merchant, f);
    EXPECT_TRUE(o.ok()) << o.error().message;
    return o->id;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  account::CarbonAccountService accounts_;
  MerchantService merchants_;
  Principal province_, sz_admin_, gz_admin_, shop_owner_;
};

}  // namespace tph::incentive
