// The merchant alliance over HTTP: a business applies, the right region admin approves, the
// merchant publishes an offer, a resident redeems it, the voucher's QR code is served as SVG and
// PNG, the merchant accepts it at the counter once, and the monthly settlement downloads as XLSX;
// with the 4xx JSON errors naming their field on the way.

#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "core/crypto.h"
#include "incentive/card_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class IncentiveApiTest : public ::testing::Test {
 protected:
  IncentiveApiTest() : clock_(*parseIso8601("2026-03-10T02:00:00Z")), accounts_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
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
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"sz_admin", auth::Role::kRegionAdmin, "440300"},
                                      {"gz_admin", auth::Role::kRegionAdmin, "440100"},
                                      {"owner", auth::Role::kResident, ""},
                                      {"alice", auth::Role::kResident, ""}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      EXPECT_TRUE(u.ok());
      ids_[name] = u->id;
      principals_[name] = auth::Principal{u->id, u->username, u->display_name, u->grants, {}};
      login(name);
    }
    auto acct = accounts_.personAccount(principals_["alice"], "440305");
    EXPECT_TRUE(acct.ok());
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                                 "issuance", true, clock_);
      return account::postEntry(sql,
                                {"seed:alice",
                                 "credit",
                                 "test",
                                 {{issuance, Points(-250)}, {acct->ledger_account, Points(250)}}},
                                clock_);
    });
    EXPECT_TRUE(r.ok());
  }
  ~IncentiveApiTest() override {
    client_.reset();
    server_->stop();
  }

  void login(const std::string& name) {
    auto r = call("POST", "/api/v1/auth/login",
                  json{{"username", name}, {"password", kPassword}}.dump());
    tokens_[name] = json::parse(r.body).value("token", "");
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
  std::int64_t alicePoints() {
    return accounts_.personAccount(principals_["alice"])->points.value();
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  account::CarbonAccountService accounts_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::int64_t> ids_;
  std::map<std::string, auth::Principal> principals_;
};

json offerBody(std::int64_t stock) {
  return {{"title_zh", "免费咖啡"},
          {"title_en", "Free coffee"},
          {"description", "一杯美式"},
          {"points_cost", 100},
          {"stock", stock},
          {"per_user_limit", 1},
          {"valid_from", "2026-03-01T00:00:00+08:00"},
          {"valid_until", "2026-04-01T00:00:00+08:00"},
          {"voucher_valid_days", 7},
          {"regions", {"440300"}}};
}

TEST_F(IncentiveApiTest, FromApplicationToAcceptedVoucherAndSettlement) {
  // Applying: a missing or malformed field is a 422 naming it.
  json application = {
      {"name", "低碳咖啡"}, {"licence_no", "91440300MA5ABCDE1X"},   {"category", "food"},
      {"region", "440305"}, {"address", "深圳市南山区科技园 1 号"}, {"contact", "0755-1234"}};
  json no_contact = application;
  no_contact.erase("contact");
  EXPECT_EQ(callJson("POST", "/api/v1/merchants", no_contact, "owner", 422)["error"]["field"],
            "contact");
  json bad_licence = application;
  bad_licence["licence_no"] = "123";
  EXPECT_EQ(callJson("POST", "/api/v1/merchants", bad_licence, "owner", 422)["error"]["field"],
            "licence_no");
  callJson("POST", "/api/v1/merchants", application, "", 401);
  auto merchant = callJson("POST", "/api/v1/merchants", application, "owner", 201);
  EXPECT_EQ(merchant["status"], "pending");
  std::string m = "/api/v1/merchants/" + std::to_string(merchant["id"].get<std::int64_t>());

  // Approval: a resident may not, the wrong region's admin is refused, the right one approves.
  callJson("POST", m + "/decision", {{"approve", true}}, "alice", 403);
  callJson("POST", m + "/decision", {{"approve", true}}, "gz_admin", 403);
  EXPECT_EQ(
      callJson("POST", m + "/decision", {{"approve", "yes"}}, "sz_admin", 422)["error"]["field"],
      "approve");
  EXPECT_EQ(callJson("POST", m + "/decision", {{"approve", true}}, "sz_admin", 200)["status"],
            "approved");
  login("owner");  // a new session carries the merchant grant

  // Offers: fields checked, then published.
  json bad_offer = offerBody(2);
  bad_offer["points_cost"] = "many";
  EXPECT_EQ(callJson("POST", m + "/offers", bad_offer, "owner", 422)["error"]["field"],
            "points_cost");
  bad_offer = offerBody(2);
  bad_offer["valid_until"] = "next month";
  EXPECT_EQ(callJson("POST", m + "/offers", bad_offer, "owner", 422)["error"]["field"],
            "valid_until");
  bad_offer = offerBody(2);
  bad_offer.erase("regions");
  EXPECT_EQ(callJson("POST", m + "/offers", bad_offer, "owner", 422)["error"]["field"], "regions");
  callJson("POST", m + "/offers", offerBody(2), "alice", 403);
  auto offer = callJson("POST", m + "/offers", offerBody(2), "owner", 201);
  EXPECT_EQ(offer["remaining"], 2);
  std::string o = "/api/v1/offers/" + std::to_string(offer["id"].get<std::int64_t>());
  auto listed = callJson("GET", "/api/v1/offers?region=440305", nullptr, "", 200);
  ASSERT_EQ(listed["offers"].size(), 1u);
  EXPECT_EQ(callJson("GET", "/api/v1/offers?limit=x", nullptr, "", 422)["error"]["field"], "limit");

  // Redemption: an idempotency key is required; a retry answers the same voucher.
  EXPECT_EQ(callJson("POST", o + "/redeem", json::object(), "alice", 422)["error"]["field"],
            "idempotency_key");
  auto voucher = callJson("POST", o + "/redeem", {{"idempotency_key", "r1"}}, "alice", 201);
  EXPECT_EQ(voucher["points"], 100);
  EXPECT_EQ(voucher["status"], "issued");
  EXPECT_EQ(alicePoints(), 150);
  auto retry = callJson("POST", o + "/redeem", {{"idempotency_key", "r1"}}, "alice", 201);
  EXPECT_EQ(retry["id"], voucher["id"]);
  EXPECT_EQ(alicePoints(), 150);
  // Over the per-user limit: refused naming the field, no points taken.
  auto over = call("POST", o + "/redeem", json{{"idempotency_key", "r2"}}.dump(), "alice");
  EXPECT_GE(over.status, 400);
  EXPECT_LT(over.status, 500);
  EXPECT_EQ(json::parse(over.body)["error"]["field"], "per_user_limit");
  EXPECT_EQ(alicePoints(), 150);

  // The QR code, to its holder only.
  std::string v = "/api/v1/vouchers/" + std::to_string(voucher["id"].get<std::int64_t>());
  auto svg = call("GET", v + "/qr.svg", {}, "alice");
  EXPECT_EQ(svg.status, 200);
  EXPECT_EQ(svg.header("content-type"), "image/svg+xml");
  EXPECT_NE(svg.body.find("<svg"), std::string::npos);
  auto png = call("GET", v + "/qr.png?scale=4", {}, "alice");
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(png.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(callJson("GET", v + "/qr.png?scale=big", nullptr, "alice", 422)["error"]["field"],
            "scale");
  callJson("GET", v + "/qr.svg", nullptr, "gz_admin", 404);  // not revealed to others

  // At the counter: accepted once, then refused with the reason.
  EXPECT_EQ(callJson("POST", m + "/vouchers/use", json::object(), "owner", 422)["error"]["field"],
            "code");
  callJson("POST", m + "/vouchers/use", {{"code", voucher["code"]}}, "alice", 403);
  auto used = callJson("POST", m + "/vouchers/use", {{"code", voucher["code"]}}, "owner", 200);
  EXPECT_EQ(used["status"], "used");
  auto again = callJson("POST", m + "/vouchers/use", {{"code", voucher["code"]}}, "owner", 409);
  EXPECT_NE(again["error"]["message"].get<std::string>().find("used"), std::string::npos);
  EXPECT_EQ(callJson("GET", "/api/v1/merchants/" + std::to_string(merchant["id"].get<int>()),
                     nullptr, "owner", 200)["points"],
            100);

  // Settlement: JSON and XLSX; a malformed month or format names its field.
  auto statement = callJson("GET", m + "/settlements/2026-03", nullptr, "owner", 200);
  EXPECT_EQ(statement["total"]["issued"], 1);
  EXPECT_EQ(statement["total"]["used"], 1);
  EXPECT_EQ(statement["total"]["points_net"], 100);
  auto xlsx = call("GET", m + "/settlements/2026-03?format=xlsx", {}, "owner");
  EXPECT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  EXPECT_NE(xlsx.header("content-disposition").find("2026-03.xlsx"), std::string::npos);
  EXPECT_EQ(callJson("GET", m + "/settlements/2026-13", nullptr, "owner", 422)["error"]["field"],
            "month");
  EXPECT_EQ(callJson("GET", m + "/settlements/2026-03?format=pdf", nullptr, "owner",
                     422)["error"]["field"],
            "format");
  callJson("GET", m + "/settlements/2026-03", nullptr, "alice", 404);

  auto check = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
  EXPECT_TRUE(check.ok) << check.problem;
}

TEST_F(IncentiveApiTest, VoucherExpiryOverHttpReturnsThePoints) {
  auto merchant = callJson("POST", "/api/v1/merchants",
                           {{"name", "绿色书店"},
                            {"licence_no", "91440300MA5ABCDE2Y"},
                            {"category", "retail"},
                            {"region", "440305"},
                            {"address", "深圳市南山区 2 号"},
                            {"contact", "0755-5678"}},
                           "owner", 201);
  std::string m = "/api/v1/merchants/" + std::to_string(merchant["id"].get<std::int64_t>());
  callJson("POST", m + "/decision", {{"approve", true}}, "gd_admin", 200);
  login("owner");
  auto offer = callJson("POST", m + "/offers", offerBody(5), "owner", 201);
  std::string o = "/api/v1/offers/" + std::to_string(offer["id"].get<std::int64_t>());
  callJson("POST", o + "/status", {{"action", "stop"}}, "owner", 422);
  auto voucher = callJson("POST", o + "/redeem", {{"idempotency_key", "k"}}, "alice", 201);
  EXPECT_EQ(alicePoints(), 150);
  clock_.advance(std::chrono::hours(24 * 8));
  for (const char* name : {"gd_admin", "sz_admin", "owner", "alice"}) login(name);
  callJson("POST", "/api/v1/vouchers/expire", json::object(), "sz_admin", 403);
  auto swept = callJson("POST", "/api/v1/vouchers/expire", json::object(), "gd_admin", 200);
  EXPECT_EQ(swept["expired"], 1);
  EXPECT_EQ(swept["points_returned"], 100);
  EXPECT_EQ(alicePoints(), 250);
  callJson("POST", m + "/vouchers/use", {{"code", voucher["code"]}}, "owner", 409);
}

TEST_F(IncentiveApiTest, CardConversionExportAndReconciliationOverHttp) {
  json partner_body = {{"code", "icbc-gd"}, {"name", "工商银行"}, {"rate_points", 10}};
  EXPECT_EQ(
      callJson("POST", "/api/v1/card-partners", partner_body, "gd_admin", 422)["error"]["field"],
      "rate_reward");
  partner_body["rate_reward"] = 3;
  callJson("POST", "/api/v1/card-partners", partner_body, "sz_admin", 403);
  auto partner = callJson("POST", "/api/v1/card-partners", partner_body, "gd_admin", 201);
  std::string secret = partner["export_secret"];
  std::string p = "/api/v1/card-partners/" + std::to_string(partner["id"].get<std::int64_t>());
  EXPECT_EQ(callJson("GET", "/api/v1/card-partners", nullptr, "", 200)["partners"][0].count(
                "export_secret"),
            0u);

  auto card =
      callJson("POST", "/api/v1/cards",
               {{"partner_id", partner["id"]}, {"card_token", "tok_alice_0001"}}, "alice", 201);
  std::string c = "/api/v1/cards/" + std::to_string(card["id"].get<std::int64_t>());
  EXPECT_EQ(callJson("POST", c + "/conversions", {{"points", 100}}, "alice", 422)["error"]["field"],
            "idempotency_key");
  EXPECT_EQ(callJson("POST", c + "/conversions", {{"points", 15}, {"idempotency_key", "x"}},
                     "alice", 422)["error"]["field"],
            "points");
  auto conversion = callJson("POST", c + "/conversions",
                             {{"points", 100}, {"idempotency_key", "k1"}}, "alice", 201);
  EXPECT_EQ(conversion["reward_points"], 30);
  EXPECT_EQ(alicePoints(), 150);
  EXPECT_EQ(
      callJson("GET", "/api/v1/card-conversions", nullptr, "alice", 200)["conversions"].size(), 1u);

  std::string day = conversion["day"];
  EXPECT_EQ(callJson("GET", p + "/exports/" + day, nullptr, "gd_admin", 409)["error"]["field"],
            "day");
  clock_.advance(std::chrono::hours(24));
  for (const char* name : {"gd_admin", "alice"}) login(name);
  auto file = call("GET", p + "/exports/" + day, {}, "gd_admin");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(file.header("x-tph-signature"), incentive::cardFileSignature(secret, file.body));
  EXPECT_NE(file.body.find("tok_alice_0001,100,30,10:3,"), std::string::npos);

  json confirmation = {
      {"day", day},
      {"lines",
       {{{"conversion_id", conversion["id"]}, {"status", "rejected"}, {"reason", "card closed"}}}}};
  std::string body = confirmation.dump();
  HttpHeaders headers = {{"content-type", "application/json"},
                         {"authorization", "Bearer " + tokens_["gd_admin"]}};
  auto unsigned_upload = client_->send("POST", p + "/reconciliations/" + day, headers, body);
  EXPECT_EQ(unsigned_upload.status, 422);
  EXPECT_EQ(json::parse(unsigned_upload.body)["error"]["field"], "signature");
  headers.emplace_back("x-tph-signature", incentive::cardFileSignature(secret, body));
  auto upload = client_->send("POST", p + "/reconciliations/" + day, headers, body);
  EXPECT_EQ(upload.status, 200) << upload.body;
  EXPECT_EQ(json::parse(upload.body)["rejected"], 1);
  EXPECT_EQ(alicePoints(), 250);
  EXPECT_EQ(callJson("GET", p + "/reconciliations/" + day, nullptr, "gd_admin", 200)["rejected"],
            1);
  callJson("DELETE", c, nullptr, "alice", 200);
}

TEST_F(IncentiveApiTest, LeaderboardProfilesAndCommunitiesOverHttp) {
  EXPECT_EQ(callJson("GET", "/api/v1/leaderboards?period=year", nullptr, "", 422)["error"]["field"],
            "period");
  auto board = callJson("GET", "/api/v1/leaderboards", nullptr, "", 200);
  EXPECT_EQ(board["period"], "week");
  EXPECT_TRUE(board["entries"].empty());
  EXPECT_TRUE(
      callJson("GET", "/api/v1/points/expiry-notices", nullptr, "alice", 200)["notices"].empty());
  callJson("GET", "/api/v1/points/expiry-notices", nullptr, "", 401);
  auto none = callJson("GET", "/api/v1/rankings/profile", nullptr, "alice", 200);
  EXPECT_EQ(none["listed"], false);  // privacy by default

  callJson("POST", "/api/v1/communities", {{"region", "440305"}, {"name", "科技园社区"}},
           "gz_admin", 403);
  auto community = callJson("POST", "/api/v1/communities",
                            {{"region", "440305"}, {"name", "科技园社区"}}, "sz_admin", 201);
  EXPECT_EQ(callJson("PUT", "/api/v1/rankings/profile", {{"nickname", "x"}, {"listed", true}},
                     "alice", 422)["error"]["field"],
            "nickname");
  EXPECT_EQ(callJson("PUT", "/api/v1/rankings/profile", {{"nickname", "绿色出行"}}, "alice",
                     422)["error"]["field"],
            "listed");
  auto profile =
      callJson("PUT", "/api/v1/rankings/profile",
               {{"nickname", "绿色出行"}, {"listed", true}, {"community_id", community["id"]}},
               "alice", 200);
  EXPECT_EQ(profile["listed"], true);
  EXPECT_EQ(callJson("GET", "/api/v1/communities?region=440300", nullptr, "",
                     200)["communities"][0]["members"],
            1);
  EXPECT_EQ(callJson("POST", "/api/v1/rankings/opt-out", json::object(), "alice", 200)["listed"],
            false);
  callJson("GET",
           "/api/v1/leaderboards?period=month&community=" +
               std::to_string(community["id"].get<std::int64_t>()),
           nullptr, "", 200);
}

TEST_F(IncentiveApiTest, BankSystemConfirmsConversionsBySignedRequests) {
  auto partner =
      callJson("POST", "/api/v1/card-partners",
               {{"code", "icbc-gd"}, {"name", "工商银行"}, {"rate_points", 10}, {"rate_reward", 3}},
               "gd_admin", 201);
  std::string secret = partner["export_secret"];
  std::string p = "/api/v1/card-partners/" + std::to_string(partner["id"].get<std::int64_t>());
  auto card =
      callJson("POST", "/api/v1/cards",
               {{"partner_id", partner["id"]}, {"card_token", "tok_alice_0001"}}, "alice", 201);
  std::string c = "/api/v1/cards/" + std::to_string(card["id"].get<std::int64_t>());
  auto kept = callJson("POST", c + "/conversions", {{"points", 50}, {"idempotency_key", "k1"}},
                       "alice", 201);
  auto refused = callJson("POST", c + "/conversions", {{"points", 100}, {"idempotency_key", "k2"}},
                          "alice", 201);
  EXPECT_EQ(alicePoints(), 100);
  clock_.advance(std::chrono::hours(24));
  for (const char* name : {"gd_admin", "alice"}) login(name);
  ASSERT_EQ(call("GET", p + "/exports/" + kept["day"].get<std::string>(), {}, "gd_admin").status,
            200);

  std::string target = p + "/confirmations";
  int nonce = 0;
  // Signs as the bank does: HMAC-SHA256(secret, METHOD\nTARGET\nTIMESTAMP\nNONCE\nsha256(body)).
  auto send = [&](const json& body, const std::string& key, std::chrono::seconds skew) {
    std::string text = body.dump();
    std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch() + skew)
            .count());
    std::string n = "bank-nonce-" + std::to_string(100000 + ++nonce);
    HttpHeaders headers = {
        {"content-type", "application/json"},
        {"x-tph-timestamp", ts},
        {"x-tph-nonce", n},
        {"x-tph-signature", hmacSha256Hex(key, auth::signingString("POST", target, ts, n, text))}};
    return client_->send("POST", target, headers, text);
  };
  json body = {
      {"confirmations",
       {{{"conversion_id", kept["id"]}, {"status", "credited"}, {"reference", "B-1"}},
        {{"conversion_id", refused["id"]}, {"status", "rejected"}, {"reason", "closed"}}}}};
  EXPECT_EQ(send(body, secret, std::chrono::seconds(-400)).status, 401);  // stale
  EXPECT_EQ(send(body, std::string(64, '0'), std::chrono::seconds(0)).status, 401);
  auto unsigned_request =
      client_->send("POST", target, {{"content-type", "application/json"}}, body.dump());
  EXPECT_EQ(unsigned_request.status, 401);
  EXPECT_EQ(alicePoints(), 100);

  auto ok = send(body, secret, std::chrono::seconds(0));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto results = json::parse(ok.body)["results"];
  EXPECT_EQ(results[0]["outcome"], "applied");
  EXPECT_EQ(results[1]["status"], "rejected");
  EXPECT_EQ(alicePoints(), 200);  // the rejected conversion's 100 points are back
  auto again = send(body, secret, std::chrono::seconds(0));
  EXPECT_EQ(json::parse(again.body)["results"][1]["outcome"], "unchanged");
  EXPECT_EQ(alicePoints(), 200);
  auto bad = send({{"confirmations", {{{"conversion_id", "x"}}}}}, secret, std::chrono::seconds(0));
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "confirmations[0].conversion_id");
  auto conversions = callJson("GET", "/api/v1/card-conversions", nullptr, "alice", 200);
  EXPECT_EQ(conversions["conversions"][0]["status"], "rejected");
  EXPECT_EQ(conversions["conversions"][0]["bank_reason"], "closed");
  EXPECT_EQ(conversions["conversions"][1]["bank_reference"], "B-1");
  auto check = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
  EXPECT_TRUE(check.ok) << check.problem;
}

