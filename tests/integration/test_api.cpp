// HTTP against a live server on 127.0.0.1 (a random port) with a fresh database, on SQLite or
// PostgreSQL as TPH_TEST_DATABASE_URL says.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "api/api_server.h"
#include "api/http_client.h"
#include "api/router.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "core/crypto.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPassword = "green-travel-42";

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : clock_(testing::testEpoch()) {
    region::RegionService regions(t_.db(), clock_);
    auto loaded = regions.load({{"440000", "", "province", "广东省", "Guangdong"},
                                {"440100", "440000", "city", "广州市", "Guangzhou"},
                                {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                               "test");
    EXPECT_TRUE(loaded.ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.http.body_limit_bytes = 64 * 1024;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    port_ = server_->start();
    client_ = std::make_unique<HttpClient>("127.0.0.1", port_);
  }
  ~ApiTest() override {
    client_.reset();
    server_->stop();
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& token = {}) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!token.empty()) headers.emplace_back("authorization", "Bearer " + token);
    return client_->send(method, target, headers, body);
  }
  static json parse(const HttpResponse& r) { return json::parse(r.body); }

  void addUser(const std::string& name, std::vector<auth::RoleGrant> grants) {
    auto user = server_->auth().createUserAsSystem(
        "test", {name, kPassword, name, std::move(grants)}, false);
    ASSERT_TRUE(user.ok()) << user.error().message;
  }
  std::string login(const std::string& name, const std::string& password = kPassword) {
    auto r =
        call("POST", "/api/v1/auth/login", json{{"username", name}, {"password", password}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return parse(r).value("token", "");
  }

  HttpResponse signedCall(const std::string& key_id, const std::string& secret,
                          const std::string& method, const std::string& target,
                          const std::string& body, std::int64_t skew_s = 0,
                          std::string nonce = {}) {
    auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count() +
        skew_s);
    if (nonce.empty()) nonce = randomHex(16);
    auto signature = hmacSha256Hex(secret, auth::signingString(method, target, ts, nonce, body));
    HttpHeaders headers = {{"content-type", "application/json"},
                           {"x-tph-key", key_id},
                           {"x-tph-timestamp", ts},
                           {"x-tph-nonce", nonce},
                           {"x-tph-signature", signature}};
    return client_->send(method, target, headers, body);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::uint16_t port_ = 0;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ApiTest, RegisterThenLoginThenMe) {
  auto reg = call("POST", "/api/v1/auth/register",
                  R"({"username":"xiaolv","password":"green-travel-42","display_name":"小绿"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(parse(reg)["roles"][0]["role"], "resident");
  auto token = login("xiaolv");
  ASSERT_EQ(token.size(), 64u);
  auto me = call("GET", "/api/v1/me", "", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(parse(me)["username"], "xiaolv");
  EXPECT_EQ(parse(me)["display_name"], "小绿");
}

TEST_F(ApiTest, RegisterErrorsNameTheField) {
  auto weak = call("POST", "/api/v1/auth/register",
                   R"({"username":"xiaolv","password":"short","display_name":"x"})");
  EXPECT_EQ(weak.status, 422);
  EXPECT_EQ(parse(weak)["error"]["field"], "password");
  auto missing = call("POST", "/api/v1/auth/register",
                      R"({"username":"xiaolv","password":"green-travel-42"})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(parse(missing)["error"]["field"], "display_name");
  auto wrong_type = call("POST", "/api/v1/auth/register",
                         R"({"username":42,"password":"green-travel-42","display_name":"x"})");
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_EQ(parse(wrong_type)["error"]["field"], "username");
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaolv","password":"green-travel-42","display_name":"x"})")
                .status,
            201);
  auto taken = call("POST", "/api/v1/auth/register",
                    R"({"username":"xiaolv","password":"green-travel-42","display_name":"x"})");
  EXPECT_EQ(taken.status, 409);
}

TEST_F(ApiTest, WrongPasswordIs401AndRepeatedFailuresAre429) {
  addUser("alice", {{auth::Role::kResident, ""}});
  auto body = json{{"username", "alice"}, {"password", "wrong-password-9"}}.dump();
  auto first = call("POST", "/api/v1/auth/login", body);
  EXPECT_EQ(first.status, 401);
  EXPECT_EQ(parse(first)["error"]["code"], "unauthenticated");
  for (int i = 1; i < 5; ++i) EXPECT_EQ(call("POST", "/api/v1/auth/login", body).status, 401);
  auto limited = call("POST", "/api/v1/auth/login",
                      json{{"username", "alice"}, {"password", kPassword}}.dump());
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(parse(limited)["error"]["code"], "rate_limited");
  clock_.advance(16min);
  EXPECT_EQ(login("alice").size(), 64u);
}

TEST_F(ApiTest, ExpiredAndLoggedOutTokensAre401) {
  addUser("alice", {{auth::Role::kResident, ""}});
  auto token = login("alice");
  ASSERT_EQ(call("POST", "/api/v1/auth/logout", "", token).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/me", "", token).status, 401);
  auto second = login("alice");
  EXPECT_EQ(call("GET", "/api/v1/me", "", second).status, 200);
  clock_.advance(13h);
  EXPECT_EQ(call("GET", "/api/v1/me", "", second).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "", std::string(64, 'a')).status, 401);
}

TEST_F(ApiTest, NoTokenIs401AndWrongRoleIs403) {
  addUser("alice", {{auth::Role::kResident, ""}});
  auto create =
      R"({"username":"shop1","password":"green-travel-42","display_name":"s","roles":[{"role":"merchant","region":"440300"}]})";
  auto anonymous = call("POST", "/api/v1/users", create);
  EXPECT_EQ(anonymous.status, 401);
  auto resident = call("POST", "/api/v1/users", create, login("alice"));
  EXPECT_EQ(resident.status, 403);
  EXPECT_EQ(parse(resident)["error"]["code"], "forbidden");
}

TEST_F(ApiTest, RegionAdminIsRefusedOutsideItsRegion) {
  addUser("sz_admin", {{auth::Role::kRegionAdmin, "440300"}});
  auto token = login("sz_admin");
  auto inside = call(
      "POST", "/api/v1/users",
      R"({"username":"sz_shop","password":"green-travel-42","display_name":"s","roles":[{"role":"merchant","region":"440300"}]})",
      token);
  EXPECT_EQ(inside.status, 201) << inside.body;
  auto outside = call(
      "POST", "/api/v1/users",
      R"({"username":"gz_shop","password":"green-travel-42","display_name":"s","roles":[{"role":"merchant","region":"440100"}]})",
      token);
  EXPECT_EQ(outside.status, 403);
  EXPECT_EQ(parse(outside)["error"]["field"], "roles");
  auto bad_role = call(
      "POST", "/api/v1/users",
      R"({"username":"x_shop","password":"green-travel-42","display_name":"s","roles":[{"role":"wizard"}]})",
      token);
  EXPECT_EQ(bad_role.status, 422);
  EXPECT_EQ(parse(bad_role)["error"]["field"], "roles[0].role");
  auto listed = call("GET", "/api/v1/users?role=merchant", "", token);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(parse(listed)["users"].size(), 1u);
}

TEST_F(ApiTest, MalformedJsonIs400NamingThePosition) {
  auto r = call("POST", "/api/v1/auth/login", R"({"username": "a", "password": )");
  EXPECT_EQ(r.status, 400);
  auto error = parse(r)["error"];
  EXPECT_EQ(error["code"], "bad_request");
  EXPECT_EQ(error["field"], "body");
  EXPECT_NE(error["message"].get<std::string>().find("at byte"), std::string::npos);
  auto not_object = call("POST", "/api/v1/auth/login", "[1,2]");
  EXPECT_EQ(not_object.status, 400);
}

TEST_F(ApiTest, OversizeBodyIs413) {
  std::string big(70 * 1024, 'x');
  auto r = call("POST", "/api/v1/auth/login", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(parse(r)["error"]["code"], "payload_too_large");
}

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto missing = call("GET", "/api/v1/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(parse(missing)["error"]["code"], "not_found");
  auto wrong = call("DELETE", "/api/v1/auth/login");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "POST");
}

class SignedApiTest : public ApiTest {
 protected:
  void SetUp() override {
    addUser("gd_admin", {{auth::Role::kProvinceAdmin, "440000"}});
    addUser("metro_feed", {{auth::Role::kProvider, "440300"}});
    auto admin = login("gd_admin");
    auto users = parse(call("GET", "/api/v1/users?q=metro_feed", "", admin));
    ASSERT_EQ(users["users"].size(), 1u);
    auto id = users["users"][0]["id"].get<std::int64_t>();
    auto created = call("POST", "/api/v1/users/" + std::to_string(id) + "/api-keys",
                        R"({"label":"Shenzhen Metro feed"})", admin);
    ASSERT_EQ(created.status, 201) << created.body;
    key_id_ = parse(created)["key_id"];
    secret_ = parse(created)["secret"];
  }
  std::string key_id_, secret_;
};

TEST_F(SignedApiTest, ASignedRequestIsAccepted) {
  auto r = signedCall(key_id_, secret_, "GET", "/api/v1/me", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["username"], "metro_feed");
  EXPECT_EQ(parse(r)["api_key_id"], key_id_);
}

TEST_F(SignedApiTest, TamperedStaleAndReplayedRequestsAreRefused) {
  // Tampered: signed for one target, sent to another.
  auto ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
  auto nonce = randomHex(16);
  auto signature =
      hmacSha256Hex(secret_, auth::signingString("GET", "/api/v1/me?x=1", ts, nonce, ""));
  auto tampered = client_->send("GET", "/api/v1/me",
                                {{"x-tph-key", key_id_},
                                 {"x-tph-timestamp", ts},
                                 {"x-tph-nonce", nonce},
                                 {"x-tph-signature", signature}});
  EXPECT_EQ(tampered.status, 401);
  EXPECT_NE(parse(tampered)["error"]["message"].get<std::string>().find("signature"),
            std::string::npos);

  auto stale = signedCall(key_id_, secret_, "GET", "/api/v1/me", "", -400);
  EXPECT_EQ(stale.status, 401);

  auto first = signedCall(key_id_, secret_, "GET", "/api/v1/me", "", 0, "replayed-nonce-000001");
  EXPECT_EQ(first.status, 200);
  auto replay = signedCall(key_id_, secret_, "GET", "/api/v1/me", "", 0, "replayed-nonce-000001");
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(parse(replay)["error"]["message"].get<std::string>().find("nonce"), std::string::npos);
}

TEST_F(SignedApiTest, ARevokedKeyIsRefused) {
  auto admin = login("gd_admin");
  ASSERT_EQ(call("DELETE", "/api/v1/api-keys/" + key_id_, "", admin).status, 200);
  EXPECT_EQ(signedCall(key_id_, secret_, "GET", "/api/v1/me", "").status, 401);
}

TEST(ApiDocs, TheSigningExampleInApiMdIsRight) {
  std::ifstream in(TPH_SOURCE_DIR "/docs/api.md");
  ASSERT_TRUE(in) << "docs/api.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  // The values of the worked example, as the document states them.
  auto grab = [&](const std::string& name) {
    std::smatch m;
    std::regex re(name + R"(:\s*`([^`]*)`)");
    EXPECT_TRUE(std::regex_search(doc, m, re)) << name << " is not in docs/api.md";
    return m.size() > 1 ? m[1].str() : std::string();
  };
  auto method = grab("Method"), target = grab("Target"), timestamp = grab("Timestamp"),
       nonce = grab("Nonce"), body = grab("Body"), secret = grab("Secret"),
       body_hash = grab("Body SHA-256"), signature = grab("Signature");
  EXPECT_EQ(sha256Hex(body), body_hash);
  EXPECT_EQ(hmacSha256Hex(secret, auth::signingString(method, target, timestamp, nonce, body)),
            signature);
}

TEST_F(ApiTest, OpenApiListsEveryRoute) {
  auto r = call("GET", "/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = parse(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::size_t operations = 0;
  for (const auto& route : server_->router().routes()) {
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern << " is missing";
    ASSERT_TRUE(doc["paths"][route.pattern].contains(method))
        << route.method << " " << route.pattern;
    const auto& op = doc["paths"][route.pattern][method];
    EXPECT_FALSE(op["summary"].get<std::string>().empty()) << route.pattern << " has no summary";
    EXPECT_TRUE(op["responses"].contains(std::to_string(route.success_status))) << route.pattern;
    ++operations;
  }
  std::size_t documented = 0;
  for (const auto& [path, ops] : doc["paths"].items()) documented += ops.size();
  EXPECT_EQ(documented, operations);
  EXPECT_GE(operations, 12u);
}

TEST_F(ApiTest, HealthAndMetricsReport) {
  EXPECT_EQ(parse(call("GET", "/healthz"))["status"], "ok");
  EXPECT_EQ(parse(call("GET", "/readyz"))["database"], "ok");
  call("GET", "/api/v1/nothing");
  auto metrics = call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(
      metrics.body.find(R"(tph_http_requests_total{method="GET",route="/healthz",status="200"} 1)"),
      std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(metrics.body.find("tph_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("tph_db_pool_size"), std::string::npos);
}

TEST_F(ApiTest, RegionsArePublic) {
  auto r = call("GET", "/api/v1/regions");
  ASSERT_EQ(r.status, 200);
  auto regions = parse(r)["regions"];
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[2]["name_zh"], "深圳市");
  EXPECT_EQ(regions[2]["parent"], "440000");
}

TEST_F(ApiTest, AuditVerifyCatchesATamperedDatabase) {
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaolv","password":"green-travel-42","display_name":"x"})")
                .status,
            201);
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaohong","password":"green-travel-42","display_name":"y"})")
                .status,
            201);
  std::string out;
  EXPECT_EQ(testing::runCli("audit verify --db '" + t_.url() + "'", &out), 0) << out;
  EXPECT_NE(out.find("3 events verified"), std::string::npos) << out;

  t_.exec(R"(UPDATE audit_events SET payload = '{"username":"mallory"}' WHERE id = 2)");
  out.clear();
  EXPECT_EQ(testing::runCli("audit verify --db '" + t_.url() + "'", &out), 1);
  EXPECT_NE(out.find("event 2"), std::string::npos) << out;
}

TEST_F(ApiTest, AuditVerifyCatchesADeletedEvent) {
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaolv","password":"green-travel-42","display_name":"x"})")
                .status,
            201);
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaohong","password":"green-travel-42","display_name":"y"})")
                .status,
            201);
  t_.exec("DELETE FROM audit_events WHERE id = 2");
  std::string out;
  EXPECT_EQ(testing::runCli("audit verify --db '" + t_.url() + "'", &out), 1);
  EXPECT_NE(out.find("event 2 is missing"), std::string::npos) << out;
}

}  // namespace
}  // namespace tph::api

