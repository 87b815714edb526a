// Carbon-neutral events over HTTP: the public calculator and estimate, an organiser registering and
// neutralising an event, another user refused, the public page with its serial blocks, the
// certificate PDF, and a resident paying points at the rate the province publishes.

#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "api/api_server.h"
#include "api/http_client.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "issued_units.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class NeutralApiTest : public ::testing::Test {
 protected:
  NeutralApiTest() : clock_(*parseIso8601("2026-05-10T02:00:00Z")) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    options.public_url = "https://tph.example.cn/";
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"expo", auth::Role::kEnterprise, "440300"},
                                      {"rival", auth::Role::kEnterprise, "440300"},
                                      {"xiaoming", auth::Role::kResident, "440300"}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      ids_[name] = u->id;
      auto r = call("POST", "/api/v1/auth/login",
                    json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
    }
  }
  ~NeutralApiTest() override {
    client_.reset();
    server_->stop();
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& who = {}) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send(method, target, headers, body);
  }
  json callJson(const std::string& method, const std::string& target, const json& body,
                const std::string& who, int expected_status) {
    auto r = call(method, target, body.is_null() ? "" : body.dump(), who);
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    if (r.header("content-type").find("json") == std::string_view::npos) return json();
    return json::parse(r.body);
  }
  std::string account(const std::string& user, const std::string& kind, const std::string& name) {
    return callJson(
        "POST", "/api/v1/registry/accounts",
        {{"kind", kind}, {"name", name}, {"region", "440300"}, {"members", {ids_[user]}}},
        "gd_admin", 201)["account_no"];
  }

  static json conference() {
    return {{"name", "2026 大湾区低碳论坛"},
            {"starts_on", "2026-06-01"},
            {"ends_on", "2026-06-02"},
            {"city", "440300"},
            {"venue", "深圳国际会展中心"},
            {"footprint",
             {{"travel",
               {{{"mode", "car"}, {"band", "local"}, {"attendees", 10}},
                {{"mode", "rail"}, {"band", "local"}, {"attendees", 100}},
                {{"mode", "rail"}, {"band", "regional"}, {"attendees", 50}},
                {{"mode", "air"}, {"band", "national"}, {"attendees", 20}}}},
              {"hotel_nights", 70},
              {"electricity_kwh", 5000},
              {"printed_kg", 30}}}};
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::int64_t> ids_;
};

