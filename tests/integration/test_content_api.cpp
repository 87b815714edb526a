// Content over HTTP: editors draft, review and publish with wrong roles refused; every bad field
// answers 4xx naming it; cover uploads refuse a non-image named .png and an oversize file, and
// the stored sizes are served with cache headers.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

std::string pngBytes(int width, int height) {
  if (VIPS_INIT("test") != 0) throw std::runtime_error("vips");
  VipsImage* image = nullptr;
  EXPECT_EQ(vips_black(&image, width, height, "bands", 3, NULL), 0);
  void* buffer = nullptr;
  std::size_t length = 0;
  EXPECT_EQ(vips_image_write_to_buffer(image, ".png", &buffer, &length, NULL), 0);
  std::string bytes(static_cast<const char*>(buffer), length);
  g_free(buffer);
  g_object_unref(image);
  return bytes;
}

class ContentApiTest : public ::testing::Test {
 protected:
  ContentApiTest() : clock_(testing::testEpoch()) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    login("sz_editor", auth::Role::kEditor, "440300");
    login("gd_editor", auth::Role::kEditor, "440000");
    login("gz_editor", auth::Role::kEditor, "440100");
    login("citizen", auth::Role::kResident, "");
  }
  ~ContentApiTest() override {
    client_.reset();
    server_->stop();
  }

  void login(const std::string& name, auth::Role role, const std::string& region) {
    auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                false);
    ASSERT_TRUE(u.ok()) << u.error().message;
    auto r = client_->send("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                           json{{"username", name}, {"password", kPassword}}.dump());
    tokens_[name] = json::parse(r.body).value("token", "");
  }

  HttpResponse raw(const std::string& method, const std::string& target, const std::string& who,
                   const std::string& content_type, const std::string& body) {
    HttpHeaders headers;
    if (!content_type.empty()) headers.emplace_back("content-type", content_type);
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send(method, target, headers, body);
  }

  json call(const std::string& method, const std::string& target, const json& body,
            const std::string& who, int expected_status) {
    auto r = raw(method, target, who, "application/json", body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(ContentApiTest, EditorialFlowOverHttp) {
  json article = {{"kind", "technology"},
                  {"region", "440300"},
                  {"slug", "rooftop-pv"},
                  {"title_zh", "屋顶光伏"},
                  {"body_zh", "[点我](javascript:alert(1)) <img src=x onerror=alert(1)> **发电**"},
                  {"tags", {"光伏"}}};
  call("POST", "/api/v1/content/articles", article, "", 401);
  call("POST", "/api/v1/content/articles", article, "citizen", 403);
  call("POST", "/api/v1/content/articles", article, "gz_editor", 403);
  auto bad = article;
  bad["kind"] = "blog";
  EXPECT_EQ(call("POST", "/api/v1/content/articles", bad, "sz_editor", 422)["error"]["field"],
            "kind");
  bad = article;
  bad.erase("title_zh");
  EXPECT_EQ(call("POST", "/api/v1/content/articles", bad, "sz_editor", 422)["error"]["field"],
            "title_zh");
  auto created = call("POST", "/api/v1/content/articles", article, "sz_editor", 201);
  ASSERT_TRUE(created.contains("id")) << created.dump();
  std::string id = std::to_string(created["id"].get<std::int64_t>());
  EXPECT_EQ(created["state"], "draft");
  auto html = created["body_html_zh"].get<std::string>();
  EXPECT_EQ(html.find("javascript"), std::string::npos) << html;
  EXPECT_EQ(html.find("onerror"), std::string::npos) << html;
  EXPECT_NE(html.find("<strong>发电</strong>"), std::string::npos) << html;

  call("GET", "/api/v1/content/articles/rooftop-pv", nullptr, "", 404);
  call("POST", "/api/v1/content/articles/" + id + "/submit", nullptr, "sz_editor", 200);
  call("POST", "/api/v1/content/articles/" + id + "/review", {{"approve", true}}, "sz_editor",
       403);  // the author
  EXPECT_EQ(call("POST", "/api/v1/content/articles/" + id + "/review", {{"approve", "yes"}},
                 "gd_editor", 422)["error"]["field"],
            "approve");
  auto queue = call("GET", "/api/v1/content/editorial?state=in_review", nullptr, "gd_editor", 200);
  EXPECT_EQ(queue["articles"].size(), 1u);
  call("GET", "/api/v1/content/editorial?state=in_review", nullptr, "citizen", 403);
  auto published = call("POST", "/api/v1/content/articles/" + id + "/review",
                        {{"approve", true}, {"comment", "好"}}, "gd_editor", 200);
  EXPECT_EQ(published["state"], "published");

  auto shown = call("GET", "/api/v1/content/articles/rooftop-pv", nullptr, "", 200);
  EXPECT_EQ(shown["title_zh"], "屋顶光伏");
  EXPECT_FALSE(shown.contains("author"));  // the public view names no staff
  auto listed =
      call("GET", "/api/v1/content/articles?kind=technology&region=440305", nullptr, "", 200);
  EXPECT_EQ(listed["articles"].size(), 0u);  // Nanshan lies within Shenzhen, not the reverse
  listed = call("GET", "/api/v1/content/articles?kind=technology&region=440000", nullptr, "", 200);
  EXPECT_EQ(listed["articles"].size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/content/articles?limit=x", nullptr, "", 422)["error"]["field"],
            "limit");
  call("POST", "/api/v1/content/articles/" + id + "/archive", nullptr, "gz_editor", 403);
  call("POST", "/api/v1/content/articles/" + id + "/archive", nullptr, "sz_editor", 200);
  call("GET", "/api/v1/content/articles/rooftop-pv", nullptr, "", 404);
}

TEST_F(ContentApiTest, CoverUploadRefusesNonImagesAndOversizeFilesAndServesTheSizes) {
  auto created = call("POST", "/api/v1/content/articles",
                      {{"kind", "product"},
                       {"region", "440300"},
                       {"title_zh", "节能空调"},
                       {"body_zh", "一级能效"}},
                      "sz_editor", 201);
  std::string target =
      "/api/v1/content/articles/" + std::to_string(created["id"].get<std::int64_t>()) + "/cover";
  // A text file renamed cover.png and sent as image/png.
  auto fake = raw("PUT", target, "sz_editor", "image/png", "This is not a picture.\n");
  EXPECT_EQ(fake.status, 422) << fake.body;
  EXPECT_EQ(json::parse(fake.body)["error"]["field"], "body");
  // Over 5 MiB (but under the server's body limit): 413.
  std::string big = pngBytes(32, 32);
  big.resize(5 * 1024 * 1024 + 1, '\0');
  auto oversize = raw("PUT", target, "sz_editor", "image/png", big);
  EXPECT_EQ(oversize.status, 413) << oversize.body;
  EXPECT_EQ(raw("PUT", target, "gz_editor", "image/png", pngBytes(32, 32)).status, 403);

  auto ok = raw("PUT", target, "sz_editor", "image/png", pngBytes(2000, 1000));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto cover = json::parse(ok.body)["cover"];
  std::string large = cover["1200"], small = cover["400"];
  auto file = raw("GET", large, "", "", "");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "image/jpeg");
  EXPECT_EQ(file.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(file.body.substr(0, 3), "\xff\xd8\xff");
  HttpHeaders conditional = {{"if-none-match", std::string(file.header("etag"))}};
  EXPECT_EQ(client_->send("GET", large, conditional, "").status, 304);
  EXPECT_EQ(raw("GET", small, "", "", "").status, 200);
  EXPECT_EQ(raw("GET", "/media/covers/nothing.jpg", "", "", "").status, 404);
}

TEST_F(ContentApiTest, CatalogueExportsThePriorityProcurementList) {
  json pump = {
      {"kind", "product"},
      {"name_zh", "空气源热泵热水器"},
      {"maker", "某电器有限公司"},
      {"category", "home_appliance"},
      {"region", "440300"},
      {"certification",
       {{"body", "中国质量认证中心"},
        {"certificate", "CQC-LC-2026-0001"},
        {"valid_until", "2027-12-31"}}},
      {"footprint", {{"grams_per_unit", 412000000}, {"unit", "台"}, {"source", "EPD 2025-117"}}}};
  call("POST", "/api/v1/content/catalogue", pump, "citizen", 403);
  auto bad = pump;
  bad["footprint"]["unit"] = "";
  EXPECT_EQ(call("POST", "/api/v1/content/catalogue", bad, "sz_editor", 422)["error"]["field"],
            "footprint.unit");
  auto listed = call("POST", "/api/v1/content/catalogue", pump, "sz_editor", 201);
  EXPECT_EQ(listed["certified"], true);
  json tech = {{"kind", "technology"},
               {"name_zh", "园区储能调峰"},
               {"maker", "某储能科技"},
               {"category", "energy_storage"},
               {"region", "440100"}};
  call("POST", "/api/v1/content/catalogue", tech, "gz_editor", 201);

  auto certified = call("GET", "/api/v1/content/catalogue?certified=true", nullptr, "", 200);
  ASSERT_EQ(certified["entries"].size(), 1u);
  EXPECT_EQ(certified["entries"][0]["footprint"]["grams_per_unit"], 412000000);
  EXPECT_EQ(
      call("GET", "/api/v1/content/catalogue?region=440100", nullptr, "", 200)["entries"].size(),
      1u);
  EXPECT_EQ(
      call("GET", "/api/v1/content/catalogue?certified=maybe", nullptr, "", 422)["error"]["field"],
      "certified");
  auto csv = raw("GET", "/api/v1/content/catalogue?format=csv", "", "", "");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find("CQC-LC-2026-0001"), std::string::npos);
  EXPECT_NE(csv.body.find("412000000"), std::string::npos);
  EXPECT_LT(csv.body.find("空气源热泵热水器"), csv.body.find("园区储能调峰"));  // certified first
  auto xlsx = raw("GET", "/api/v1/content/catalogue?format=xlsx&kind=product", "", "", "");
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");  // a zip container
}

TEST_F(ContentApiTest, FeedsSitemapShareAndExportServePublishedArticles) {
  auto created = call("POST", "/api/v1/content/articles",
                      {{"kind", "news"},
                       {"region", "440300"},
                       {"slug", "metro-week"},
                       {"title_zh", "绿色出行周 <启动>"},
                       {"body_zh", "## 活动\n\n乘坐地铁即可获得积分。"}},
                      "sz_editor", 201);
  std::string id = std::to_string(created["id"].get<std::int64_t>());
  call("GET", "/api/v1/content/articles/metro-week/og", nullptr, "", 404);  // not yet published
  call("POST", "/api/v1/content/articles/" + id + "/submit", nullptr, "sz_editor", 200);
  call("POST", "/api/v1/content/articles/" + id + "/review", {{"approve", true}}, "gd_editor", 200);

  auto rss = raw("GET", "/api/v1/content/feeds/rss?kind=news&region=440300", "", "", "");
  ASSERT_EQ(rss.status, 200);
  EXPECT_EQ(rss.header("content-type"), "application/rss+xml; charset=utf-8");
  EXPECT_NE(rss.body.find("<title>绿色出行周 &lt;启动&gt;</title>"), std::string::npos) << rss.body;
  EXPECT_NE(rss.body.find("<link>http://127.0.0.1:8080/articles/metro-week</link>"),
            std::string::npos);
  auto other = raw("GET", "/api/v1/content/feeds/atom?region=440100", "", "", "");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(other.body.find("metro-week"), std::string::npos);  // Guangzhou's feed
  EXPECT_EQ(raw("GET", "/api/v1/content/feeds/rss?kind=blog", "", "", "").status, 422);
  auto sitemap = raw("GET", "/sitemap.xml", "", "", "");
  EXPECT_NE(sitemap.body.find("<loc>http://127.0.0.1:8080/articles/metro-week</loc>"),
            std::string::npos);
  auto og = call("GET", "/api/v1/content/articles/metro-week/og", nullptr, "", 200);
  EXPECT_EQ(og["og:title"], "绿色出行周 <启动>");
  EXPECT_NE(og["meta_html"].get<std::string>().find("&lt;启动&gt;"), std::string::npos);
  auto share = raw("GET", "/share/articles/metro-week", "", "", "");
  EXPECT_EQ(share.status, 200);
  EXPECT_NE(share.body.find("<meta property=\"og:url\""), std::string::npos);
  auto exported = raw("GET", "/api/v1/content/articles/" + id + "/export", "", "", "");
  ASSERT_EQ(exported.status, 200);
  EXPECT_NE(exported.header("content-disposition").find("metro-week.html"), std::string::npos);
  EXPECT_NE(exported.body.find("<h2 style=\""), std::string::npos);
}

TEST_F(ContentApiTest, IdeasAreModeratedSupportedOnceAndKeepTheirContactPrivate) {
  login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  call("POST", "/api/v1/content/ideas/topics", {{"title_zh", "题"}, {"description_zh", "说明"}},
       "sz_editor", 403);
  auto topic =
      call("POST", "/api/v1/content/ideas/topics",
           {{"title_zh", "绿色出行金点子"}, {"description_zh", "欢迎建言"}}, "gd_admin", 201);
  std::string ideas =
      "/api/v1/content/ideas/topics/" + std::to_string(topic["id"].get<std::int64_t>()) + "/ideas";
  EXPECT_EQ(call("POST", ideas, {{"title", "共享雨伞"}, {"body", "建议"}, {"display_name", "陈"}},
                 "", 422)["error"]["field"],
            "contact");
  auto posted = call("POST", ideas,
                     {{"title", "共享雨伞"},
                      {"body", "建议在地铁站设置共享雨伞"},
                      {"display_name", "陈女士"},
                      {"contact", "13800138000"}},
                     "", 201);
  EXPECT_FALSE(posted.contains("contact"));
  std::string idea = "/api/v1/content/ideas/" + std::to_string(posted["id"].get<std::int64_t>());
  EXPECT_EQ(call("GET", ideas, nullptr, "", 200)["ideas"].size(), 0u);
  call("GET", "/api/v1/content/ideas/pending", nullptr, "citizen", 403);
  auto pending = call("GET", "/api/v1/content/ideas/pending", nullptr, "gd_editor", 200);
  ASSERT_EQ(pending["ideas"].size(), 1u);
  EXPECT_EQ(pending["ideas"][0]["contact"], "13800138000");
  call("POST", idea + "/moderate", {{"approve", true}}, "sz_editor", 403);  // a city editor
  call("POST", idea + "/moderate", {{"approve", true}}, "gd_editor", 200);
  call("POST", idea + "/support", nullptr, "", 401);
  EXPECT_EQ(call("POST", idea + "/support", nullptr, "citizen", 200)["supports"], 1);
  call("POST", idea + "/support", nullptr, "citizen", 409);
  auto shown = call("GET", ideas, nullptr, "", 200);
  ASSERT_EQ(shown["ideas"].size(), 1u);
  EXPECT_EQ(shown["ideas"][0]["supports"], 1);
  EXPECT_FALSE(shown["ideas"][0].contains("contact"));
  EXPECT_EQ(shown.dump().find("13800138000"), std::string::npos);
  call("POST", idea + "/adopt", {{"note", "采纳"}}, "gd_editor", 403);
  auto adopted = call("POST", idea + "/adopt",
                      {{"note", "已纳入政策修订"},
                       {"links", {{{"kind", "policy"}, {"title", "碳普惠管理办法（修订）"}}}}},
                      "gd_admin", 200);
  EXPECT_EQ(adopted["state"], "adopted");
  EXPECT_EQ(adopted["links"][0]["kind"], "policy");
}

}  // namespace
}  // namespace tph::api
