// The methodology API over HTTP: catalogue, factors, quantify, proposals and the review lifecycle.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "core/crypto.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class MethodologyApiTest : public ::testing::Test {
 protected:
  MethodologyApiTest() : clock_(*parseIso8601("2026-03-01T02:00:00Z")) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    auto imported = server_->methodologies().importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok() && imported->issues.empty());
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"sz_admin", auth::Role::kRegionAdmin, "440300"},
                                      {"alice", auth::Role::kResident, ""}}) {
      EXPECT_TRUE(server_->auth()
                      .createUserAsSystem("test", {name, kPassword, name, {{role, region}}}, false)
                      .ok());
      auto r = call("POST", "/api/v1/auth/login",
                    json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
    }
  }
  ~MethodologyApiTest() override {
    client_.reset();
    server_->stop();
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& who = {}) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send(method, target, headers, body);
  }
  static json parse(const HttpResponse& r) { return json::parse(r.body); }

  std::string localBusDraft() {
    auto shipped = parse(call("GET", "/api/v1/methodologies/travel.bus"));
    std::string text = shipped["versions"][0]["definition_toml"];
    text.replace(text.find("version = 1"), 11, "version = 20");
    text.replace(text.find("scope = \"440000\""), 16, "scope = \"440300\"");
    return text;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(MethodologyApiTest, TheCatalogueIsPublicAndFilterable) {
  auto all = parse(call("GET", "/api/v1/methodologies"));
  EXPECT_EQ(all["methodologies"].size(), 18u);
  auto travel = parse(call("GET", "/api/v1/methodologies?domain=travel"));
  EXPECT_EQ(travel["methodologies"].size(), 5u);
  for (const auto& m : travel["methodologies"]) EXPECT_EQ(m["domain"], "travel");
  auto shenzhen = parse(call("GET", "/api/v1/methodologies?domain=travel&region=440305"));
  EXPECT_EQ(shenzhen["methodologies"].size(), 4u);  // not Guangzhou's metro_trip

  auto metro = parse(call("GET", "/api/v1/methodologies/travel.metro"));
  ASSERT_EQ(metro["versions"].size(), 1u);
  const auto& v = metro["versions"][0];
  EXPECT_EQ(v["definition"]["formula"], "distance_km * EF_metro");
  EXPECT_EQ(v["factors"][0]["value"], 46.7);
  EXPECT_FALSE(v["factors"][0]["source"].get<std::string>().empty());
  EXPECT_EQ(call("GET", "/api/v1/methodologies/travel.teleport").status, 404);

  auto factors = parse(call("GET", "/api/v1/emission-factors"))["factors"];
  EXPECT_GE(factors.size(), 18u);
  for (const auto& f : factors) EXPECT_FALSE(f["source"].get<std::string>().empty()) << f["key"];
}

TEST_F(MethodologyApiTest, QuantifyAnswersGramsPointsAndExplanation) {
  auto r = call("POST", "/api/v1/quantify",
                R"({"methodology":"travel.metro","inputs":{"distance_km":10}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = parse(r);
  EXPECT_EQ(body["grams"], 467);
  EXPECT_EQ(body["points"], 4);
  EXPECT_EQ(body["version"], 1);
  EXPECT_EQ(body["explanation"]["rounding"], "half to even, once");
  EXPECT_EQ(body["explanation"]["factors"][0]["ref"], "travel.metro.reduction_per_pkm");

  auto out_of_range = call("POST", "/api/v1/quantify",
                           R"({"methodology":"travel.metro","inputs":{"distance_km":9999}})");
  EXPECT_EQ(out_of_range.status, 422);
  EXPECT_EQ(parse(out_of_range)["error"]["field"], "inputs.distance_km");
  auto not_number = call("POST", "/api/v1/quantify",
                         R"({"methodology":"travel.metro","inputs":{"distance_km":"far"}})");
  EXPECT_EQ(parse(not_number)["error"]["field"], "inputs.distance_km");
  auto unknown =
      call("POST", "/api/v1/quantify", R"({"methodology":"travel.teleport","inputs":{}})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(call("POST", "/api/v1/quantify", R"({"methodology":)").status, 400);
  auto before = call(
      "POST", "/api/v1/quantify",
      R"({"methodology":"travel.metro","occurred_at":"2020-01-01T00:00:00Z","inputs":{"distance_km":1}})");
  EXPECT_EQ(before.status, 404);
  EXPECT_EQ(parse(before)["error"]["field"], "occurred_at");
}

TEST_F(MethodologyApiTest, AnyoneMayProposeButAnonymouslyOnlyWithAContact) {
  auto without =
      call("POST", "/api/v1/methodology-proposals",
           R"({"title":"Ferry trips","domain":"travel","description":"Pearl River ferries"})");
  EXPECT_EQ(without.status, 422);
  EXPECT_EQ(parse(without)["error"]["field"], "contact");
  auto with = call(
      "POST", "/api/v1/methodology-proposals",
      R"({"title":"Ferry trips","domain":"travel","description":"Pearl River ferries","contact":"a@b.cn"})");
  EXPECT_EQ(with.status, 201) << with.body;
  EXPECT_FALSE(parse(with).contains("contact"));
  auto signed_in = call(
      "POST", "/api/v1/methodology-proposals",
      R"({"title":"Induction cooking","domain":"electricity","description":"vs gas"})", "alice");
  EXPECT_EQ(signed_in.status, 201);
  auto listed = parse(call("GET", "/api/v1/methodology-proposals", "", "gd_admin"));
  ASSERT_EQ(listed["proposals"].size(), 2u);
  EXPECT_EQ(listed["proposals"][1]["contact"], "a@b.cn");
}

TEST_F(MethodologyApiTest, DraftReviewApproveActivateOverHttp) {
  json draft_body = {{"definition", localBusDraft()}};
  EXPECT_EQ(call("POST", "/api/v1/methodology-drafts", draft_body.dump(), "alice").status, 403);
  EXPECT_EQ(call("POST", "/api/v1/methodology-drafts", draft_body.dump()).status, 401);
  auto created = call("POST", "/api/v1/methodology-drafts", draft_body.dump(), "sz_admin");
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = std::to_string(parse(created)["row_id"].get<std::int64_t>());
  EXPECT_EQ(parse(created)["lint"].size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/methodology-versions/" + id).status,
            404);  // drafts are not public

  auto base = "/api/v1/methodology-versions/" + id;
  EXPECT_EQ(call("POST", base + "/submit", "", "sz_admin").status, 200);
  EXPECT_EQ(call("POST", base + "/review", "", "sz_admin").status, 403);
  EXPECT_EQ(call("POST", base + "/review", "", "gd_admin").status, 200);
  EXPECT_EQ(call("POST", base + "/comments", R"({"comment":"Looks right"})", "gd_admin").status,
            200);
  EXPECT_EQ(
      call("POST", base + "/activate", R"({"effective_from":"2026-04-01"})", "gd_admin").status,
      409);
  EXPECT_EQ(call("POST", base + "/approve", R"({"reason":"ok"})", "gd_admin").status, 200);
  auto bad_date = call("POST", base + "/activate", R"({"effective_from":"April"})", "gd_admin");
  EXPECT_EQ(parse(bad_date)["error"]["field"], "effective_from");
  auto active = call("POST", base + "/activate", R"({"effective_from":"2026-04-01"})", "gd_admin");
  ASSERT_EQ(active.status, 200) << active.body;
  EXPECT_EQ(parse(active)["state"], "active");
  EXPECT_EQ(call("GET", base).status, 200);

  auto q = call(
      "POST", "/api/v1/quantify",
      R"({"methodology":"travel.bus","region":"440305","occurred_at":"2026-04-02T09:00:00+08:00","inputs":{"distance_km":10}})");
  EXPECT_EQ(parse(q)["version"], 20);
}

TEST_F(MethodologyApiTest, LintRouteReportsLineAndField) {
  auto r = call("POST", "/api/v1/methodology-lint",
                json{{"definition", "id = \"x.y\"\nversion = 0\n"}}.dump());
  ASSERT_EQ(r.status, 200);
  auto body = parse(r);
  EXPECT_FALSE(body["ok"]);
  bool found = false;
  for (const auto& i : body["issues"]) found |= i["field"] == "version" && i["line"] == 2;
  EXPECT_TRUE(found) << r.body;
}

TEST(MethodologyCli, LintPassesTheLibraryAndNamesFileLineAndField) {
  std::string out;
  EXPECT_EQ(testing::runCli(std::string("methodology lint --data-dir ") + TPH_SOURCE_DIR "/data " +
                                TPH_SOURCE_DIR "/data/methodologies/*.toml",
                            &out),
            0)
      << out;
  EXPECT_NE(out.find("18 files ok"), std::string::npos) << out;
  auto broken = std::filesystem::temp_directory_path() / ("tph_broken_" + randomHex(4) + ".toml");
  std::ofstream(broken)
      << "id = \"travel.broken\"\nversion = 1\nname_zh = \"x\"\nname_en = \"x\"\n"
         "domain = \"travel\"\nsubjects = [\"person\"]\nscope = \"440000\"\n"
         "effective_from = \"2022-01-01\"\npoints_per_kg = 10\nformula = \"km * nothing\"\n"
         "[[inputs]]\nname = \"km\"\nunit = \"km\"\ntype = \"number\"\nmin = 5\nmax = 1\n"
         "description = \"x\"\n[[examples]]\ninputs = { km = 1 }\ngrams = 1\n";
  out.clear();
  EXPECT_EQ(testing::runCli(std::string("methodology lint --data-dir ") + TPH_SOURCE_DIR "/data " +
                                broken.string(),
                            &out),
            1);
  EXPECT_NE(out.find(broken.string() + ":15: inputs[0].min: min 5 is above max 1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("unknown variable 'nothing'"), std::string::npos) << out;
  std::filesystem::remove(broken);
}

TEST(MethodologyCli, QuantifyPrintsTheSameJson) {
  testing::TestDatabase t(false);
  std::string out;
  std::string db = "--db '" + t.url() + "' --data-dir " + TPH_SOURCE_DIR "/data";
  ASSERT_EQ(testing::runCli("migrate " + db, &out), 0) << out;
  out.clear();
  ASSERT_EQ(testing::runCli("quantify --db '" + t.url() +
                                "' --methodology travel.metro --at 2026-03-01T08:00:00+08:00 "
                                "--input '{\"distance_km\":10}'",
                            &out),
            0)
      << out;
  auto body = json::parse(out);
  EXPECT_EQ(body["grams"], 467);
  EXPECT_EQ(body["explanation"]["methodology"], "travel.metro");
  out.clear();
  EXPECT_EQ(testing::runCli(
                "quantify --db '" + t.url() + "' --methodology travel.metro --input 'nope'", &out),
            1);
  EXPECT_NE(out.find("input"), std::string::npos);
}

}  // namespace
}  // namespace tph::api
