// Ingest and accounts over HTTP: a provider's signed batch (JSON array and NDJSON), quarantine
// answers, the resident's account statement and history, and binding with a provider's code.

#include <gtest/gtest.h>

#include <set>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "core/crypto.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class IngestApiTest : public ::testing::Test {
 protected:
  IngestApiTest() : clock_(*parseIso8601("2026-03-10T04:00:00Z")) {
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
    EXPECT_TRUE(server_->methodologies().importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    for (auto [name, role, region] : {std::tuple{"sz_admin", auth::Role::kRegionAdmin, "440300"},
                                      {"alice", auth::Role::kResident, ""},
                                      {"metro_feed", auth::Role::kProvider, "440300"}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      ids_[name] = u->id;
      auto r = call("POST", "/api/v1/auth/login",
                    json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
    }
    auto provider = call("POST", "/api/v1/providers",
                         json{{"key", "sz-metro"},
                              {"name", "深圳地铁"},
                              {"kind", "transit_operator"},
                              {"user_id", ids_["metro_feed"]},
                              {"regions", {"440300"}},
                              {"methodologies", {"travel.metro"}}}
                             .dump(),
                         "sz_admin");
    EXPECT_EQ(provider.status, 201) << provider.body;
    pseudonym_key_ = json::parse(provider.body).value("pseudonym_key", "");
    auto key = call("POST", "/api/v1/users/" + std::to_string(ids_["metro_feed"]) + "/api-keys",
                    "{}", "sz_admin");
    EXPECT_EQ(key.status, 201) << key.body;
    key_id_ = json::parse(key.body).value("key_id", "");
    secret_ = json::parse(key.body).value("secret", "");
  }
  ~IngestApiTest() override {
    client_.reset();
    server_->stop();
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& who = {}) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send(method, target, headers, body);
  }
  HttpResponse signedCall(const std::string& method, const std::string& target,
                          const std::string& body,
                          const std::string& content_type = "application/json") {
    auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
    auto nonce = randomHex(16);
    auto signature = hmacSha256Hex(secret_, auth::signingString(method, target, ts, nonce, body));
    return client_->send(method, target,
                         {{"content-type", content_type},
                          {"x-tph-key", key_id_},
                          {"x-tph-timestamp", ts},
                          {"x-tph-nonce", nonce},
                          {"x-tph-signature", signature}},
                         body);
  }
  static json record(const std::string& id, const std::string& ref, const std::string& at,
                     double km) {
    return {{"provider_record_id", id}, {"subject_ref", ref}, {"methodology", "travel.metro"},
            {"occurred_at", at},        {"region", "440305"}, {"inputs", {{"distance_km", km}}}};
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::int64_t> ids_;
  std::string pseudonym_key_, key_id_, secret_;
};

TEST_F(IngestApiTest, FromBindingToCreditedAccountOverHttp) {
  // Alice asks to bind her metro card; the provider issues a code; she confirms.
  auto requested =
      call("POST", "/api/v1/bindings", R"({"provider":"sz-metro","reference":"SZT-42"})", "alice");
  ASSERT_EQ(requested.status, 201) << requested.body;
  auto binding_id = std::to_string(json::parse(requested.body)["id"].get<std::int64_t>());
  auto ref = json::parse(requested.body)["subject_ref"].get<std::string>();
  EXPECT_EQ(ref, hmacSha256Hex(pseudonym_key_, "SZT-42"));
  auto pending = json::parse(signedCall("GET", "/api/v1/provider/bindings", "").body);
  ASSERT_EQ(pending["bindings"].size(), 1u);
  EXPECT_EQ(signedCall("POST", "/api/v1/provider/bindings/" + binding_id + "/code",
                       R"({"code":"314159"})")
                .status,
            200);
  auto confirmed =
      call("POST", "/api/v1/bindings/" + binding_id + "/confirm", R"({"code":"314159"})", "alice");
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;

  // The provider sends a JSON array batch, then an NDJSON one.
  json batch = json::array({record("m1", ref, "2026-03-09T08:00:00+08:00", 10),
                            record("m2", ref, "2026-03-09T18:00:00+08:00", 12.5),
                            record("m3", ref, "2026-03-09T19:00:00+08:00", 999)});
  auto answer = signedCall("POST", "/api/v1/ingest/batches", batch.dump());
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto report = json::parse(answer.body);
  EXPECT_EQ(report["credited"], 2);
  EXPECT_EQ(report["quarantined"], 1);
  EXPECT_EQ(report["quarantined_records"][0]["provider_record_id"], "m3");
  EXPECT_EQ(report["quarantined_records"][0]["reason"], "invalid_inputs");
  std::string ndjson = record("m4", ref, "2026-03-08T08:00:00+08:00", 5).dump() + "\n{not json}\n" +
                       record("m1", ref, "2026-03-09T08:00:00+08:00", 10).dump() + "\n";
  auto second = json::parse(
      signedCall("POST", "/api/v1/ingest/batches", ndjson, "application/x-ndjson").body);
  EXPECT_EQ(second["credited"], 1);
  EXPECT_EQ(second["quarantined"], 1);
  EXPECT_EQ(second["duplicate"], 1);
  EXPECT_EQ(second["duplicates"][0]["first_outcome"], "credited");

  // Sessions cannot post batches; only signed provider requests can.
  EXPECT_EQ(call("POST", "/api/v1/ingest/batches", batch.dump(), "alice").status, 401);

  auto quarantined =
      json::parse(signedCall("GET", "/api/v1/ingest/records?status=quarantined", "").body);
  EXPECT_EQ(quarantined["records"].size(), 1u);

  // Alice's statement: 467 + 584 (12.5 km × 46.7 = 583.75) + 234 (5 × 46.7 = 233.5, half to even).
  auto me = json::parse(
      call("GET", "/api/v1/accounts/me?from=2026-03-01&to=2026-03-10", "", "alice").body);
  EXPECT_EQ(me["totals"]["grams"], 467 + 584 + 234);
  EXPECT_EQ(me["totals"]["by_domain"]["travel"], 467 + 584 + 234);
  EXPECT_EQ(me["totals"]["by_day"].size(), 2u);
  EXPECT_EQ(me["points"], 4 + 5 + 2);
  auto records = json::parse(call("GET", "/api/v1/accounts/me/records?limit=2", "", "alice").body);
  ASSERT_EQ(records["records"].size(), 2u);
  EXPECT_EQ(records["records"][0]["provider_record_id"], "m2");
  EXPECT_EQ(records["records"][0]["explanation"]["factors"][0]["ref"],
            "travel.metro.reduction_per_pkm");
}

TEST_F(IngestApiTest, ResidentsFindProvidersInThePublicDirectory) {
  auto answer = call("GET", "/api/v1/providers/directory");
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto providers = json::parse(answer.body)["providers"];
  ASSERT_EQ(providers.size(), 1u);
  EXPECT_EQ(providers[0]["key"], "sz-metro");
  EXPECT_EQ(providers[0]["methodologies"], json::array({"travel.metro"}));
  // Nothing a resident has no business with: no ids, users or pseudonymisation keys.
  EXPECT_FALSE(providers[0].contains("pseudonym_key"));
  EXPECT_FALSE(providers[0].contains("user_id"));
}

TEST_F(IngestApiTest, StatementWindowsAreDays) {
  auto bad = call("GET", "/api/v1/accounts/me?from=yesterday", "", "alice");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "from");
  auto backwards = call("GET", "/api/v1/accounts/me?from=2026-03-10&to=2026-03-01", "", "alice");
  EXPECT_EQ(backwards.status, 422);
  EXPECT_EQ(json::parse(backwards.body)["error"]["field"], "to");
  EXPECT_EQ(call("GET", "/api/v1/accounts/me?from=2026-03-01&to=2026-03-10", "", "alice").status,
            200);
}

TEST_F(IngestApiTest, BatchesAreCheckedAsAWhole) {
  EXPECT_EQ(signedCall("POST", "/api/v1/ingest/batches", "[{\"broken\"").status, 400);
  EXPECT_EQ(signedCall("POST", "/api/v1/ingest/batches", "   ").status, 400);
  auto unbound = json::parse(
      signedCall("POST", "/api/v1/ingest/batches",
                 json::array({record("x1", "someone", "2026-03-09T08:00:00+08:00", 3)}).dump())
          .body);
  EXPECT_EQ(unbound["held"], 1);
}

TEST_F(IngestApiTest, RegionAdminsReviewQuarantinedRecordsOfTheirRegion) {
  auto bad = record("q1", "someone", "2026-03-09T08:00:00+08:00", -4);
  auto future = record("q2", "someone", "2026-04-09T08:00:00+08:00", 3);
  auto report = json::parse(
      signedCall("POST", "/api/v1/ingest/batches", json::array({bad, future}).dump()).body);
  ASSERT_EQ(report["quarantined"], 2) << report.dump();
  auto all = call("GET", "/api/v1/ingest/quarantined", "", "sz_admin");
  ASSERT_EQ(all.status, 200) << all.body;
  auto records = json::parse(all.body)["records"];
  ASSERT_EQ(records.size(), 2u);
  std::set<std::string> reasons;  // stored as "code: message"
  for (const auto& r : records) {
    auto reason = r["reason"].get<std::string>();
    reasons.insert(reason.substr(0, reason.find(':')));
  }
  EXPECT_EQ(reasons, (std::set<std::string>{"invalid_inputs", "future"}));
  auto one = json::parse(
      call("GET", "/api/v1/ingest/quarantined?reason=future", "", "sz_admin").body)["records"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["provider_record_id"], "q2");
  auto bad_reason = call("GET", "/api/v1/ingest/quarantined?reason=DROP%20TABLE", "", "sz_admin");
  EXPECT_EQ(bad_reason.status, 422);
  EXPECT_EQ(json::parse(bad_reason.body)["error"]["field"], "reason");
  // Guangzhou's admin sees none of Shenzhen's; a resident may not look at all.
  auto gz = server_->auth().createUserAsSystem(
      "test", {"gz_admin", kPassword, "gz_admin", {{auth::Role::kRegionAdmin, "440100"}}}, false);
  ASSERT_TRUE(gz.ok());
  tokens_["gz_admin"] =
      json::parse(call("POST", "/api/v1/auth/login",
                       json{{"username", "gz_admin"}, {"password", kPassword}}.dump())
                      .body)
          .value("token", "");
  auto other = call("GET", "/api/v1/ingest/quarantined", "", "gz_admin");
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_TRUE(json::parse(other.body)["records"].empty());
  EXPECT_EQ(call("GET", "/api/v1/ingest/quarantined", "", "alice").status, 403);
}

TEST_F(IngestApiTest, HouseholdsOverHttp) {
  auto created =
      call("POST", "/api/v1/households", R"({"name":"陈家","region":"440305"})", "alice");
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = std::to_string(json::parse(created.body)["id"].get<std::int64_t>());
  EXPECT_EQ(
      call("POST", "/api/v1/households/" + id + "/members", R"({"username":"nobody"})", "alice")
          .status,
      404);
  auto statement = json::parse(call("GET", "/api/v1/accounts/" + id, "", "alice").body);
  EXPECT_EQ(statement["kind"], "household");
  EXPECT_EQ(statement["totals"]["household_shared_grams"], 0);
  EXPECT_EQ(call("GET", "/api/v1/accounts/" + id, "", "sz_admin").status, 404);
}

}  // namespace
}  // namespace tph::api
