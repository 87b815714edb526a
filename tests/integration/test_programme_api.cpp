// Low-carbon creation programmes over HTTP: the province publishes hotel criteria, a signed-in
// user applies for a hotel with text and PDF evidence, the county admin scores and awards, and the
// title appears on the public list with its coordinates; every step is refused to a role that may
// not take it (a county admin outside its county among them), and bad input is a 4xx naming the
// field.

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

// "%PDF-1.4\n(evidence)\n%%EOF\n" in base64.
constexpr const char* kPdfBase64 = "JVBERi0xLjQKKGV2aWRlbmNlKQolJUVPRgo=";

TEST(ProgrammeApi, CriteriaToPublicTitleWithTheRefusalsOnTheWay) {
  ManualClock clock(*parseIso8601("2026-06-01T02:00:00Z"));
  Server s(clock);
  s.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  s.login("boluo", auth::Role::kRegionAdmin, "441322");
  s.login("huidong", auth::Role::kRegionAdmin, "441323");
  s.login("manager", auth::Role::kResident, "");

  json criteria = {{"type", "hotel"},
                   {"name", "低碳酒店评价指标"},
                   {"pass_mark", 60},
                   {"validity_months", 36},
                   {"indicators",
                    {{{"key", "energy"},
                      {"name", "能源管理"},
                      {"description", "单位面积能耗"},
                      {"weight_percent", 60},
                      {"max_score", 10},
                      {"min_score", 5}},
                     {{"key", "waste"},
                      {"name", "减废"},
                      {"weight_percent", 40},
                      {"max_score", 10},
                      {"min_score", 0}}}}};
  s.call("POST", "/api/v1/programmes/criteria", criteria, "", 401);
  s.call("POST", "/api/v1/programmes/criteria", criteria, "boluo", 403);
  auto uneven = criteria;
  uneven["indicators"][1]["weight_percent"] = 30;
  EXPECT_EQ(
      s.call("POST", "/api/v1/programmes/criteria", uneven, "gd_admin", 422)["error"]["field"],
      "indicators");
  auto draft = s.call("POST", "/api/v1/programmes/criteria", criteria, "gd_admin", 201);
  EXPECT_EQ(draft["version"], 1);
  std::string set = "/api/v1/programmes/criteria/" + std::to_string(draft["id"].get<int>());
  s.call("GET", set, nullptr, "", 404);  // a draft is the province's
  s.call("POST", set + "/publish", nullptr, "boluo", 403);
  auto published = s.call("POST", set + "/publish", nullptr, "gd_admin", 200);
  EXPECT_EQ(published["state"], "published");
  s.call("PUT", set, criteria, "gd_admin", 409);
  auto listed = s.call("GET", "/api/v1/programmes/criteria?type=hotel", nullptr, "", 200);
  ASSERT_EQ(listed["criteria"].size(), 1u);
  EXPECT_EQ(listed["criteria"][0]["indicators"][0]["min_score"], 5);

  json entity = {{"type", "hotel"},
                 {"entity_name", "罗浮山温泉酒店"},
                 {"entity_type", "酒店"},
                 {"region", "441322"},
                 {"address", "博罗县长宁镇"},
                 {"lon", 114.06},
                 {"lat", 23.27},
                 {"contact", "王经理"},
                 {"evidence", {{"energy", "能源审计报告摘要"}}}};
  s.call("POST", "/api/v1/programmes/applications", entity, "", 401);
  auto far = entity;
  far["lon"] = 121.47;  // Shanghai
  EXPECT_EQ(
      s.call("POST", "/api/v1/programmes/applications", far, "manager", 422)["error"]["field"],
      "lon");
  auto app = s.call("POST", "/api/v1/programmes/applications", entity, "manager", 201);
  EXPECT_EQ(app["state"], "draft");
  EXPECT_EQ(app["criteria_version"], 1);
  std::string base = "/api/v1/programmes/applications/" + std::to_string(app["id"].get<int>());
  EXPECT_EQ(s.call("POST", base + "/submit", nullptr, "manager", 422)["error"]["field"],
            "evidence.waste");
  EXPECT_EQ(s.call("POST", base + "/attachments",
                   {{"indicator", "waste"}, {"name", "waste.pdf"}, {"content_base64", "aGVsbG8="}},
                   "manager", 422)["error"]["field"],
            "content_base64");
  auto file =
      s.call("POST", base + "/attachments",
             {{"indicator", "waste"}, {"name", "waste.pdf"}, {"content_base64", kPdfBase64}},
             "manager", 201);
  s.call("POST", base + "/submit", nullptr, "huidong", 403);
  auto submitted = s.call("POST", base + "/submit", nullptr, "manager", 200);
  EXPECT_EQ(submitted["state"], "submitted");

  // The county admin reads it and its PDF; the neighbouring county does not.
  s.call("GET", base, nullptr, "huidong", 404);
  auto pdf = s.raw("GET", base + "/attachments/" + std::to_string(file["id"].get<int>()), nullptr,
                   "boluo");
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  auto mine =
      s.call("GET", "/api/v1/programmes/applications?state=submitted", nullptr, "boluo", 200);
  EXPECT_EQ(mine["applications"].size(), 1u);
  EXPECT_EQ(
      s.call("GET", "/api/v1/programmes/applications", nullptr, "huidong", 200)["applications"]
          .size(),
      0u);

  json scores = {{"scores", {{"energy", 8}, {"waste", 6}}}, {"comment", "节能改造到位"}};
  EXPECT_EQ(s.call("POST", base + "/scores", scores, "huidong", 403)["error"]["code"], "forbidden");
  s.call("POST", base + "/scores", scores, "manager", 403);
  EXPECT_EQ(s.call("POST", base + "/scores", {{"scores", {{"energy", 8}}}}, "boluo",
                   422)["error"]["field"],
            "scores.waste");
  auto scored = s.call("POST", base + "/scores", scores, "boluo", 200);
  EXPECT_EQ(scored["assessment"]["total_milli"], 72'000);  // 8/10×60 + 6/10×40
  EXPECT_EQ(scored["assessment"]["passed"], true);
  s.call("POST", base + "/award", nullptr, "huidong", 403);
  auto awarded = s.call("POST", base + "/award", nullptr, "boluo", 200);
  EXPECT_EQ(awarded["state"], "awarded");

  auto titles =
      s.call("GET", "/api/v1/programmes/titles?type=hotel&region=441300", nullptr, "", 200);
  ASSERT_EQ(titles["total"], 1);
  const auto& title = titles["titles"][0];
  EXPECT_EQ(title["entity_name"], "罗浮山温泉酒店");
  EXPECT_EQ(title["awarded_on"], "2026-06-01");
  EXPECT_EQ(title["valid_until"], "2029-05-31");
  EXPECT_EQ(title["status"], "valid");
  EXPECT_DOUBLE_EQ(title["lon"].get<double>(), 114.06);
  EXPECT_DOUBLE_EQ(title["lat"].get<double>(), 23.27);
  EXPECT_EQ(title.count("contact"), 0u);  // the contact stays private
  EXPECT_EQ(s.call("GET", "/api/v1/programmes/titles?region=441323", nullptr, "", 200)["total"], 0);
  EXPECT_EQ(
      s.call("GET", "/api/v1/programmes/titles?type=factory", nullptr, "", 422)["error"]["field"],
      "type");

  std::string revoke =
      "/api/v1/programmes/titles/" + std::to_string(title["id"].get<int>()) + "/revoke";
  s.call("POST", revoke, {{"reason", "x"}}, "huidong", 403);
  s.call("POST", revoke, {{"reason", "x"}}, "manager", 403);
  EXPECT_EQ(s.call("POST", revoke, json::object(), "boluo", 422)["error"]["field"], "reason");
  auto revoked = s.call("POST", revoke, {{"reason", "监测数据不实"}}, "boluo", 200);
  EXPECT_EQ(revoked["status"], "revoked");
  EXPECT_EQ(s.call("GET", "/api/v1/programmes/titles?status=revoked", nullptr, "", 200)["total"],
            1);
}

}  // namespace
}  // namespace tph::api
