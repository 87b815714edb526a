// The export holds the user's data and nobody else's; deletion erases what identifies the user,
// forfeits points through the ledger, cancels vouchers, ends bindings, and refuses (changing
// nothing) while something stands in the way. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "incentive/merchant_service.h"
#include "incentive/ranking_service.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"
#include "privacy/personal_data_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::privacy {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr const char* kPassword = "green-travel-42";

auth::AuthOptions fastAuth() {
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  return options;
}

class PrivacyTest : public ::testing::Test {
 protected:
  PrivacyTest()
      : clock_(*parseIso8601("2026-03-10T04:00:00Z")),
        auth_(t_.db(), clock_, fastAuth()),
        methodologies_(t_.db(), clock_),
        providers_(t_.db(), clock_),
        ingest_(t_.db(), clock_, methodologies_),
        bindings_(t_.db(), clock_, ingest_),
        accounts_(t_.db(), clock_),
        merchants_(t_.db(), clock_, accounts_),
        rankings_(t_.db(), clock_),
        personal_data_(t_.db(), clock_, auth_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"}},
                          "test")
                    .ok());
    auto imported = methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok() && imported->issues.empty());
    sz_admin_ = user("sz_admin", Role::kRegionAdmin, "440300");
    auto feed = user("metro_feed", Role::kProvider, "440300");
    metro_ = *providers_.registerProvider(sz_admin_, {"sz-metro",
                                                      "深圳地铁",
                                                      "transit_operator",
                                                      feed.user_id,
                                                      {"440300"},
                                                      {"travel.metro"},
                                                      ""});
    alice_ = user("alice", Role::kResident, "");
    bob_ = user("bob", Role::kResident, "");
    alice_account_ = accounts_.personAccount(alice_, "440305")->id;
    bob_account_ = accounts_.personAccount(bob_, "440305")->id;
  }

  Principal user(const std::string& name, Role role, const std::string& region) {
    auto u = auth_.createUserAsSystem("test", {name, kPassword, name, {{role, region}}}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  //! One metro trip of `ref` on the 9th of March.
  ingest::BatchReport trip(const std::string& id, const std::string& ref) {
    json r = {{"provider_record_id", id},
              {"subject_ref", ref},
              {"methodology", "travel.metro"},
              {"occurred_at", "2026-03-09T08:00:00+08:00"},
              {"region", "440305"},
              {"inputs", {{"distance_km", 10}}}};
    auto report = ingest_.ingestBatch(metro_, {{std::move(r), ""}}, "test");
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : ingest::BatchReport{};
  }

  //! Alice: a bound metro card with a credited trip, 500 seeded points, a voucher, a leaderboard
  //! nickname and a methodology proposal with her contact. Bob: a trip of his own.
  void aliceUsesThePlatform() {
    ASSERT_TRUE(bindings_.bindDirect("test", metro_.id, "ref-alice", alice_account_).ok());
    ASSERT_TRUE(bindings_.bindDirect("test", metro_.id, "ref-bob", bob_account_).ok());
    ASSERT_EQ(trip("t1", "ref-alice").credited, 1);
    ASSERT_EQ(trip("t2", "ref-bob").credited, 1);
    seedPoints(alice_, 500);
    auto shop_owner = user("cafe_owner", Role::kResident, "");
    auto m = merchants_.apply(shop_owner, {"低碳咖啡", "91440300MA5ABCDE1X", "food", "440305",
                                           "深圳市南山区科技园 1 号", "0755-1234"});
    ASSERT_TRUE(m.ok()) << m.error().message;
    ASSERT_TRUE(merchants_.decide(sz_admin_, m->id, true, "").ok());
    shop_owner.grants.push_back({Role::kMerchant, "440305"});
    incentive::OfferFields f;
    f.title_zh = "免费咖啡";
    f.title_en = "Free coffee";
    f.description = "一杯美式";
    f.points_cost = Points(150);
    f.stock = 5;
    f.per_user_limit = 1;
    f.valid_from = *parseIso8601("2026-03-01T00:00:00+08:00");
    f.valid_until = *parseIso8601("2026-04-01T00:00:00+08:00");
    f.voucher_valid_days = 7;
    f.regions = {"440300"};
    auto offer = merchants_.createOffer(shop_owner, m->id, f);
    ASSERT_TRUE(offer.ok()) << offer.error().message;
    offer_id_ = offer->id;
    auto voucher = merchants_.redeemOffer(alice_, offer_id_, "k1");
    ASSERT_TRUE(voucher.ok()) << voucher.error().message;
    ASSERT_TRUE(rankings_.setProfile(alice_, "绿色出行者", true, std::nullopt).ok());
    methodology::Proposal p;
    p.title = "共享电单车";
    p.domain = "travel";
    p.description = "按骑行里程计算减排量";
    p.contact = "alice@example.cn";
    p.region_code = "440300";
    ASSERT_TRUE(methodologies_.propose(alice_, p).ok());
  }

  void seedPoints(const Principal& p, std::int64_t points) {
    auto to = accounts_.personAccount(p)->ledger_account;
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                                 "issuance", true, clock_);
      return account::postEntry(sql,
                                {"seed:" + p.username,
                                 "credit",
                                 "test",
                                 {{issuance, Points(-points)}, {to, Points(points)}}},
                                clock_);
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  Points pointsOf(std::int64_t account) {
    return t_.db().read([&](soci::session& sql) {
      long long id = account, ledger = 0;
      sql << "SELECT ledger_account_id FROM carbon_accounts WHERE id = :a", soci::use(id),
          soci::into(ledger);
      return account::balanceOf(sql, ledger);
    });
  }

  std::int64_t count(const std::string& query) {
    return t_.db().read([&](soci::session& sql) {
      long long n = 0;
      sql << query, soci::into(n);
      return static_cast<std::int64_t>(n);
    });
  }

  std::string text(const std::string& query) {
    return t_.db().read([&](soci::session& sql) {
      std::string s;
      sql << query, soci::into(s);
      return s;
    });
  }

  void expectConsistent() {
    auto ledger = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(ledger.ok) << ledger.problem;
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  auth::AuthService auth_;
  methodology::MethodologyService methodologies_;
  ingest::ProviderService providers_;
  ingest::IngestService ingest_;
  ingest::BindingService bindings_;
  account::CarbonAccountService accounts_;
  incentive::MerchantService merchants_;
  incentive::RankingService rankings_;
  PersonalDataService personal_data_;
  ingest::Provider metro_;
  Principal sz_admin_, alice_, bob_;
  std::int64_t alice_account_ = 0, bob_account_ = 0, offer_id_ = 0;
};

TEST_F(PrivacyTest, TheExportHoldsTheUsersDataAndNobodyElses) {
  aliceUsesThePlatform();
  auto data = personal_data_.exportData(alice_);
  ASSERT_TRUE(data.ok()) << data.error().message;
  const json& d = *data;
  EXPECT_EQ(d["format"], kExportFormat);
  EXPECT_EQ(d["user"]["username"], "alice");
  EXPECT_EQ(d["user"]["roles"][0]["role"], "resident");
  ASSERT_EQ(d["accounts"].size(), 1u);
  EXPECT_EQ(d["accounts"][0]["id"], alice_account_);
  EXPECT_EQ(d["accounts"][0]["points"], pointsOf(alice_account_).value());
  ASSERT_EQ(d["bindings"].size(), 1u);
  EXPECT_EQ(d["bindings"][0]["subject_ref"], "ref-alice");
  ASSERT_EQ(d["records"].size(), 1u);
  EXPECT_EQ(d["records"][0]["provider_record_id"], "t1");
  EXPECT_EQ(d["records"][0]["inputs"]["distance_km"], 10);
  EXPECT_EQ(d["records"][0]["status"], "credited");
  EXPECT_GT(d["records"][0]["grams"].get<std::int64_t>(), 0);
  EXPECT_TRUE(d["records"][0]["explanation"].is_object());
  EXPECT_EQ(d["records"][0]["occurred_at"], "2026-03-09T00:00:00.000Z");
  // Every posting of the person account is there, and they add up to its balance.
  std::int64_t sum = 0;
  for (const auto& p : d["points_postings"]) sum += p["points"].get<std::int64_t>();
  EXPECT_EQ(sum, pointsOf(alice_account_).value());
  ASSERT_EQ(d["vouchers"].size(), 1u);
  EXPECT_EQ(d["vouchers"][0]["status"], "issued");
  EXPECT_EQ(d["vouchers"][0]["merchant"], "低碳咖啡");
  EXPECT_EQ(d["leaderboard_profile"]["nickname"], "绿色出行者");
  ASSERT_EQ(d["methodology_proposals"].size(), 1u);
  EXPECT_EQ(d["methodology_proposals"][0]["contact"], "alice@example.cn");
  EXPECT_TRUE(d["ideas"].empty());
  EXPECT_TRUE(d["carbon_neutral"].empty());
  EXPECT_TRUE(d["programme_applications"].empty());
  EXPECT_EQ(d.dump().find("ref-bob"), std::string::npos);
  EXPECT_EQ(d.dump().find("sealed:"), std::string::npos);
}

TEST_F(PrivacyTest, ContactsAreSealedAtRestAndThoseKeptInClearAreSealedOnce) {
  aliceUsesThePlatform();
  auto clear = [&] {
    return t_.db().read([](soci::session& sql) {
      long long n = 0;
      sql << "SELECT (SELECT COUNT(*) FROM merchants WHERE contact NOT LIKE 'sealed:1:%') + "
             "(SELECT COUNT(*) FROM methodology_proposals WHERE contact NOT LIKE 'sealed:1:%')",
          soci::into(n);
      return n;
    });
  };
  EXPECT_EQ(clear(), 0);
  // Rows written before sealing began hold their contacts in clear.
  t_.db().read([](soci::session& sql) {
    sql << "UPDATE merchants SET contact = '0755-1234'";
    sql << "UPDATE methodology_proposals SET contact = 'alice@example.cn'";
  });
  EXPECT_EQ(clear(), 2);
  EXPECT_EQ(sealPlainPersonalData(t_.db()), 2);
  EXPECT_EQ(clear(), 0);
  EXPECT_EQ(sealPlainPersonalData(t_.db()), 0);
  auto merchants = merchants_.merchants(sz_admin_, "");
  ASSERT_TRUE(merchants.ok());
  ASSERT_EQ(merchants->size(), 1u);
  EXPECT_EQ((*merchants)[0].application.contact, "0755-1234");
  auto data = personal_data_.exportData(alice_);
  EXPECT_EQ((*data)["methodology_proposals"][0]["contact"], "alice@example.cn");
}

TEST_F(PrivacyTest, DeletionErasesTheUserAndKeepsTheLedgerWhole) {
  aliceUsesThePlatform();
  auto wrong = personal_data_.deleteAccount(alice_, "not-my-password");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(wrong.error().field, "password");
  // 500 seeded + the trip's points − 150 for the voucher, which comes back when it is cancelled.
  Points before = pointsOf(alice_account_);
  std::int64_t expected_forfeit = before.value() + 150;
  auto reductions_before = count("SELECT COUNT(*) FROM reductions");

  auto done = personal_data_.deleteAccount(alice_, kPassword);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->points_forfeited, expected_forfeit);
  EXPECT_EQ(done->vouchers_cancelled, 1);
  EXPECT_EQ(done->bindings_ended, 1);
  EXPECT_EQ(pointsOf(alice_account_), Points(0));
  EXPECT_EQ(count("SELECT balance FROM ledger_accounts WHERE code = 'forfeited'"),
            expected_forfeit);
  EXPECT_EQ(text("SELECT status FROM vouchers WHERE user_id = " + std::to_string(alice_.user_id)),
            "cancelled");
  EXPECT_EQ(text("SELECT status FROM bindings WHERE subject_ref = 'ref-alice'"), "unbound");
  EXPECT_EQ(text("SELECT username FROM users WHERE id = " + std::to_string(alice_.user_id)),
            "deleted-" + std::to_string(alice_.user_id));
  EXPECT_EQ(text("SELECT name FROM carbon_accounts WHERE id = " + std::to_string(alice_account_)),
            "");
  EXPECT_EQ(count("SELECT COUNT(*) FROM ranking_profiles"), 0);
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM user_roles WHERE user_id = " + std::to_string(alice_.user_id)),
      0);
  EXPECT_EQ(text("SELECT contact FROM methodology_proposals"), "");
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.delete'"), 1);
  // Reductions stay (they back statistics and may back certified units); Bob is untouched.
  EXPECT_EQ(count("SELECT COUNT(*) FROM reductions"), reductions_before);
  EXPECT_EQ(text("SELECT status FROM bindings WHERE subject_ref = 'ref-bob'"), "active");
  EXPECT_GT(pointsOf(bob_account_).value(), 0);
  expectConsistent();

  // The user cannot sign in, a later trip on the card is credited to nobody, and the name is free.
  EXPECT_EQ(auth_.login("alice", kPassword, "test").error().code, ErrorCode::kUnauthenticated);
  auto later = trip("t3", "ref-alice");
  EXPECT_EQ(later.credited, 0);
  EXPECT_EQ(later.held, 1);
  EXPECT_TRUE(auth_
                  .createUserAsSystem(
                      "test", {"alice", kPassword, "新 alice", {{Role::kResident, ""}}}, false)
                  .ok());
}