TEST_F(NeutralApiTest, AnOrganiserNeutralisesAnEventWithAPublicPageAndCertificate) {
  auto calculator = callJson("GET", "/api/v1/neutral/calculator", nullptr, "", 200);
  EXPECT_EQ(calculator["calculator"], "footprint.event@2");
  auto estimate = callJson("POST", "/api/v1/neutral/footprint",
                           {{"footprint", conference()["footprint"]}}, "", 200);
  EXPECT_EQ(estimate["grams"], 13'176'514);
  EXPECT_EQ(estimate["units_required"], 14);
  auto fed = conference()["footprint"];
  fed["meals"] = {{"meat", 400}, {"vegetarian", 100}};
  auto with_meals = callJson("POST", "/api/v1/neutral/footprint", {{"footprint", fed}}, "", 200);
  EXPECT_EQ(with_meals["grams"], 14'262'182);
  EXPECT_EQ(with_meals["units_required"], 15);
  fed["meals"] = {{"fish", 1}};
  EXPECT_EQ(callJson("POST", "/api/v1/neutral/footprint", {{"footprint", fed}}, "",
                     422)["error"]["field"],
            "meals.fish");
  auto bad = conference();
  bad["footprint"]["travel"][0]["mode"] = "boat";
  EXPECT_EQ(callJson("POST", "/api/v1/neutral/events", bad, "expo", 422)["error"]["field"],
            "travel[0].mode");
  callJson("POST", "/api/v1/neutral/events", conference(), "", 401);

  auto expo_account = account("expo", "enterprise", "深圳会展公司");
  auto rival_account = account("rival", "enterprise", "别家公司");
  auto batch = testing::issueUnitsTo(t_.db(), clock_, {expo_account, 20});
  testing::issueUnitsTo(t_.db(), clock_, {rival_account, 20});
  auto e = callJson("POST", "/api/v1/neutral/events", conference(), "expo", 201);
  std::string path = "/api/v1/neutral/events/" + std::to_string(e["id"].get<std::int64_t>());
  EXPECT_EQ(e["status"], "registered");
  EXPECT_EQ(e["units_required"], 14);
  callJson("GET", path + "/certificate.pdf", nullptr, "", 409);

  // Someone else cannot neutralise it, with their units or the organiser's.
  callJson("POST", path + "/neutralise", {{"account_no", rival_account}, {"idempotency_key", "r"}},
           "rival", 403);
  EXPECT_EQ(callJson("POST", path + "/neutralise",
                     {{"account_no", rival_account}, {"idempotency_key", "x"}}, "expo",
                     403)["error"]["field"],
            "account_no");
  EXPECT_EQ(callJson("POST", path + "/neutralise", {{"account_no", expo_account}}, "expo",
                     422)["error"]["field"],
            "idempotency_key");
  auto done = callJson("POST", path + "/neutralise",
                       {{"account_no", expo_account}, {"idempotency_key", "n-1"}}, "expo", 201);
  EXPECT_EQ(done["status"], "neutralised");
  EXPECT_EQ(done["units_retired"], 14);
  callJson("POST", path + "/neutralise", {{"account_no", expo_account}, {"idempotency_key", "n-1"}},
           "expo", 200);

  auto page = callJson("GET", path, nullptr, "", 200);
  ASSERT_EQ(page["retirements"].size(), 1u);
  char serial[80];
  std::snprintf(serial, sizeof serial, "CN-GD-PHCER-440300-travel.metro-2026-%06lld-%08d-%08d",
                static_cast<long long>(batch), 1, 14);
  EXPECT_EQ(page["retirements"][0]["serials"][0], serial);
  EXPECT_EQ(page["footprint"]["explanation"]["formula"], calculator["formula"]);
  EXPECT_EQ(page["page"], path.substr(std::string("/api/v1").size()));
  EXPECT_EQ(callJson("GET", "/api/v1/neutral/events", nullptr, "", 200)["events"].size(), 1u);
  EXPECT_EQ(callJson("GET", "/api/v1/neutral/my-events", nullptr, "expo", 200)["events"].size(),
            1u);

  auto pdf = call("GET", path + "/certificate.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.body.substr(0, 4), "%PDF");
  // The QR code opens the web app's page; its URL is in the keywords too.
  EXPECT_NE(pdf.body.find("https://tph.example.cn/neutral/events/" +
                          std::to_string(e["id"].get<std::int64_t>())),
            std::string::npos);
  callJson("GET", "/api/v1/neutral/events/9999", nullptr, "", 404);
}

TEST_F(NeutralApiTest, AResidentPaysPointsAtThePublishedRate) {
  auto inventory = account("gd_admin", "province", "广东省碳普惠平台");
  testing::issueUnitsTo(t_.db(), clock_, {inventory, 3});
  EXPECT_EQ(callJson("GET", "/api/v1/neutral/points-rate", nullptr, "", 200)["configured"], false);
  callJson("PUT", "/api/v1/neutral/points-rate",
           {{"points_per_unit", 1000}, {"inventory_account_no", inventory}}, "xiaoming", 403);
  EXPECT_EQ(callJson("PUT", "/api/v1/neutral/points-rate",
                     {{"points_per_unit", 0}, {"inventory_account_no", inventory}}, "gd_admin",
                     422)["error"]["field"],
            "points_per_unit");
  auto rate =
      callJson("PUT", "/api/v1/neutral/points-rate",
               {{"points_per_unit", 1000}, {"inventory_account_no", inventory}}, "gd_admin", 200);
  EXPECT_EQ(rate["inventory_held"], 3);

  auto trip = callJson(
      "POST", "/api/v1/neutral/events",
      {{"kind", "personal"},
       {"name", "春节返乡"},
       {"starts_on", "2026-02-10"},
       {"ends_on", "2026-02-20"},
       {"city", "440300"},
       {"footprint", {{"travel", {{{"mode", "air"}, {"band", "national"}, {"attendees", 1}}}}}}},
      "xiaoming", 201);
  EXPECT_EQ(trip["units_required"], 1);
  std::string path = "/api/v1/neutral/events/" + std::to_string(trip["id"].get<std::int64_t>());
  EXPECT_EQ(callJson("POST", path + "/neutralise-with-points", {{"idempotency_key", "p"}},
                     "xiaoming", 409)["error"]["field"],
            "points");
  // Credit the resident 1,500 points, as ingest would.
  account::CarbonAccountService accounts(t_.db(), clock_);
  auth::Principal resident{ids_["xiaoming"], "xiaoming", "xiaoming", {}, {}};
  auto person = accounts.personAccount(resident);
  ASSERT_TRUE(person.ok());
  ASSERT_TRUE(t_.db()
                  .transaction([&](soci::session& sql) {
                    auto issuance = account::openLedgerAccount(
                        sql, account::issuanceLedgerCode("440300"), "issuance", true, clock_);
                    return account::postEntry(
                        sql,
                        {"seed",
                         "credit",
                         "test",
                         {{issuance, Points(-1500)}, {person->ledger_account, Points(1500)}}},
                        clock_);
                  })
                  .ok());
  callJson("POST", path + "/neutralise-with-points", {{"idempotency_key", "p"}}, "expo", 403);
  auto done = callJson("POST", path + "/neutralise-with-points", {{"idempotency_key", "p"}},
                       "xiaoming", 201);
  EXPECT_EQ(done["points_paid"], 1000);
  EXPECT_EQ(done["neutralised_with"], "points");
  EXPECT_EQ(accounts.personAccount(resident)->points, Points(500));
  EXPECT_EQ(callJson("GET", "/api/v1/neutral/points-rate", nullptr, "", 200)["inventory_held"], 2);
  auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(chain.ok) << chain.problem;
}

TEST(NeutralCli, TheFootprintCalculatorLintsWithTheFactorLibrary) {
  std::string out;
  EXPECT_EQ(testing::runCli(std::string("methodology lint --data-dir ") + TPH_SOURCE_DIR "/data " +
                                TPH_SOURCE_DIR "/data/footprints/*.toml",
                            &out),
            0)
      << out;
  out.clear();
  EXPECT_EQ(testing::runCli("neutral footprint --input "
                            "'{\"travel\":[{\"mode\":\"rail\",\"band\":\"national\","
                            "\"attendees\":1}],\"round_trip_km\":{\"national\":1000}}'",
                            &out),
            0)
      << out;
  EXPECT_NE(out.find("30480 g CO2e"), std::string::npos) << out;
  EXPECT_NE(out.find("1 PHCER"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(testing::runCli("neutral footprint --input '{\"meals\":3}'", &out), 1);
  EXPECT_NE(out.find("meals"), std::string::npos) << out;
}

}  // namespace
}  // namespace tph::api
