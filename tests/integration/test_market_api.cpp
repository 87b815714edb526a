// The exchange over HTTP: the province admits a product and two members and funds one; the seller
// posts, the buyer picks from the best five, orders are amended and cancelled, a block agreement
// is proposed, declined, proposed again and confirmed; market data is public. Each wrong input is
// a 4xx naming its field, each role is enforced.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "issued_units.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class MarketApiTest : public ::testing::Test {
 protected:
  // Monday 2 March 2026, 10:00 Asia/Shanghai: the morning session.
  MarketApiTest() : clock_(*parseIso8601("2026-03-02T02:00:00Z")) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 4;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    port_ = server_->start();
    client_ = std::make_unique<HttpClient>("127.0.0.1", port_);
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"seller", auth::Role::kExchangeMember, ""},
                                      {"buyer", auth::Role::kExchangeMember, ""},
                                      {"resident", auth::Role::kResident, "440300"}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      ids_[name] = u->id;
      auto r = call("POST", "/api/v1/auth/login",
                    json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
    }
  }
  ~MarketApiTest() override {
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
  std::string field(const std::string& method, const std::string& target, const json& body,
                    const std::string& who, int expected_status) {
    return callJson(method, target, body, who, expected_status)["error"].value("field", "");
  }

  //! Opens a registry account for the user and admits it as a member; answers the member id.
  std::int64_t member(const std::string& user, const std::string& name) {
    auto account = callJson("POST", "/api/v1/registry/accounts",
                            {{"kind", "exchange_member"},
                             {"name", name},
                             {"region", "440300"},
                             {"members", {ids_[user]}}},
                            "gd_admin", 201);
    accounts_[user] = account["account_no"];
    auto m =
        callJson("POST", "/api/v1/market/members",
                 {{"account_no", account["account_no"]}, {"name", name}, {"kind", "enterprise"}},
                 "gd_admin", 201);
    return m["id"];
  }

  json product() {
    return {{"code", "PHCER-METRO"},
            {"name", "碳普惠 地铁出行"},
            {"methodology", "travel.metro"},
            {"effective_from", "2026-02-01T00:00:00+08:00"},
            {"reference_price_fen", 5000},
            {"block_min_units", 1000},
            {"fee_bp", 10}};
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::string> tokens_, accounts_;
  std::map<std::string, std::int64_t> ids_;
};

TEST_F(MarketApiTest, ProductsAndMembersAreTheProvincesToAdmit) {
  callJson("POST", "/api/v1/market/products", product(), "", 401);
  callJson("POST", "/api/v1/market/products", product(), "seller", 403);
  auto bad = product();
  bad["reference_price_fen"] = "fifty";
  EXPECT_EQ(field("POST", "/api/v1/market/products", bad, "gd_admin", 422), "reference_price_fen");
  bad = product();
  bad.erase("effective_from");
  EXPECT_EQ(field("POST", "/api/v1/market/products", bad, "gd_admin", 422), "effective_from");
  bad = product();
  bad["effective_from"] = "March";
  EXPECT_EQ(field("POST", "/api/v1/market/products", bad, "gd_admin", 422), "effective_from");
  bad = product();
  bad["sessions"] = "15:30-09:30";
  EXPECT_EQ(field("POST", "/api/v1/market/products", bad, "gd_admin", 422), "sessions");
  bad = product();
  bad["code"] = "metro";
  EXPECT_EQ(field("POST", "/api/v1/market/products", bad, "gd_admin", 422), "code");
  EXPECT_EQ(field("POST", "/api/v1/market/products", json::array(), "gd_admin", 400), "body");

  auto p = callJson("POST", "/api/v1/market/products", product(), "gd_admin", 201);
  EXPECT_EQ(p["sessions"], "09:30-11:30,13:30-15:30");
  EXPECT_EQ(p["block_min_units"], 1000);
  EXPECT_EQ(field("POST", "/api/v1/market/products", product(), "gd_admin", 409), "code");
  auto list = callJson("GET", "/api/v1/market/products", nullptr, "", 200);
  ASSERT_EQ(list["products"].size(), 1u);
  callJson("GET", "/api/v1/market/products/PHCER-NONE", nullptr, "", 404);

  callJson("POST", "/api/v1/market/products/PHCER-METRO/suspend", nullptr, "seller", 403);
  EXPECT_EQ(callJson("POST", "/api/v1/market/products/PHCER-METRO/suspend", nullptr, "gd_admin",
                     200)["suspended"],
            true);
  EXPECT_EQ(callJson("GET", "/api/v1/market/products/PHCER-METRO", nullptr, "", 200)["suspended"],
            true);
  EXPECT_EQ(callJson("POST", "/api/v1/market/products/PHCER-METRO/resume", nullptr, "gd_admin",
                     200)["suspended"],
            false);

  // Members: admitted by the province, funded through deposits it records.
  EXPECT_EQ(
      field("POST", "/api/v1/market/members",
            {{"account_no", "GD-NOPE"}, {"name", "x"}, {"kind", "enterprise"}}, "gd_admin", 404),
      "account_no");
  std::int64_t buyer = member("buyer", "Buyer Fund");
  std::string deposits = "/api/v1/market/members/" + std::to_string(buyer) + "/deposits";
  EXPECT_EQ(
      field("POST", deposits, {{"amount_fen", 100}, {"bank_reference", "B1"}}, "gd_admin", 422),
      "idempotency_key");
  EXPECT_EQ(field("POST", deposits,
                  {{"idempotency_key", "d1"}, {"amount_fen", -5}, {"bank_reference", "B1"}},
                  "gd_admin", 422),
            "amount_fen");
  EXPECT_EQ(
      field("POST", deposits, {{"idempotency_key", "d1"}, {"amount_fen", 100}}, "gd_admin", 422),
      "bank_reference");
  callJson("POST", deposits,
           {{"idempotency_key", "d1"}, {"amount_fen", 100}, {"bank_reference", "B1"}}, "buyer",
           403);
  auto funded = callJson(
      "POST", deposits,
      {{"idempotency_key", "d1"}, {"amount_fen", 1'000'000}, {"bank_reference", "ICBC-0001"}},
      "gd_admin", 201);
  EXPECT_EQ(funded["cash_fen"], 1'000'000);
  std::string withdrawals = "/api/v1/market/members/" + std::to_string(buyer) + "/withdrawals";
  EXPECT_EQ(
      field("POST", withdrawals,
            {{"idempotency_key", "w1"}, {"amount_fen", 2'000'000}, {"bank_reference", "ICBC-0002"}},
            "gd_admin", 409),
      "amount_fen");
  EXPECT_EQ(
      callJson(
          "POST", withdrawals,
          {{"idempotency_key", "w1"}, {"amount_fen", 250'000}, {"bank_reference", "ICBC-0002"}},
          "gd_admin", 201)["cash_fen"],
      750'000);

  auto mine = callJson("GET", "/api/v1/market/members/mine", nullptr, "buyer", 200);
  ASSERT_EQ(mine["members"].size(), 1u);
  EXPECT_EQ(mine["members"][0]["cash_free_fen"], 750'000);
  EXPECT_EQ(mine["members"][0]["id"], buyer);
  callJson("GET", "/api/v1/market/members/" + std::to_string(buyer), nullptr, "seller", 403);
  callJson("GET", "/api/v1/market/members/abc", nullptr, "buyer", 404);
  callJson("GET", "/api/v1/market/members/mine", nullptr, "resident", 403);
}

TEST_F(MarketApiTest, ListedTradingPicksAmendsCancelsAndPublishesMarketData) {
  callJson("POST", "/api/v1/market/products", product(), "gd_admin", 201);
  std::int64_t seller = member("seller", "Seller Co");
  std::int64_t buyer = member("buyer", "Buyer Fund");
  testing::issueUnitsTo(t_.db(), clock_, {accounts_["seller"], 5000});
  callJson("POST", "/api/v1/market/members/" + std::to_string(buyer) + "/deposits",
           {{"idempotency_key", "d1"}, {"amount_fen", 10'000'000}, {"bank_reference", "B1"}},
           "gd_admin", 201);

  json sell = {{"idempotency_key", "s1"}, {"product", "PHCER-METRO"}, {"member_id", seller},
               {"side", "sell"},          {"price_fen", 5100},        {"quantity", 100}};
  auto wrong = sell;
  wrong["side"] = "short";
  EXPECT_EQ(field("POST", "/api/v1/market/orders", wrong, "seller", 422), "side");
  wrong = sell;
  wrong["price_fen"] = 5501;  // above the ±10% band around the reference price 50.00
  EXPECT_EQ(field("POST", "/api/v1/market/orders", wrong, "seller", 422), "price_fen");
  wrong = sell;
  wrong["time_in_force"] = "ioc";
  EXPECT_EQ(field("POST", "/api/v1/market/orders", wrong, "seller", 422), "time_in_force");
  wrong = sell;
  wrong["quantity"] = 6000;
  EXPECT_EQ(field("POST", "/api/v1/market/orders", wrong, "seller", 409), "quantity");
  wrong = sell;
  wrong["member_id"] = buyer;
  EXPECT_EQ(field("POST", "/api/v1/market/orders", wrong, "seller", 403), "member_id");
  callJson("POST", "/api/v1/market/orders", sell, "resident", 403);

  auto posted = callJson("POST", "/api/v1/market/orders", sell, "seller", 201);
  EXPECT_EQ(posted["order"]["state"], "open");
  EXPECT_EQ(callJson("POST", "/api/v1/market/orders", sell, "seller", 200)["duplicate"], true);
  sell["idempotency_key"] = "s2";
  sell["price_fen"] = 5000;
  sell["quantity"] = 40;
  sell["time_in_force"] = "gtc";
  auto second = callJson("POST", "/api/v1/market/orders", sell, "seller", 201);

  auto book = callJson("GET", "/api/v1/market/PHCER-METRO/book", nullptr, "", 200);
  ASSERT_EQ(book["asks"].size(), 2u);
  EXPECT_EQ(book["asks"][0]["price_fen"], 5000);
  EXPECT_EQ(book["asks"][1]["price_fen"], 5100);
  EXPECT_EQ(book["band"]["low_fen"], 4500);
  EXPECT_EQ(book["band"]["high_fen"], 5500);
  EXPECT_EQ(book["open_now"], true);
  callJson("GET", "/api/v1/market/PHCER-NONE/book", nullptr, "", 404);

  // The buyer picks the second level (51.00) and takes 30 there.
  json pick = {{"idempotency_key", "p1"},
               {"product", "PHCER-METRO"},
               {"member_id", buyer},
               {"side", "buy"},
               {"level", 6},
               {"quantity", 30}};
  EXPECT_EQ(field("POST", "/api/v1/market/picks", pick, "buyer", 422), "level");
  pick["level"] = 2;
  auto taken = callJson("POST", "/api/v1/market/picks", pick, "buyer", 201);
  ASSERT_EQ(taken["trades"].size(), 1u);
  EXPECT_EQ(taken["trades"][0]["price_fen"], 5100);
  EXPECT_EQ(taken["trades"][0]["quantity"], 30);
  EXPECT_EQ(taken["trades"][0]["buyer_fee_fen"], 153);  // 153,000 fen × 10 bp
  EXPECT_EQ(taken["order"], nullptr);

  std::string buyer_path = "/api/v1/market/members/" + std::to_string(buyer);
  auto b = callJson("GET", buyer_path, nullptr, "buyer", 200);
  EXPECT_EQ(b["cash_fen"], 10'000'000 - 153'000 - 153);
  auto s =
      callJson("GET", "/api/v1/market/members/" + std::to_string(seller), nullptr, "seller", 200);
  EXPECT_EQ(s["cash_fen"], 153'000 - 153);
  EXPECT_EQ(s["units_reserved"], 70 + 40);
  ASSERT_EQ(s["units"].size(), 1u);
  EXPECT_EQ(s["units"][0]["free_units"], 5000 - 30 - 110);

  // Amend: fewer units keeps the place; a price the band refuses names price_fen.
  std::string order = std::to_string(posted["order"]["id"].get<std::int64_t>());
  auto amended = callJson("POST", "/api/v1/market/orders/" + order + "/amend", {{"quantity", 50}},
                          "seller", 200);
  EXPECT_EQ(amended["order"]["remaining"], 50);
  EXPECT_EQ(field("POST", "/api/v1/market/orders/" + order + "/amend", {{"price_fen", 9000}},
                  "seller", 422),
            "price_fen");
  EXPECT_EQ(field("POST", "/api/v1/market/orders/" + order + "/amend", {{"quantity", "ten"}},
                  "seller", 422),
            "quantity");
  callJson("POST", "/api/v1/market/orders/" + order + "/amend", {{"quantity", 10}}, "buyer", 403);
  callJson("POST", "/api/v1/market/orders/" + order + "/cancel", nullptr, "buyer", 403);
  EXPECT_EQ(callJson("POST", "/api/v1/market/orders/" + order + "/cancel", nullptr, "seller",
                     200)["state"],
            "cancelled");
  callJson("POST", "/api/v1/market/orders/" + order + "/cancel", nullptr, "seller", 409);
  callJson("POST", "/api/v1/market/orders/0/cancel", nullptr, "seller", 404);

  // A crossing buy trades against the gtc order at its price.
  auto cross = callJson("POST", "/api/v1/market/orders",
                        {{"idempotency_key", "b1"},
                         {"product", "PHCER-METRO"},
                         {"member_id", buyer},
                         {"side", "buy"},
                         {"price_fen", 5050},
                         {"quantity", 50}},
                        "buyer", 201);
  EXPECT_EQ(cross["trades"][0]["price_fen"], 5000);
  EXPECT_EQ(cross["order"]["remaining"], 10);
  auto open = callJson("GET", buyer_path + "/orders?open=true", nullptr, "buyer", 200);
  ASSERT_EQ(open["orders"].size(), 1u);
  EXPECT_EQ(open["orders"][0]["remaining"], 10);
  EXPECT_EQ(field("GET", buyer_path + "/orders?open=yes", nullptr, "buyer", 422), "open");
  EXPECT_EQ(callJson("GET", "/api/v1/market/members/" + std::to_string(seller) + "/orders", nullptr,
                     "seller", 200)["orders"]
                .size(),
            2u);
  (void)second;

  auto trades = callJson("GET", "/api/v1/market/PHCER-METRO/trades?limit=10", nullptr, "", 200);
  ASSERT_EQ(trades["trades"].size(), 2u);
  EXPECT_FALSE(trades["trades"][0].contains("serials"));
  EXPECT_EQ(field("GET", "/api/v1/market/PHCER-METRO/trades?limit=x", nullptr, "", 422), "limit");
  EXPECT_EQ(field("GET", "/api/v1/market/PHCER-METRO/trades?limit=0", nullptr, "", 422), "limit");
  auto bars = callJson("GET", "/api/v1/market/PHCER-METRO/daily", nullptr, "", 200);
  ASSERT_EQ(bars["bars"].size(), 1u);
  EXPECT_EQ(bars["bars"][0]["open_fen"], 5100);
  EXPECT_EQ(bars["bars"][0]["high_fen"], 5100);
  EXPECT_EQ(bars["bars"][0]["low_fen"], 5000);
  EXPECT_EQ(bars["bars"][0]["volume"], 70);
  EXPECT_EQ(bars["bars"][0]["close_fen"], (30 * 5100 + 40 * 5000 + 35) / 70);

  // 12:00 in Shanghai lies between the sessions.
  clock_.advance(std::chrono::hours(2));
  EXPECT_EQ(callJson("GET", "/api/v1/market/PHCER-METRO/book", nullptr, "", 200)["open_now"],
            false);
  pick["idempotency_key"] = "p-noon";
  pick["level"] = 1;
  EXPECT_EQ(field("POST", "/api/v1/market/picks", pick, "buyer", 409), "product");
}

TEST_F(MarketApiTest, BlockAgreementsAreProposedDeclinedWithdrawnAndConfirmed) {
  callJson("POST", "/api/v1/market/products", product(), "gd_admin", 201);
  std::int64_t seller = member("seller", "Seller Co");
  std::int64_t buyer = member("buyer", "Buyer Fund");
  testing::issueUnitsTo(t_.db(), clock_, {accounts_["seller"], 5000});
  callJson("POST", "/api/v1/market/members/" + std::to_string(buyer) + "/deposits",
           {{"idempotency_key", "d1"}, {"amount_fen", 10'000'000}, {"bank_reference", "B1"}},
           "gd_admin", 201);
  json block = {{"idempotency_key", "k1"},    {"product", "PHCER-METRO"},
                {"seller_member_id", seller}, {"buyer_member_id", buyer},
                {"price_fen", 6000},          {"quantity", 1000}};
  auto wrong = block;
  wrong["quantity"] = 999;
  EXPECT_EQ(field("POST", "/api/v1/market/blocks", wrong, "seller", 422), "quantity");
  wrong = block;
  wrong["price_fen"] = 6501;  // beyond +30%
  EXPECT_EQ(field("POST", "/api/v1/market/blocks", wrong, "seller", 422), "price_fen");
  wrong = block;
  wrong.erase("buyer_member_id");
  EXPECT_EQ(field("POST", "/api/v1/market/blocks", wrong, "seller", 422), "buyer_member_id");
  callJson("POST", "/api/v1/market/blocks", block, "buyer", 403);

  auto first = callJson("POST", "/api/v1/market/blocks", block, "seller", 201);
  EXPECT_EQ(first["state"], "proposed");
  std::string id = std::to_string(first["id"].get<std::int64_t>());
  callJson("POST", "/api/v1/market/blocks/" + id + "/withdraw", nullptr, "buyer", 403);
  callJson("POST", "/api/v1/market/blocks/" + id + "/decline", nullptr, "seller", 403);
  EXPECT_EQ(
      callJson("POST", "/api/v1/market/blocks/" + id + "/decline", nullptr, "buyer", 200)["state"],
      "declined");
  callJson("POST", "/api/v1/market/blocks/" + id + "/confirm", nullptr, "buyer", 409);

  block["idempotency_key"] = "k2";
  auto second = callJson("POST", "/api/v1/market/blocks", block, "seller", 201);
  std::string id2 = std::to_string(second["id"].get<std::int64_t>());
  EXPECT_EQ(callJson("POST", "/api/v1/market/blocks/" + id2 + "/withdraw", nullptr, "seller",
                     200)["state"],
            "withdrawn");

  block["idempotency_key"] = "k3";
  auto third = callJson("POST", "/api/v1/market/blocks", block, "seller", 201);
  std::string id3 = std::to_string(third["id"].get<std::int64_t>());
  callJson("POST", "/api/v1/market/blocks/" + id3 + "/confirm", nullptr, "seller", 403);
  auto confirmed =
      callJson("POST", "/api/v1/market/blocks/" + id3 + "/confirm", nullptr, "buyer", 200);
  EXPECT_EQ(confirmed["state"], "confirmed");
  EXPECT_EQ(confirmed["trade"]["mode"], "block");
  EXPECT_EQ(confirmed["trade"]["amount_fen"], 6'000'000);
  auto list = callJson("GET", "/api/v1/market/members/" + std::to_string(buyer) + "/blocks",
                       nullptr, "buyer", 200);
  ASSERT_EQ(list["agreements"].size(), 3u);
  EXPECT_EQ(list["agreements"][0]["state"], "confirmed");
  EXPECT_EQ(list["agreements"][1]["state"], "withdrawn");
  EXPECT_EQ(list["agreements"][2]["state"], "declined");
  EXPECT_EQ(callJson("GET", "/api/v1/market/members/" + std::to_string(buyer), nullptr, "buyer",
                     200)["cash_fen"],
            10'000'000 - 6'000'000 - 6'000);
}

TEST_F(MarketApiTest, ParallelBuyersOverHttpNeverTakeMoreThanIsOffered) {
  callJson("POST", "/api/v1/market/products", product(), "gd_admin", 201);
  std::int64_t seller = member("seller", "Seller Co");
  std::int64_t buyer = member("buyer", "Buyer Fund");
  testing::issueUnitsTo(t_.db(), clock_, {accounts_["seller"], 100});
  callJson("POST", "/api/v1/market/members/" + std::to_string(buyer) + "/deposits",
           {{"idempotency_key", "d1"}, {"amount_fen", 100'000'000}, {"bank_reference", "B1"}},
           "gd_admin", 201);
  callJson("POST", "/api/v1/market/orders",
           {{"idempotency_key", "s1"},
            {"product", "PHCER-METRO"},
            {"member_id", seller},
            {"side", "sell"},
            {"price_fen", 5000},
            {"quantity", 100}},
           "seller", 201);
  std::atomic<std::int64_t> bought{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client("127.0.0.1", port_);
      for (int i = 0; i < 10; ++i) {
        json pick = {{"idempotency_key", "p" + std::to_string(t) + "-" + std::to_string(i)},
                     {"product", "PHCER-METRO"},
                     {"member_id", buyer},
                     {"side", "buy"},
                     {"level", 1},
                     {"quantity", 7}};
        auto r = client.send("POST", "/api/v1/market/picks",
                             {{"content-type", "application/json"},
                              {"authorization", "Bearer " + tokens_.at("buyer")}},
                             pick.dump());
        if (r.status != 201 && r.status != 409) ADD_FAILURE() << r.status << " " << r.body;
        if (r.status != 201) continue;
        json outcome = json::parse(r.body);
        for (const auto& trade : outcome["trades"]) bought += trade["quantity"].get<std::int64_t>();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bought.load(), 100);
  auto units = t_.db().read([&](soci::session& sql) {
    return registry::heldUnits(sql, *registry::findAccountId(sql, accounts_["buyer"]), {});
  });
  EXPECT_EQ(units, Units(100));
}

TEST_F(MarketApiTest, AOneWayAuctionTakesSealedBidsAndPublishesItsResult) {
  callJson("POST", "/api/v1/market/products", product(), "gd_admin", 201);
  std::int64_t seller = member("seller", "Seller Co");
  std::int64_t buyer = member("buyer", "Buyer Fund");
  testing::issueUnitsTo(t_.db(), clock_, {accounts_["seller"], 5000});
  callJson("POST", "/api/v1/market/members/" + std::to_string(buyer) + "/deposits",
           {{"idempotency_key", "d1"}, {"amount_fen", 1'000'000}, {"bank_reference", "B1"}},
           "gd_admin", 201);

  // 10:00-11:00 Asia/Shanghai on Monday 2 March 2026.
  json announce = {{"idempotency_key", "a1"},
                   {"product", "PHCER-METRO"},
                   {"announcer_member_id", seller},
                   {"side", "sell"},
                   {"quantity", 100},
                   {"reserve_price_fen", 4000},
                   {"opens_at", "2026-03-02T10:00:00+08:00"},
                   {"closes_at", "2026-03-02T11:00:00+08:00"}};
  auto wrong = announce;
  wrong["closes_at"] = "eleven";
  EXPECT_EQ(field("POST", "/api/v1/market/auctions", wrong, "seller", 422), "closes_at");
  wrong = announce;
  wrong["reserve_price_fen"] = 0;
  EXPECT_EQ(field("POST", "/api/v1/market/auctions", wrong, "seller", 422), "reserve_price_fen");
  wrong = announce;
  wrong["quantity"] = 6000;
  EXPECT_EQ(field("POST", "/api/v1/market/auctions", wrong, "seller", 409), "quantity");
  wrong = announce;
  wrong.erase("idempotency_key");
  EXPECT_EQ(field("POST", "/api/v1/market/auctions", wrong, "seller", 422), "idempotency_key");
  EXPECT_EQ(field("POST", "/api/v1/market/auctions", announce, "buyer", 403), "member_id");
  callJson("POST", "/api/v1/market/auctions", announce, "resident", 403);
  auto a = callJson("POST", "/api/v1/market/auctions", announce, "seller", 201);
  EXPECT_EQ(a["phase"], "open");
  EXPECT_TRUE(a["result"].is_null());
  std::string path = "/api/v1/market/auctions/" + std::to_string(a["id"].get<std::int64_t>());

  json bid = {
      {"idempotency_key", "b1"}, {"member_id", buyer}, {"price_fen", 4500}, {"quantity", 60}};
  auto low = bid;
  low["price_fen"] = 3999;
  EXPECT_EQ(field("POST", path + "/bids", low, "buyer", 422), "price_fen");
  auto big = bid;
  big["quantity"] = 1000;
  EXPECT_EQ(field("POST", path + "/bids", big, "buyer", 422), "quantity");
  callJson("POST", "/api/v1/market/auctions/999/bids", bid, "buyer", 404);
  auto b1 = callJson("POST", path + "/bids", bid, "buyer", 201);
  EXPECT_EQ(b1["state"], "sealed");
  bid["idempotency_key"] = "b2";
  bid["price_fen"] = 4200;
  auto b2 = callJson("POST", path + "/bids", bid, "buyer", 201);
  std::string b2_path = "/api/v1/market/auction-bids/" + std::to_string(b2["id"].get<int>());
  EXPECT_EQ(field("POST", b2_path + "/amend", json::object(), "buyer", 422), "price_fen");
  EXPECT_EQ(callJson("POST", b2_path + "/amend", {{"price_fen", 4800}}, "buyer", 200)["price_fen"],
            4800);
  callJson("POST", b2_path + "/withdraw", nullptr, "seller", 403);

  // Sealed: the public sees the announcement only, the announcer no bids, the bidder its own.
  auto public_view = callJson("GET", path, nullptr, "", 200);
  EXPECT_TRUE(public_view["result"].is_null());
  EXPECT_EQ(public_view.dump().find("4800"), std::string::npos);
  EXPECT_EQ(callJson("GET", path + "/bids", nullptr, "seller", 200)["bids"].size(), 0u);
  EXPECT_EQ(callJson("GET", path + "/bids", nullptr, "buyer", 200)["bids"].size(), 2u);
  callJson("GET", path + "/bids", nullptr, "", 401);
  EXPECT_EQ(field("POST", path + "/close", nullptr, "seller", 409), "auction");

  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(callJson("GET", path, nullptr, "", 200)["phase"], "closed");
  EXPECT_EQ(
      field(
          "POST", path + "/bids",
          {{"idempotency_key", "late"}, {"member_id", buyer}, {"price_fen", 5000}, {"quantity", 1}},
          "buyer", 409),
      "auction_id");
  callJson("POST", path + "/close", nullptr, "buyer", 403);
  auto cleared = callJson("POST", path + "/close", nullptr, "seller", 200);
  EXPECT_EQ(cleared["state"], "cleared");
  ASSERT_EQ(cleared["trades"].size(), 2u);
  EXPECT_EQ(cleared["trades"][0]["price_fen"], 4800);  // the amended bid, now the best
  EXPECT_EQ(cleared["trades"][0]["quantity"], 60);
  EXPECT_EQ(cleared["trades"][1]["price_fen"], 4500);
  EXPECT_EQ(cleared["trades"][1]["quantity"], 40);
  EXPECT_EQ(cleared["bids"][1]["state"], "partly_won");

  auto result = callJson("GET", path, nullptr, "", 200)["result"];
  EXPECT_EQ(result["cleared_quantity"], 100);
  EXPECT_EQ(result["low_price_fen"], 4500);
  EXPECT_EQ(result["high_price_fen"], 4800);
  EXPECT_EQ(result["average_price_fen"], (288'000 + 180'000) / 100);
  EXPECT_EQ(result["bids"], 2);
  EXPECT_EQ(callJson("GET", path + "/bids", nullptr, "seller", 200)["bids"].size(), 2u);
  auto listed = callJson("GET", "/api/v1/market/auctions?state=cleared", nullptr, "", 200);
  ASSERT_EQ(listed["auctions"].size(), 1u);
  EXPECT_EQ(field("GET", "/api/v1/market/auctions?state=closing", nullptr, "", 422), "state");
  auto trades = callJson("GET", "/api/v1/market/PHCER-METRO/trades", nullptr, "", 200)["trades"];
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0]["mode"], "auction");
  auto me =
      callJson("GET", "/api/v1/market/members/" + std::to_string(buyer), nullptr, "buyer", 200);
  EXPECT_EQ(me["cash_reserved_fen"], 0);
  EXPECT_EQ(me["cash_fen"], 1'000'000 - 468'000 - 468);

  // A second auction is called off by its announcer before the close.
  announce["idempotency_key"] = "a2";
  announce["opens_at"] = "2026-03-02T11:00:00+08:00";
  announce["closes_at"] = "2026-03-02T12:00:00+08:00";
  auto second = callJson("POST", "/api/v1/market/auctions", announce, "seller", 201);
  std::string second_path =
      "/api/v1/market/auctions/" + std::to_string(second["id"].get<std::int64_t>());
  callJson("POST", second_path + "/cancel", nullptr, "buyer", 403);
  EXPECT_EQ(callJson("POST", second_path + "/cancel", nullptr, "seller", 200)["state"],
            "cancelled");
}

}  // namespace
}  // namespace tph::api