namespace tph::api {
namespace {

TEST_F(ApiTest, AResidentExportsTheirDataThenDeletesTheAccount) {
  ASSERT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaolv","password":"green-travel-42","display_name":"小绿"})")
                .status,
            201);
  auto token = login("xiaolv", "green-travel-42");
  ASSERT_EQ(call("GET", "/api/v1/accounts/me", "", token).status, 200);
  auto exported = call("GET", "/api/v1/me/export", "", token);
  ASSERT_EQ(exported.status, 200) << exported.body;
  EXPECT_NE(exported.header("content-disposition").find("tanpuhui-personal-data-"),
            std::string::npos);
  auto data = parse(exported);
  EXPECT_EQ(data["format"], "tanpuhui-personal-data/1");
  EXPECT_EQ(data["user"]["username"], "xiaolv");
  EXPECT_EQ(data["user"]["display_name"], "小绿");
  ASSERT_EQ(data["accounts"].size(), 1u);
  EXPECT_EQ(data["accounts"][0]["kind"], "person");
  EXPECT_EQ(data["user"]["sessions"].size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/me/export").status, 401);

  auto missing = call("POST", "/api/v1/me/deletion", "{}", token);
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(parse(missing)["error"]["field"], "password");
  auto wrong = call("POST", "/api/v1/me/deletion", R"({"password":"not-my-password"})", token);
  EXPECT_EQ(wrong.status, 403);  // the session is fine: a 401 would sign the browser out
  EXPECT_EQ(parse(wrong)["error"]["field"], "password");
  auto deleted = call("POST", "/api/v1/me/deletion", R"({"password":"green-travel-42"})", token);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(parse(deleted)["deleted"], true);
  // Signed out everywhere, and the name is free again.
  EXPECT_EQ(call("GET", "/api/v1/me", "", token).status, 401);
  auto again =
      call("POST", "/api/v1/auth/login", R"({"username":"xiaolv","password":"green-travel-42"})");
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(call("POST", "/api/v1/auth/register",
                 R"({"username":"xiaolv","password":"green-travel-42","display_name":"新"})")
                .status,
            201);
}

TEST_F(ApiTest, StaffCannotDeleteThemselves) {
  addUser("gz_admin", {{auth::Role::kRegionAdmin, "440100"}});
  auto token = login("gz_admin");
  auto refused = call("POST", "/api/v1/me/deletion", json{{"password", kPassword}}.dump(), token);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(parse(refused)["error"]["field"], "roles");
  EXPECT_EQ(call("GET", "/api/v1/me", "", token).status, 200);
}

}  // namespace
}  // namespace tph::api
