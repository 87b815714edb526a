// The cities' yearly assessment over HTTP: the province sets the scheme (a 422 naming the field
// when weights miss 100) and the populations, is refused a computation while a city lacks one,
// computes and publishes; a city admin is refused the scheme and another city's detail; the
// published ranking is public without the figures, and the reports download as XLSX and PDF.

#include <gtest/gtest.h>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "region/region_service.h"
#include "regions_api_server.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;

using Server = testing_support::RegionsApiServer;

TEST(AssessmentApi, SchemeToPublishedRankingWithTheRefusalsOnTheWay) {
  ManualClock clock(*parseIso8601("2026-07-02T02:00:00Z"));
  Server s(clock);
  s.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  s.login("sz_admin", auth::Role::kRegionAdmin, "440300");

  json indicators = json::parse(R"([
    {"key": "pilot_status", "weight": 30, "rule": {"kind": "bands", "bands": [{"min": 1, "percent": 100}]}},
    {"key": "participants_per_10k", "weight": 60, "rule": {"kind": "linear", "floor": 0, "full": 2.5}}
  ])");
  auto refused = s.call("PUT", "/api/v1/assessment/schemes/2026", {{"indicators", indicators}},
                        "gd_admin", 422);
  EXPECT_EQ(refused["error"]["field"], "indicators");
  EXPECT_EQ(refused["error"]["message"], "weights must sum to 100, not 90");
  indicators[1]["rule"]["full"] = 2.5001;
  indicators[1]["weight"] = 70;
  refused = s.call("PUT", "/api/v1/assessment/schemes/2026", {{"indicators", indicators}},
                   "gd_admin", 422);
  EXPECT_EQ(refused["error"]["field"], "indicators[1].rule.full");
  indicators[1]["rule"]["full"] = 2.5;
  s.call("PUT", "/api/v1/assessment/schemes/2026", {{"indicators", indicators}}, "sz_admin", 403);
  s.call("PUT", "/api/v1/assessment/schemes/1999", {{"indicators", indicators}}, "gd_admin", 422);
  auto scheme = s.call("PUT", "/api/v1/assessment/schemes/2026", {{"indicators", indicators}},
                       "gd_admin", 200);
  EXPECT_EQ(scheme["indicators"], indicators);
  EXPECT_EQ(scheme["published"], false);

  // Without populations the computation names the first city that lacks one.
  auto missing = s.call("POST", "/api/v1/assessment/runs", {{"year", 2026}}, "gd_admin", 422);
  EXPECT_EQ(missing["error"]["field"], "populations.440100");
  s.call("POST", "/api/v1/assessment/runs", {{"year", "2026"}}, "gd_admin", 422);

  json populations = json::array();
  for (const auto& r : region::RegionService(s.t.db(), clock).list()) {
    if (r.level == "city") {
      populations.push_back({{"region", r.code}, {"residents", 1'000'000}, {"source", "统计公报"}});
    }
  }
  auto bad = populations;
  bad[3]["residents"] = -5;
  EXPECT_EQ(s.call("PUT", "/api/v1/assessment/populations/2026", {{"populations", bad}}, "gd_admin",
                   422)["error"]["field"],
            "populations[3].residents");
  auto saved = s.call("PUT", "/api/v1/assessment/populations/2026", {{"populations", populations}},
                      "gd_admin", 200);
  EXPECT_EQ(saved["populations"].size(), 21u);

  auto run = s.call("POST", "/api/v1/assessment/runs", {{"year", 2026}}, "gd_admin", 201);
  ASSERT_EQ(run["cities"].size(), 21u);
  EXPECT_EQ(run["period_until"], "2026-07-01");
  EXPECT_EQ(run["cities"][0]["rank"], 1);
  EXPECT_EQ(run["cities"][0]["results"][1]["source"]["query"], "ingest.reduction_totals");
  std::string id = std::to_string(run["id"].get<std::int64_t>());
  std::string target = "/api/v1/assessment/runs/" + id;

  // Before publication: only the province.
  s.call("GET", target, nullptr, "", 404);
  s.call("GET", target + "/cities/440300", nullptr, "sz_admin", 404);
  s.call("GET", target + "/report.pdf", nullptr, "", 404);
  s.call("POST", target + "/publish", nullptr, "sz_admin", 403);
  auto listed = s.call("GET", "/api/v1/assessment/runs?year=2026", nullptr, "gd_admin", 200);
  EXPECT_EQ(listed["runs"].size(), 1u);

  auto published = s.call("POST", target + "/publish", nullptr, "gd_admin", 200);
  EXPECT_EQ(published["state"], "published");
  s.call("POST", target + "/publish", nullptr, "gd_admin", 409);
  s.call("POST", "/api/v1/assessment/runs", {{"year", 2026}}, "gd_admin", 409);
  s.call("PUT", "/api/v1/assessment/schemes/2026", {{"indicators", indicators}}, "gd_admin", 409);

  auto own = s.call("GET", target + "/cities/440300", nullptr, "sz_admin", 200);
  EXPECT_EQ(own["region"], "440300");
  EXPECT_TRUE(own["results"][1].contains("source"));
  s.call("GET", target + "/cities/440100", nullptr, "sz_admin", 403);

  auto ranking = s.call("GET", "/api/v1/assessment/published/2026", nullptr, "", 200);
  EXPECT_EQ(ranking["id"], run["id"]);
  EXPECT_FALSE(ranking["cities"][0]["results"][0].contains("source"));
  EXPECT_FALSE(ranking.contains("populations"));
  s.call("GET", "/api/v1/assessment/published/2025", nullptr, "", 404);

  auto xlsx = s.raw("GET", target + "/report.xlsx", nullptr, "");
  EXPECT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
  EXPECT_EQ(xlsx.header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  auto pdf = s.raw("GET", target + "/report.pdf", nullptr, "");
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.body.substr(0, 4), "%PDF");

  auto catalogue = s.call("GET", "/api/v1/assessment/indicators", nullptr, "", 200);
  EXPECT_EQ(catalogue["indicators"].size(), 8u);
}

}  // namespace
}  // namespace tph::api
