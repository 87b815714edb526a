#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "account/carbon_accounts.h"
#include "analytics/analytics_service.h"
#include "analytics/rollup_deltas.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::analytics {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

class AnalyticsTest : public ::testing::Test {
 protected:
  AnalyticsTest()
      : clock_(*parseIso8601("2026-03-10T04:00:00Z")),
        methodologies_(t_.db(), clock_),
        providers_(t_.db(), clock_),
        ingest_(t_.db(), clock_, methodologies_),
        bindings_(t_.db(), clock_, ingest_),
        accounts_(t_.db(), clock_),
        analytics_(t_.db()) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"},
                           {"440306", "440300", "county", "宝安区", "Bao'an"}},
                          "test")
                    .ok());
    auto imported = methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok() && imported->issues.empty());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto make = [&](const std::string& name, Role role, const std::string& region) {
      auto u =
          auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
      EXPECT_TRUE(u.ok()) << u.error().message;
      return Principal{u->id, u->username, u->display_name, u->grants, {}};
    };
    sz_admin_ = make("sz_admin", Role::kRegionAdmin, "440300");
    auto feed = make("metro_feed", Role::kProvider, "440300");
    metro_ = *providers_.registerProvider(sz_admin_, {"sz-metro",
                                                      "深圳地铁",
                                                      "transit_operator",
                                                      feed.user_id,
                                                      {"440300"},
                                                      {"travel.metro", "travel.walk"},
                                                      ""});
    for (int i = 0; i < kResidents; ++i) {
      auto resident = make("resident" + std::to_string(i), Role::kResident, "");
      auto account = accounts_.personAccount(resident, "440305");
      EXPECT_TRUE(account.ok());
      EXPECT_TRUE(
          bindings_.bindDirect("test", metro_.id, "ref-" + std::to_string(i), account->id).ok());
    }
  }

  static json record(const std::string& id, int resident, const std::string& at, double km,
                     const std::string& methodology, const std::string& region) {
    return {{"provider_record_id", id},   {"subject_ref", "ref-" + std::to_string(resident)},
            {"methodology", methodology}, {"occurred_at", at},
            {"region", region},           {"inputs", {{"distance_km", km}}}};
  }

  ingest::BatchReport send(std::vector<json> records) {
    std::vector<ingest::IncomingRecord> in;
    for (auto& r : records) in.push_back({std::move(r), ""});
    auto report = ingest_.ingestBatch(metro_, in, "test");
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : ingest::BatchReport{};
  }

  std::int64_t scalar(const std::string& query) {
    return t_.db().read([&](soci::session& sql) {
      long long v = 0;
      soci::indicator ind;
      sql << query, soci::into(v, ind);
      return ind == soci::i_null ? 0LL : v;
    });
  }

  void expectConsistent() {
    auto report = analytics_.check();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->consistent) << report->first_difference;
    EXPECT_GT(report->cells_checked, 0);
  }

  static constexpr int kResidents = 12;
  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  ingest::ProviderService providers_;
  ingest::IngestService ingest_;
  ingest::BindingService bindings_;
  account::CarbonAccountService accounts_;
  AnalyticsService analytics_;
  Principal sz_admin_;
  ingest::Provider metro_;
};

TEST_F(AnalyticsTest, RollupsMatchTheDetailOnRandomisedBatchesWithLateRecords) {
  // Records arrive shuffled, so many land earlier in a day than ones already credited: the day is
  // recomputed under its daily cap and stored reductions change.
  std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<json> all;
  for (int i = 0; i < 400; ++i) {
    int day = 1 + static_cast<int>(rng() % 9);
    int hour = static_cast<int>(rng() % 24);
    char at[40];
    std::snprintf(at, sizeof at, "2026-03-%02dT%02d:%02d:00+08:00", day, hour,
                  static_cast<int>(rng() % 60));
    bool walk = rng() % 4 == 0;
    all.push_back(record("r" + std::to_string(i), static_cast<int>(rng() % kResidents), at,
                         walk ? 1 + rng() % 5 : 5 + rng() % 30,
                         walk ? "travel.walk" : "travel.metro", rng() % 2 ? "440305" : "440306"));
  }
  std::shuffle(all.begin(), all.end(), rng);
  std::int64_t credited = 0;
  for (std::size_t start = 0; start < all.size(); start += 37) {
    std::vector<json> batch(
        all.begin() + static_cast<std::ptrdiff_t>(start),
        all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + 37)));
    credited += send(batch).credited;
  }
  EXPECT_GT(credited, 200);  // the rest are held by the anti-fraud rules
  expectConsistent();
  EXPECT_EQ(scalar("SELECT SUM(grams) FROM stats_daily"),
            scalar("SELECT SUM(grams) FROM reductions"));
  EXPECT_EQ(scalar("SELECT SUM(records) FROM stats_daily"), credited);
  EXPECT_EQ(scalar("SELECT SUM(new_subjects) FROM stats_participation WHERE period LIKE 'd:%'"),
            kResidents);
}

