// Public-service benefits against a real partner system on 127.0.0.1 that confirms, fails, refuses
// and times out on purpose: points are kept only when the partner confirms.

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "api/http_partner_webhook.h"
#include "api/http_server.h"
#include "auth/auth_service.h"
#include "incentive/benefit_service.h"
#include "region/region_service.h"
#include "test_database.h"

namespace tph::incentive {
namespace {

using auth::Principal;
using auth::Role;

class BenefitWebhookTest : public ::testing::Test {
 protected:
  BenefitWebhookTest()
      : clock_(*parseIso8601("2026-03-10T02:00:00Z")),
        accounts_(t_.db(), clock_),
        benefits_(t_.db(), clock_, accounts_, webhook_, std::chrono::milliseconds(400)),
        partner_({.host = "127.0.0.1", .port = 0, .workers = 2},
                 [this](api::HttpRequest& request) { return answer(request); }) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"}},
                          "test")
                    .ok());
    sz_admin_ = user("sz_admin", Role::kRegionAdmin, "440300");
    gz_admin_ = user("gz_admin", Role::kRegionAdmin, "440100");
    alice_ = user("alice", Role::kResident, "");
    auto acct = accounts_.personAccount(alice_, "440300");
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                                 "issuance", true, clock_);
      return account::postEntry(
          sql,
          {"seed", "credit", "", {{issuance, Points(-1000)}, {acct->ledger_account, Points(1000)}}},
          clock_);
    });
    EXPECT_TRUE(r.ok());
    port_ = partner_.start();
  }
  ~BenefitWebhookTest() override { partner_.stop(); }

  Principal user(const std::string& name, Role role, const std::string& region) {
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto u =
        auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  //! The partner: checks the signature, then does what mode_ says.
  api::HttpResponse answer(api::HttpRequest& request) {
    ++calls_;
    std::string expected =
        webhookSignature(secret_, std::string(request.header("x-tph-timestamp")), request.body);
    if (request.header("x-tph-signature") != expected) return {401, {}, "bad signature"};
    std::string mode = mode_.load() == 0   ? "confirm"
                       : mode_.load() == 1 ? "fail"
                       : mode_.load() == 2 ? "slow"
                                           : "refuse";
    if (mode == "fail") return {503, {}, "partner down"};
    if (mode == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    if (mode == "refuse")
      return {200, {{"content-type", "application/json"}}, R"({"status":"rejected"})"};
    auto body = nlohmann::json::parse(request.body);
    return {200,
            {{"content-type", "application/json"}},
            nlohmann::json{{"status", "confirmed"},
                           {"reference", "P-" + std::to_string(body["claim_id"].get<long long>())}}
                .dump()};
  }

  std::int64_t parkingPolicy(const std::string& fulfilment, std::int64_t budget = 10) {
    BenefitPolicyFields f{
        "440300",
        "parking",
        "市政停车场免费 1 小时",
        "1 hour free parking",
        "",
        Points(100),
        budget,
        3,
        fulfilment,
        fulfilment == "webhook" ? "http://127.0.0.1:" + std::to_string(port_) + "/claims" : ""};
    auto created = benefits_.createPolicy(sz_admin_, f);
    EXPECT_TRUE(created.ok()) << created.error().message;
    secret_ = created->webhook_secret;
    return created->policy.id;
  }

  Points points() { return accounts_.personAccount(alice_)->points; }
  void expectLedgerBalanced() {
    auto check = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(check.ok) << check.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  account::CarbonAccountService accounts_;
  api::HttpPartnerWebhook webhook_;
  BenefitService benefits_;
  api::HttpServer partner_;
  std::uint16_t port_ = 0;
  std::string secret_;
  std::atomic<int> mode_{0};
  std::atomic<int> calls_{0};
  Principal sz_admin_, gz_admin_, alice_;
};

TEST_F(BenefitWebhookTest, PointsAreKeptWhenThePartnerConfirms) {
  auto policy = parkingPolicy("webhook");
  auto c = benefits_.claim(alice_, policy, 2, "k1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, "fulfilled");
  EXPECT_EQ(c->partner_reference, "P-" + std::to_string(c->id));
  EXPECT_EQ(points(), Points(800));
  EXPECT_EQ(calls_.load(), 1);
  // A retry answers the same claim without asking the partner again.
  EXPECT_EQ(benefits_.claim(alice_, policy, 2, "k1")->id, c->id);
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(benefits_.policies("440300")->at(0).units_used_this_month, 2);
  expectLedgerBalanced();
}

TEST_F(BenefitWebhookTest, AFailingRefusingOrSlowPartnerLeavesThePointsUntouched) {
  auto policy = parkingPolicy("webhook", 1);
  for (int mode : {1, 2, 3}) {
    mode_ = mode;
    auto c = benefits_.claim(alice_, policy, 1, "m" + std::to_string(mode));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->status, "failed") << mode;
    EXPECT_FALSE(c->failure_reason.empty());
    EXPECT_EQ(points(), Points(1000)) << mode;
  }
  // The budget of one unit was given back each time: a confirmed claim still fits.
  mode_ = 0;
  auto ok = benefits_.claim(alice_, policy, 1, "ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, "fulfilled");
  EXPECT_EQ(points(), Points(900));
  auto spent = benefits_.claim(alice_, policy, 1, "over");
  EXPECT_EQ(spent.error().field, "monthly_budget_units");
  expectLedgerBalanced();
}

TEST_F(BenefitWebhookTest, CodeFulfilmentLimitsAndPermissions) {
  BenefitPolicyFields bad{"440300",    "parking", "x", "x",       "",
                          Points(100), 10,        3,   "webhook", "ftp://x"};
  EXPECT_EQ(benefits_.createPolicy(sz_admin_, bad).error().field, "webhook_url");
  BenefitPolicyFields f{"440300",   "transit", "地铁 8 折", "Metro 20% off", "",
                        Points(50), 100,       3,           "code",          ""};
  EXPECT_EQ(benefits_.createPolicy(gz_admin_, f).error().code, ErrorCode::kForbidden);
  auto policy = benefits_.createPolicy(sz_admin_, f);
  ASSERT_TRUE(policy.ok());
  auto c = benefits_.claim(alice_, policy->policy.id, 3, "t1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, "fulfilled");
  EXPECT_EQ(c->entitlement_code.size(), 24u);
  EXPECT_EQ(points(), Points(850));
  EXPECT_EQ(benefits_.claim(alice_, policy->policy.id, 1, "t2").error().field,
            "per_user_monthly_limit");
  EXPECT_EQ(benefits_.claim(alice_, policy->policy.id, 0, "t3").error().field, "units");
  ASSERT_TRUE(benefits_.endPolicy(sz_admin_, policy->policy.id).ok());
  EXPECT_EQ(benefits_.claim(alice_, policy->policy.id, 1, "t4").error().code, ErrorCode::kConflict);
  EXPECT_EQ(calls_.load(), 0);
  expectLedgerBalanced();
}

}  // namespace
}  // namespace tph::incentive
