// Stats over HTTP: totals, series, top, participation and open data answer what ingest credited;
// CSV and XLSX downloads carry their content types; the public is refused counties and industries
// (403 naming the field) and sees small city figures withheld; bad parameters answer 422 naming
// the field (docs/api.md: `invalid`). Reductions go through the real ingest path
// (tests/support/credited_reductions.h).

#include <gtest/gtest.h>

#include "analytics/analytics_service.h"
#include "analytics/rollup_deltas.h"
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
constexpr int kGuangzhouSubjects = 12;  // at least the public threshold of 10
constexpr int kShenzhenSubjects = 3;    // fewer: withheld from the public

class StatsApiTest : public ::testing::Test {
 protected:
  StatsApiTest() : clock_(*parseIso8601("2026-03-10T04:00:00Z")), methodologies_(t_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
    auto imported = methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok());
    testing::CreditedReductions credit(t_.db(), clock_, methodologies_);
    // Guangzhou's Tianhe district: tree planting by 12 enterprises on 1 March.
    for (int i = 0; i < kGuangzhouSubjects; ++i)
      gz_grams_ += credit.trees("440106", "2026-03-01", 2, 1);
    // Shenzhen's Nanshan district: SME electricity saving by 3 on 2 March, one of them in C26.
    for (int i = 0; i < kShenzhenSubjects; ++i)
      sz_grams_ += credit.saving("440305", "2026-03-02", 1000, 900);
    // As CarbonAccountService::setIndustry does: the account's industry and its rollup cells.
    EXPECT_TRUE(t_.db().transaction([&](soci::session& sql) -> Status {
      sql << "UPDATE carbon_accounts SET industry_section = 'C', industry_division = '26' WHERE "
             "id = " +
                 std::to_string(credit.lastAccount());
      analytics::moveIndustryCells(sql, credit.lastAccount(), "", "", "C", "26");
      return {};
    }));
    auto check = analytics::AnalyticsService(t_.db()).check();
    EXPECT_TRUE(check.ok() && check->consistent) << (check.ok() ? check->first_difference : "");

    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    login("gd_admin", auth::Role::kProvinceAdmin, "440000");
    login("sz_admin", auth::Role::kRegionAdmin, "440300");
    login("citizen", auth::Role::kResident, "");
  }
  ~StatsApiTest() override {
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

  HttpResponse raw(const std::string& target, const std::string& who = "") {
    HttpHeaders headers;
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send("GET", target, headers, "");
  }

  json get(const std::string& target, int expected_status, const std::string& who = "") {
    auto r = raw(target, who);
    EXPECT_EQ(r.status, expected_status) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  //! Expects a 4xx JSON error naming `field`.
  void expectError(const std::string& target, int status, const std::string& field,
                   const std::string& who = "") {
    auto body = get(target, status, who);
    EXPECT_EQ(body["error"]["field"], field) << target << ": " << body.dump();
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty()) << target;
  }

  static std::string header(const HttpResponse& r, const std::string& name) {
    return std::string(r.header(name));
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  std::int64_t gz_grams_ = 0, sz_grams_ = 0;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
};

const std::string kMarch = "from=2026-03-01&to=2026-03-31";

TEST_F(StatsApiTest, TotalsSumWhatWasCreditedAndWithholdSmallCitiesFromThePublic) {
  auto province = get("/api/v1/stats/totals?" + kMarch, 200);
  EXPECT_EQ(province["records"], kGuangzhouSubjects + kShenzhenSubjects);
  EXPECT_EQ(province["grams"], gz_grams_ + sz_grams_);
  EXPECT_EQ(province["subject_days"], kGuangzhouSubjects + kShenzhenSubjects);
  EXPECT_EQ(province["suppressed"], false);

  auto guangzhou = get("/api/v1/stats/totals?" + kMarch + "&region=440100", 200);
  EXPECT_EQ(guangzhou["grams"], gz_grams_);
  EXPECT_EQ(guangzhou["suppressed"], false);

  // Three enterprises in Shenzhen: the public sees that figures exist, not what they are.
  auto shenzhen = get("/api/v1/stats/totals?" + kMarch + "&region=440300", 200);
  EXPECT_EQ(shenzhen["suppressed"], true);
  EXPECT_TRUE(shenzhen["grams"].is_null());
  EXPECT_TRUE(shenzhen["records"].is_null());
  EXPECT_TRUE(shenzhen["subject_days"].is_null());
  // A signed-in resident is the public too; the region's admin and the province see it.
  EXPECT_EQ(get("/api/v1/stats/totals?" + kMarch + "&region=440300", 200, "citizen")["suppressed"],
            true);
  for (const char* who : {"sz_admin", "gd_admin"}) {
    auto seen = get("/api/v1/stats/totals?" + kMarch + "&region=440300", 200, who);
    EXPECT_EQ(seen["grams"], sz_grams_) << who;
    EXPECT_EQ(seen["suppressed"], false) << who;
  }
  // A county, for its admin.
  auto nanshan = get("/api/v1/stats/totals?" + kMarch + "&region=440305", 200, "sz_admin");
  EXPECT_EQ(nanshan["records"], kShenzhenSubjects);
  // An unaligned span reads the daily rollups and agrees with the monthly one.
  auto days = get("/api/v1/stats/totals?from=2026-02-27&to=2026-03-05", 200);
  EXPECT_EQ(days["grams"], province["grams"]);
  EXPECT_EQ(days["records"], province["records"]);
}

TEST_F(StatsApiTest, SeriesAgreeAcrossIntervalsAndWithholdSmallCityPoints) {
  auto by_day = get("/api/v1/stats/series?" + kMarch + "&interval=day", 200)["series"];
  ASSERT_EQ(by_day.size(), 2u);
  EXPECT_EQ(by_day[0]["bucket"], "2026-03-01");
  EXPECT_EQ(by_day[0]["grams"], gz_grams_);
  EXPECT_EQ(by_day[1]["bucket"], "2026-03-02");
  EXPECT_EQ(by_day[1]["grams"], sz_grams_);
  // 1 March 2026 is a Sunday (ISO week 9), 2 March a Monday (week 10).
  auto by_week = get("/api/v1/stats/series?" + kMarch + "&interval=week", 200)["series"];
  ASSERT_EQ(by_week.size(), 2u);
  EXPECT_EQ(by_week[0]["bucket"], "2026-W09");
  EXPECT_EQ(by_week[1]["bucket"], "2026-W10");
  auto by_month = get("/api/v1/stats/series?" + kMarch + "&interval=month", 200)["series"];
  ASSERT_EQ(by_month.size(), 1u);
  EXPECT_EQ(by_month[0]["bucket"], "2026-03");
  EXPECT_EQ(by_month[0]["grams"], gz_grams_ + sz_grams_);
  auto by_year = get("/api/v1/stats/series?from=2026-01-01&to=2026-12-31&interval=year", 200);
  ASSERT_EQ(by_year["series"].size(), 1u);
  EXPECT_EQ(by_year["series"][0]["bucket"], "2026");
  EXPECT_EQ(by_year["series"][0]["records"], kGuangzhouSubjects + kShenzhenSubjects);

  auto shenzhen = get("/api/v1/stats/series?" + kMarch + "&interval=day&region=440300", 200);
  ASSERT_EQ(shenzhen["series"].size(), 1u);
  EXPECT_EQ(shenzhen["series"][0]["suppressed"], true);
  EXPECT_TRUE(shenzhen["series"][0]["grams"].is_null());
  auto for_admin =
      get("/api/v1/stats/series?" + kMarch + "&interval=day&region=440300", 200, "sz_admin");
  EXPECT_EQ(for_admin["series"][0]["grams"], sz_grams_);
}

TEST_F(StatsApiTest, TopRanksCitiesWithWithheldOnesLastAndCountiesForConsoles) {
  auto cities = get("/api/v1/stats/top?" + kMarch + "&by=region", 200)["rows"];
  ASSERT_EQ(cities.size(), 2u);
  EXPECT_EQ(cities[0]["key"], "440100");
  EXPECT_EQ(cities[0]["name"], "广州市");
  EXPECT_EQ(cities[0]["grams"], gz_grams_);
  EXPECT_EQ(cities[1]["key"], "440300");
  EXPECT_EQ(cities[1]["suppressed"], true);

  auto counties = get("/api/v1/stats/top?" + kMarch + "&by=region&region=440300", 200, "sz_admin");
  ASSERT_EQ(counties["rows"].size(), 1u);
  EXPECT_EQ(counties["rows"][0]["key"], "440305");
  EXPECT_EQ(counties["rows"][0]["grams"], sz_grams_);

  auto methodologies = get("/api/v1/stats/top?" + kMarch + "&by=methodology&n=5", 200)["rows"];
  ASSERT_EQ(methodologies.size(), 2u);
  EXPECT_EQ(methodologies[0]["key"],
            gz_grams_ > sz_grams_ ? "sink.tree_planting" : "electricity.sme_saving");
  auto domains = get("/api/v1/stats/top?" + kMarch + "&by=domain", 200)["rows"];
  EXPECT_EQ(domains.size(), 2u);

  auto industries = get("/api/v1/stats/top?" + kMarch + "&by=industry", 200, "gd_admin")["rows"];
  std::map<std::string, std::int64_t> records;
  for (const auto& r : industries) records[r["key"]] = r["records"];
  EXPECT_EQ(records["C26"], 1);
  EXPECT_EQ(records["unclassified"], kGuangzhouSubjects + kShenzhenSubjects - 1);
  auto c26 = get("/api/v1/stats/totals?" + kMarch + "&industry=C26", 200, "gd_admin");
  EXPECT_EQ(c26["records"], 1);
}

TEST_F(StatsApiTest, ParticipationCountsNewSubjectsPerDayAndMonth) {
  auto days = get("/api/v1/stats/participation?" + kMarch + "&interval=day", 200)["participation"];
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0]["period"], "2026-03-01");
  EXPECT_EQ(days[0]["subjects"], kGuangzhouSubjects);
  EXPECT_EQ(days[0]["new"], kGuangzhouSubjects);
  EXPECT_EQ(days[1]["returning"], 0);
  auto months =
      get("/api/v1/stats/participation?" + kMarch + "&interval=month", 200)["participation"];
  ASSERT_EQ(months.size(), 1u);
  EXPECT_EQ(months[0]["subjects"], kGuangzhouSubjects + kShenzhenSubjects);
}

