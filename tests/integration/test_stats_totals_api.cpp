// The public totals over HTTP: participants and points redeemed beside the reductions, moving with
// credited reductions and a card conversion, and the same checks on the slice as the other figures.

#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class StatsTotalsApiTest : public ::testing::Test {
 protected:
  StatsTotalsApiTest() : clock_(*parseIso8601("2026-03-10T02:00:00Z")), accounts_(t_.db(), clock_) {
    EXPECT_TRUE(region::RegionService(t_.db(), clock_)
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    EXPECT_TRUE(server_->methodologies().importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    for (auto [name, role] :
         {std::pair{"gd_admin", auth::Role::kProvinceAdmin}, {"alice", auth::Role::kResident}}) {
      auto u = server_->auth().createUserAsSystem(
          "test", {name, kPassword, name, {{role, role == auth::Role::kResident ? "" : "440000"}}},
          false);
      EXPECT_TRUE(u.ok());
      auto r = client_->send("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                             json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
      principals_[name] = auth::Principal{u->id, u->username, u->display_name, u->grants, {}};
    }
    auto acct = accounts_.personAccount(principals_["alice"], "440305");
    EXPECT_TRUE(acct.ok());
    EXPECT_TRUE(t_.db()
                    .transaction([&](soci::session& sql) {
                      auto issuance = account::openLedgerAccount(
                          sql, account::issuanceLedgerCode("440300"), "issuance", true, clock_);
                      return account::postEntry(
                          sql,
                          {"seed:alice",
                           "credit",
                           "test",
                           {{issuance, Points(-500)}, {acct->ledger_account, Points(500)}}},
                          clock_);
                    })
                    .ok());
  }
  ~StatsTotalsApiTest() override {
    client_.reset();
    server_->stop();
  }

  json call(const std::string& method, const std::string& target, const json& body,
            const std::string& who, int expected_status) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    auto r = client_->send(method, target, headers, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  account::CarbonAccountService accounts_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, auth::Principal> principals_;
};

TEST_F(StatsTotalsApiTest, TotalsCountParticipantsAndPointsRedeemed) {
  const std::string month = "/api/v1/stats/totals?from=2026-03-01&to=2026-03-10";
  auto empty = call("GET", month, nullptr, "", 200);
  EXPECT_EQ(empty["participants"], 0);
  EXPECT_EQ(empty["points_redeemed"], 0);

  testing::CreditedReductions seed(t_.db(), clock_, server_->methodologies());
  seed.trees("440305", "2026-03-02", 1, 1);
  seed.trees("440100", "2026-03-05", 1, 1);
  auto partner =
      call("POST", "/api/v1/card-partners",
           {{"code", "icbc-gd"}, {"name", "工商银行"}, {"rate_points", 10}, {"rate_reward", 3}},
           "gd_admin", 201);
  auto link =
      call("POST", "/api/v1/cards",
           {{"partner_id", partner["id"]}, {"card_token", "tok_6222_alice_01"}}, "alice", 201);
  call("POST", "/api/v1/cards/" + std::to_string(link["id"].get<std::int64_t>()) + "/conversions",
       {{"points", 300}, {"idempotency_key", "c1"}}, "alice", 201);

  auto totals = call("GET", month, nullptr, "", 200);
  EXPECT_EQ(totals["participants"], 2);
  EXPECT_EQ(totals["points_redeemed"], 300);
  EXPECT_EQ(totals["grams"], 12000);
  EXPECT_EQ(call("GET", "/api/v1/stats/totals?from=2026-03-01&to=2026-03-03", nullptr, "",
                 200)["participants"],
            1);
  // By city: the spender lives in Shenzhen.
  auto gz = call("GET", month + "&region=440100", nullptr, "", 200);
  EXPECT_EQ(gz["participants"], 1);
  EXPECT_EQ(gz["points_redeemed"], 0);
  EXPECT_EQ(call("GET", month + "&region=440300", nullptr, "", 200)["points_redeemed"], 300);

  // Counties are for the consoles; a malformed window names its field.
  auto county = call("GET", month + "&region=440305", nullptr, "", 403);
  EXPECT_EQ(county["error"]["field"], "region");
  auto as_admin = call("GET", month + "&region=440305", nullptr, "gd_admin", 200);
  EXPECT_EQ(as_admin["points_redeemed"], 300);
  EXPECT_EQ(call("GET", "/api/v1/stats/totals?from=2026-03-10&to=2026-03-01", nullptr, "",
                 422)["error"]["field"],
            "to");
}

}  // namespace
}  // namespace tph::api