TEST_F(IncentiveApiTest, ExpiryPolicyIsSetByTheProvinceAndAnnouncedInTheAccount) {
  json policy = {{"region", "440000"}, {"kind", "months"}, {"term", 3}, {"reason", "按月清理"}};
  callJson("POST", "/api/v1/points/expiry-policies", policy, "sz_admin", 403);
  callJson("POST", "/api/v1/points/expiry-policies", policy, "alice", 403);
  callJson("POST", "/api/v1/points/expiry-policies", policy, "", 401);
  auto bad = policy;
  bad["kind"] = "weekly";
  EXPECT_EQ(
      callJson("POST", "/api/v1/points/expiry-policies", bad, "gd_admin", 422)["error"]["field"],
      "kind");
  bad = policy;
  bad.erase("term");
  EXPECT_EQ(
      callJson("POST", "/api/v1/points/expiry-policies", bad, "gd_admin", 422)["error"]["field"],
      "term");
  bad = policy;
  bad["effective_from"] = "2020-01-01T00:00:00+08:00";
  EXPECT_EQ(
      callJson("POST", "/api/v1/points/expiry-policies", bad, "gd_admin", 422)["error"]["field"],
      "effective_from");
  auto stored = callJson("POST", "/api/v1/points/expiry-policies", policy, "gd_admin", 201);
  EXPECT_EQ(stored["version"], 1);
  EXPECT_EQ(stored["notice_days"], 30);
  auto listed = callJson("GET", "/api/v1/points/expiry-policies?region=440305", nullptr, "", 200);
  EXPECT_TRUE(listed["policies"].empty());  // none of its own
  EXPECT_EQ(listed["in_force"]["id"], stored["id"]);

  // Alice's 250 points were credited on 10 March: under "3 months after the month earned" they
  // expire when June ends; the account shows it ahead of any notice.
  auto account = callJson("GET", "/api/v1/points/expiry-notices", nullptr, "alice", 200);
  EXPECT_TRUE(account["notices"].empty());
  EXPECT_EQ(account["upcoming"]["points"], 250);
  EXPECT_EQ(account["upcoming"]["expires_at"],
            formatIso8601(*parseIso8601("2026-07-01T00:00:00+08:00")));
}

TEST_F(IncentiveApiTest, LeaderboardRefreshIsTheProvincesAndBoardsSayHowFreshTheyAre) {
  callJson("POST", "/api/v1/leaderboards/refresh", json::object(), "sz_admin", 403);
  auto r = callJson("POST", "/api/v1/leaderboards/refresh", json::object(), "gd_admin", 200);
  EXPECT_EQ(r["caught_up"], true);
  auto board = callJson("GET", "/api/v1/leaderboards?period=all", nullptr, "", 200);
  EXPECT_EQ(board["as_of"], formatIso8601(clock_.now()));
}

}  // namespace
}  // namespace tph::api