TEST_F(StatsApiTest, OpenDataSuppressesSmallCellsAndStatesItsLicence) {
  auto body = get("/api/v1/stats/open-data?" + kMarch, 200);
  EXPECT_EQ(body["licence"]["name"], "CC BY 4.0");
  EXPECT_EQ(body["suppression"]["min_subjects"], 10);
  ASSERT_EQ(body["cells"].size(), 2u);
  for (const auto& cell : body["cells"]) {
    if (cell["city"] == "440100") {
      EXPECT_EQ(cell["suppressed"], false);
      EXPECT_EQ(cell["subjects"], kGuangzhouSubjects);
      EXPECT_EQ(cell["grams"], gz_grams_);
    } else {
      EXPECT_EQ(cell["city"], "440300");
      EXPECT_EQ(cell["suppressed"], true);
      EXPECT_TRUE(cell["grams"].is_null());
    }
  }
  auto csv = raw("/api/v1/stats/open-data?" + kMarch + "&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(header(csv, "content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find("day,city,domain,methodology,suppressed"), std::string::npos);
}

TEST_F(StatsApiTest, DownloadsAreCsvAndXlsxWithTheirContentTypes) {
  auto csv = raw("/api/v1/stats/series?" + kMarch + "&interval=day&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(header(csv, "content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(header(csv, "content-disposition").find("series.csv"), std::string::npos);
  EXPECT_NE(csv.body.find("bucket,records,grams,points,subject_days"), std::string::npos);
  EXPECT_NE(csv.body.find("2026-03-01," + std::to_string(kGuangzhouSubjects) + "," +
                          std::to_string(gz_grams_)),
            std::string::npos)
      << csv.body;
  // A withheld point is empty, not zero.
  auto withheld = raw("/api/v1/stats/series?" + kMarch + "&interval=day&region=440300&format=csv");
  EXPECT_NE(withheld.body.find("2026-03-02,,,,"), std::string::npos) << withheld.body;

  for (const char* path :
       {"/api/v1/stats/totals?", "/api/v1/stats/top?by=domain&", "/api/v1/stats/participation?"}) {
    auto xlsx = raw(std::string(path) + kMarch + "&format=xlsx");
    EXPECT_EQ(xlsx.status, 200) << path;
    EXPECT_EQ(header(xlsx, "content-type"),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        << path;
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK") << path;  // a ZIP container
  }
}

TEST_F(StatsApiTest, ThePublicIsRefusedCountiesAndIndustriesNamingTheField) {
  expectError("/api/v1/stats/totals?" + kMarch + "&region=440305", 403, "region");
  expectError("/api/v1/stats/series?" + kMarch + "&region=440305", 403, "region");
  expectError("/api/v1/stats/totals?" + kMarch + "&industry=C", 403, "industry");
  expectError("/api/v1/stats/top?" + kMarch + "&by=industry", 403, "industry");
  expectError("/api/v1/stats/top?" + kMarch + "&by=region&region=440300", 403, "region");
  expectError("/api/v1/stats/totals?" + kMarch + "&region=440305", 403, "region", "citizen");
  // A region admin sees its own region only.
  expectError("/api/v1/stats/totals?" + kMarch + "&region=440106", 403, "region", "sz_admin");
  expectError("/api/v1/stats/top?" + kMarch + "&by=region&region=440100", 403, "region",
              "sz_admin");
}

TEST_F(StatsApiTest, BadParametersAnswer422NamingTheField) {
  // docs/api.md: a field missing, malformed or out of range is 422 `invalid` naming the field.
  expectError("/api/v1/stats/totals", 422, "from");
  expectError("/api/v1/stats/totals?from=2026-13-01&to=2026-03-31", 422, "from");
  expectError("/api/v1/stats/totals?from=2026-03-01&to=yesterday", 422, "to");
  expectError("/api/v1/stats/totals?from=2026-03-31&to=2026-03-01", 422, "to");
  expectError("/api/v1/stats/totals?from=2020-01-01&to=2026-03-01", 422, "to");
  expectError("/api/v1/stats/totals?" + kMarch + "&region=110000", 422, "region");
  expectError("/api/v1/stats/totals?" + kMarch + "&region=44abc", 422, "region");
  expectError("/api/v1/stats/totals?" + kMarch + "&domain=tr%20avel", 422, "domain");
  expectError("/api/v1/stats/totals?" + kMarch + "&methodology=x;drop", 422, "methodology");
  expectError("/api/v1/stats/totals?" + kMarch + "&subject_kind=robot", 422, "subject_kind");
  expectError("/api/v1/stats/totals?" + kMarch + "&industry=Z9", 422, "industry", "gd_admin");
  expectError("/api/v1/stats/totals?" + kMarch + "&format=pdf", 422, "format");
  expectError("/api/v1/stats/series?" + kMarch + "&interval=hour", 422, "interval");
  expectError("/api/v1/stats/top?" + kMarch + "&by=colour", 422, "by");
  expectError("/api/v1/stats/top?" + kMarch + "&by=domain&n=0", 422, "n");
  expectError("/api/v1/stats/top?" + kMarch + "&by=domain&n=ten", 422, "n");
  expectError("/api/v1/stats/top?" + kMarch + "&by=region&region=440305", 422, "by", "gd_admin");
  expectError("/api/v1/stats/participation?" + kMarch + "&interval=week", 422, "interval");
  expectError("/api/v1/stats/open-data?from=2026-01-01&to=2026-06-30", 422, "to");
  expectError("/api/v1/stats/open-data?" + kMarch + "&region=440305", 422, "region");
}

}  // namespace
}  // namespace tph::api