TEST_F(AnalyticsTest, CheckNamesTheFirstCellThatDiffers) {
  send({record("a", 0, "2026-03-02T08:00:00+08:00", 10, "travel.metro", "440305"),
        record("b", 1, "2026-03-03T08:00:00+08:00", 10, "travel.metro", "440306")});
  expectConsistent();
  t_.exec("UPDATE stats_daily SET grams = grams + 1 WHERE day = '2026-03-03'");
  auto report = analytics_.check();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->consistent);
  EXPECT_NE(report->first_difference.find("stats_daily cell 2026-03-03/440306/travel/travel.metro/"
                                          "person"),
            std::string::npos)
      << report->first_difference;
  t_.exec("UPDATE stats_daily SET grams = grams - 1 WHERE day = '2026-03-03'");
  expectConsistent();
  t_.exec("DELETE FROM stats_participation WHERE period = 'm:2026-03'");
  report = analytics_.check();
  EXPECT_NE(report->first_difference.find("stats_participation cell m:2026-03: missing"),
            std::string::npos)
      << report->first_difference;
}

TEST_F(AnalyticsTest, AreaRollupsKeepTheLargestCountyCellAndTheCheckCoversThem) {
  // Nanshan: residents 0-9 on 2 March; Bao'an: residents 0-2 (the same people) the same day.
  std::vector<json> records;
  for (int i = 0; i < 10; ++i)
    records.push_back(record("n" + std::to_string(i), i, "2026-03-02T08:00:00+08:00", 10,
                             "travel.metro", "440305"));
  for (int i = 0; i < 3; ++i)
    records.push_back(record("b" + std::to_string(i), i, "2026-03-02T09:00:00+08:00", 10,
                             "travel.metro", "440306"));
  send(records);
  expectConsistent();
  // The city cell sums the county cells' subjects (13 subject-days) and keeps the largest (10).
  EXPECT_EQ(scalar("SELECT subjects FROM stats_daily_area WHERE level = 'city' AND region_code = "
                   "'440300' AND day = '2026-03-02'"),
            13);
  EXPECT_EQ(scalar("SELECT max_cell_subjects FROM stats_daily_area WHERE level = 'city' AND "
                   "region_code = '440300' AND day = '2026-03-02'"),
            10);
  EXPECT_EQ(scalar("SELECT max_cell_subjects FROM stats_monthly_area WHERE level = 'county' AND "
                   "region_code = '440306' AND month = '2026-03'"),
            3);
  // Whole months (monthly rollups) and a span of days (daily ones) give the same figures.
  StatsFilter month{"2026-03-01", "2026-03-31", "440300", "", "", "", ""};
  StatsFilter days{"2026-02-25", "2026-03-09", "440300", "", "", "", ""};
  auto a = analytics_.totals(sz_admin_, month), b = analytics_.totals(sz_admin_, days);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->records, 13);
  EXPECT_EQ(a->grams, b->grams);
  EXPECT_EQ(a->subject_days, b->subject_days);
  // The public sees Shenzhen: its largest county cell has 10 subjects. A drifted area cell is
  // named by the check.
  auto shown = analytics_.totals(std::nullopt, month);
  ASSERT_TRUE(shown.ok());
  EXPECT_FALSE(shown->suppressed);
  EXPECT_EQ(shown->records, 13);
  t_.exec(
      "UPDATE stats_monthly_area SET max_cell_subjects = 2 WHERE level = 'county' AND "
      "region_code = '440306'");
  auto report = analytics_.check();
  ASSERT_TRUE(report.ok());
  EXPECT_NE(report->first_difference.find("stats_daily_area/stats_monthly_area cell"),
            std::string::npos)
      << report->first_difference;
}