TEST_F(PrivacyTest, DeletionIsRefusedWhileSomethingStandsInTheWayAndChangesNothing) {
  seedPoints(alice_, 300);
  auto merchant_user = user("cafe", Role::kMerchant, "440305");
  auto as_merchant = personal_data_.deleteAccount(merchant_user, kPassword);
  ASSERT_FALSE(as_merchant.ok());
  EXPECT_EQ(as_merchant.error().field, "roles");

  auto home = accounts_.createHousehold(alice_, "陈家", "440305");
  ASSERT_TRUE(home.ok()) << home.error().message;
  ASSERT_TRUE(accounts_.addHouseholdMember(alice_, home->id, "bob").ok());
  auto admin = personal_data_.deleteAccount(alice_, kPassword);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.error().code, ErrorCode::kConflict);
  EXPECT_EQ(admin.error().field, "households");
  EXPECT_EQ(pointsOf(alice_account_), Points(300));
  EXPECT_EQ(text("SELECT username FROM users WHERE id = " + std::to_string(alice_.user_id)),
            "alice");

  // Once Bob has left, Alice leaves the household as she goes, and it is left to nobody.
  ASSERT_TRUE(accounts_.removeHouseholdMember(bob_, home->id, bob_.user_id).ok());
  auto done = personal_data_.deleteAccount(alice_, kPassword);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->households_left, 1);
  EXPECT_EQ(done->points_forfeited, 300);
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM account_members WHERE account_id = " + std::to_string(home->id)),
      0);
  expectConsistent();
}

TEST_F(PrivacyTest, WrongPasswordsAreThrottledLikeSignIns) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(personal_data_.deleteAccount(alice_, "guess-" + std::to_string(i)).error().code,
              ErrorCode::kForbidden);
  }
  EXPECT_EQ(personal_data_.deleteAccount(alice_, kPassword).error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(text("SELECT username FROM users WHERE id = " + std::to_string(alice_.user_id)),
            "alice");
}

}  // namespace
}  // namespace tph::privacy