TEST_F(AnalyticsTest, PublicCityFiguresBelowTenSubjectsAreWithheld) {
  std::vector<json> records;
  for (int i = 0; i < 9; ++i)
    records.push_back(record("n" + std::to_string(i), i, "2026-03-02T08:00:00+08:00", 10,
                             "travel.metro", "440305"));
  // Nine more trips by the same nine people on another day: 18 subject-days, 9 people.
  for (int i = 0; i < 9; ++i)
    records.push_back(record("m" + std::to_string(i), i, "2026-03-03T08:00:00+08:00", 10,
                             "travel.metro", "440306"));
  send(records);
  StatsFilter shenzhen{"2026-03-01", "2026-03-31", "440300", "", "", "", ""};
  auto hidden = analytics_.totals(std::nullopt, shenzhen);
  ASSERT_TRUE(hidden.ok());
  EXPECT_TRUE(hidden->suppressed);
  EXPECT_EQ(hidden->grams, 0);
  auto series = analytics_.series(std::nullopt, shenzhen, Interval::kDay);
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->size(), 2u);
  EXPECT_TRUE((*series)[0].figures.suppressed);
  auto cities =
      analytics_.top(std::nullopt, {"2026-03-01", "2026-03-31", "", "", "", "", ""}, "region", 10);
  ASSERT_TRUE(cities.ok());
  ASSERT_EQ(cities->size(), 1u);
  EXPECT_TRUE((*cities)[0].figures.suppressed);
  // The province's figure is published; the region's admin sees the city's.
  auto province = analytics_.totals(std::nullopt, {"2026-03-01", "2026-03-31", "", "", "", "", ""});
  ASSERT_TRUE(province.ok());
  EXPECT_FALSE(province->suppressed);
  EXPECT_EQ(province->records, 18);
  auto admin = analytics_.totals(sz_admin_, shenzhen);
  ASSERT_TRUE(admin.ok());
  EXPECT_FALSE(admin->suppressed);
  EXPECT_EQ(admin->subject_days, 18);
}

TEST_F(AnalyticsTest, DaysAreShanghaiDays) {
  // 17:00 UTC is 01:00 the next day in Guangdong; 15:30 UTC is 23:30 the same day.
  send({record("late", 0, "2026-03-08T17:00:00Z", 10, "travel.metro", "440305"),
        record("eve", 1, "2026-03-08T15:30:00Z", 10, "travel.metro", "440305")});
  EXPECT_EQ(scalar("SELECT records FROM stats_daily WHERE day = '2026-03-09'"), 1);
  EXPECT_EQ(scalar("SELECT records FROM stats_daily WHERE day = '2026-03-08'"), 1);
  expectConsistent();
}

TEST_F(AnalyticsTest, ASubjectCountsOncePerCellAndReturningSubjectsAreNotNew) {
  send({record("a1", 0, "2026-03-02T08:00:00+08:00", 5, "travel.metro", "440305"),
        record("a2", 0, "2026-03-02T18:00:00+08:00", 5, "travel.metro", "440305")});
  send({record("a3", 0, "2026-03-02T20:00:00+08:00", 5, "travel.metro", "440305"),
        record("b1", 1, "2026-03-02T20:00:00+08:00", 5, "travel.metro", "440305"),
        record("a4", 0, "2026-03-04T08:00:00+08:00", 5, "travel.metro", "440305")});
  EXPECT_EQ(scalar("SELECT subjects FROM stats_daily WHERE day = '2026-03-02'"), 2);
  EXPECT_EQ(scalar("SELECT records FROM stats_daily WHERE day = '2026-03-02'"), 4);
  EXPECT_EQ(scalar("SELECT new_subjects FROM stats_participation WHERE period = 'd:2026-03-04'"),
            0);
  // A late record moves resident 0's first day earlier.
  send({record("a0", 0, "2026-03-01T08:00:00+08:00", 5, "travel.metro", "440305")});
  EXPECT_EQ(scalar("SELECT new_subjects FROM stats_participation WHERE period = 'd:2026-03-01'"),
            1);
  EXPECT_EQ(scalar("SELECT new_subjects FROM stats_participation WHERE period = 'd:2026-03-02'"),
            1);
  expectConsistent();
}

TEST_F(AnalyticsTest, ATransactionThatFailsLeavesTheRollupsAsTheyWere) {
  send({record("a", 0, "2026-03-02T08:00:00+08:00", 10, "travel.metro", "440305")});
  auto failed = t_.db().transaction([&](soci::session& sql) -> Result<int> {
    RollupDeltas deltas;
    deltas.add("2026-03-02", "440305", "travel", "travel.metro", 1, 1, 500, 5);
    deltas.apply(sql);
    return Error::conflict("killed before commit");
  });
  EXPECT_FALSE(failed.ok());
  expectConsistent();
}

TEST_F(AnalyticsTest, EnterpriseCellsFollowTheDetail) {
  testing::CreditedReductions seed(t_.db(), clock_, methodologies_);
  seed.trees("440305", "2026-03-05", 10, 1);
  seed.trees("440100", "2026-03-05", 4, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM stats_enterprise_daily"), 2);
  EXPECT_EQ(scalar("SELECT SUM(grams) FROM stats_enterprise_daily"), 84000);
  expectConsistent();
}

TEST_F(AnalyticsTest, IndustryRollupsFollowTheDetailAndMoveWhenAnIndustryChanges) {
  std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  auto admin_user =
      auth::AuthService(t_.db(), clock_, options)
          .createUserAsSystem(
              "test",
              {"gd_admin", "green-travel-42", "gd_admin", {{Role::kProvinceAdmin, "440000"}}},
              false);
  ASSERT_TRUE(admin_user.ok());
  Principal admin{
      admin_user->id, admin_user->username, admin_user->display_name, admin_user->grants, {}};
  static const char* regions[] = {"440305", "440306", "440100"};
  static const std::pair<const char*, const char*> industries[] = {
      {"C", "26"}, {"C", "13"}, {"D", "44"}};
  testing::CreditedReductions seed_reductions(t_.db(), clock_, methodologies_);
  std::vector<std::int64_t> enterprises;
  for (int i = 0; i < 24; ++i) {
    char day[16];
    std::snprintf(day, sizeof day, "2026-0%d-%02d", 2 + static_cast<int>(rng() % 2),
                  1 + static_cast<int>(rng() % 9));
    const char* region = regions[rng() % 3];
    if (rng() % 2)
      seed_reductions.trees(region, day, 1 + static_cast<int>(rng() % 5), 1);
    else
      seed_reductions.saving(region, day, 1000, 900 - static_cast<double>(rng() % 300));
    enterprises.push_back(seed_reductions.lastAccount());
    // Now and then an enterprise (this one or an earlier one) is given an industry or changes it.
    if (rng() % 3 != 0) {
      auto [section, division] = industries[rng() % 3];
      auto account = enterprises[rng() % enterprises.size()];
      ASSERT_TRUE(accounts_.setIndustry(admin, account, section, division).ok());
    }
  }
  expectConsistent();
  EXPECT_EQ(scalar("SELECT SUM(records) FROM stats_industry_daily WHERE level = 'province'"), 24);
  EXPECT_EQ(scalar("SELECT SUM(grams) FROM stats_industry_monthly WHERE level = 'county'"),
            scalar("SELECT SUM(grams) FROM reductions"));

  // The breakdown equals the detail's, over whole months (monthly cells) and a span of days (daily
  // cells), province-wide, for a city and by region.
  auto detail = [&](const std::string& industry, const std::string& from, const std::string& to,
                    const std::string& prefix) {
    std::string where = industry == "unclassified"
                            ? "a.industry_section IS NULL"
                            : "a.industry_section || a.industry_division = '" + industry + "'";
    return scalar(
        "SELECT SUM(r.grams) FROM reductions r JOIN carbon_accounts a ON a.id = "
        "r.account_id WHERE " +
        where + " AND r.day >= '" + from + "' AND r.day <= '" + to + "' AND r.region_code LIKE '" +
        prefix + "%'");
  };
  for (auto [from, to] : {std::pair<std::string, std::string>{"2026-02-01", "2026-03-31"},
                          std::pair<std::string, std::string>{"2026-02-03", "2026-03-06"}}) {
    for (std::string region : {"", "440300"}) {
      StatsFilter f{from, to, region, "", "", "", ""};
      auto rows = analytics_.top(admin, f, "industry", 10);
      ASSERT_TRUE(rows.ok()) << rows.error().message;
      std::int64_t total = 0;
      for (const auto& row : *rows) {
        EXPECT_EQ(row.figures.grams, detail(row.key, from, to, region.substr(0, 4)))
            << row.key << " " << from << " " << region;
        total += row.figures.grams;
      }
      EXPECT_EQ(total, scalar("SELECT SUM(grams) FROM reductions WHERE day >= '" + from +
                              "' AND day <= '" + to + "' AND region_code LIKE '" +
                              region.substr(0, 4) + "%'"));
      StatsFilter c = f;
      c.industry = "C";
      auto by_region = analytics_.top(admin, c, "region", 10);
      ASSERT_TRUE(by_region.ok());
      std::int64_t c_total = 0;
      for (const auto& row : *by_region) c_total += row.figures.grams;
      EXPECT_EQ(c_total, detail("C26", from, to, region.substr(0, 4)) +
                             detail("C13", from, to, region.substr(0, 4)));
    }
  }

  // A drifted industry cell is named by the check.
  t_.exec("UPDATE stats_industry_monthly SET grams = grams + 1 WHERE level = 'province'");
  auto report = analytics_.check();
  ASSERT_TRUE(report.ok());
  EXPECT_NE(report->first_difference.find("stats_industry_daily/stats_industry_monthly cell"),
            std::string::npos)
      << report->first_difference;
}

}  // namespace
}  // namespace tph::analytics
