// Themed campaigns: who may define and cancel them, and the multiplier ingestion applies to
// records in the window — at its edges in Asia/Shanghai, in the region only, for the covered
// methodologies only, kept when a late record redoes the day, posted to the ledger and counted in
// the campaign's figures.

#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "analytics/analytics_service.h"
#include "auth/auth_service.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "ingest/reduction_stats.h"
#include "methodology/methodology_service.h"
#include "region/campaign_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::region {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

Instant at(const char* text) {
  return *parseIso8601(text);
}

class CampaignTest : public ::testing::Test {
 protected:
  CampaignTest()
      : clock_(at("2026-06-01T04:00:00Z")),
        methodologies_(t_.db(), clock_),
        providers_(t_.db(), clock_),
        ingest_(t_.db(), clock_, methodologies_),
        bindings_(t_.db(), clock_, ingest_),
        accounts_(t_.db(), clock_),
        campaigns_(t_.db(), clock_, methodologies_),
        stats_(t_.db()) {
    RegionService regions(t_.db(), clock_);
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
    gd_admin_ = make("gd_admin", Role::kProvinceAdmin, "440000");
    sz_admin_ = make("sz_admin", Role::kRegionAdmin, "440300");
    nanshan_admin_ = make("nanshan_admin", Role::kRegionAdmin, "440305");
    auto feed = make("metro_feed", Role::kProvider, "440000");
    metro_ = *providers_.registerProvider(gd_admin_, {"gd-metro",
                                                      "地铁",
                                                      "transit_operator",
                                                      feed.user_id,
                                                      {"440000"},
                                                      {"travel.metro", "travel.walk"},
                                                      ""});
    for (int i = 0; i < kResidents; ++i) {
      auto resident = make("resident" + std::to_string(i), Role::kResident, "");
      auto account = accounts_.personAccount(resident, "440305");
      EXPECT_TRUE(account.ok());
      ledgers_.push_back(account->ledger_account);
      EXPECT_TRUE(
          bindings_.bindDirect("test", metro_.id, "ref-" + std::to_string(i), account->id).ok());
    }
  }

  CampaignDraft lowCarbonDay(const std::string& region = "440300", int permille = 2000) {
    // National Low-Carbon Day 2026, one Shanghai day.
    return {region,
            "全国低碳日",
            "National Low-Carbon Day",
            "低碳日当天乘坐地铁积分翻倍",
            "",
            at("2026-06-15T00:00:00+08:00"),
            at("2026-06-16T00:00:00+08:00"),
            {"travel.metro"},
            permille};
  }

  static json record(const std::string& id, int resident, const std::string& when,
                     const std::string& region = "440305",
                     const std::string& methodology = "travel.metro", double km = 12) {
    json inputs = methodology == "travel.walk" ? json{{"steps", 8000}} : json{{"distance_km", km}};
    return {{"provider_record_id", id},   {"subject_ref", "ref-" + std::to_string(resident)},
            {"methodology", methodology}, {"occurred_at", when},
            {"region", region},           {"inputs", inputs}};
  }

  void send(std::vector<json> records) {
    std::vector<ingest::IncomingRecord> in;
    for (auto& r : records) in.push_back({std::move(r), ""});
    auto report = ingest_.ingestBatch(metro_, in, "test");
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->credited, static_cast<std::int64_t>(in.size()));
  }

  //! points, bonus of one record's reduction.
  std::pair<std::int64_t, std::int64_t> pointsOf(const std::string& rid) {
    return t_.db().read([&](soci::session& sql) {
      long long points = 0, bonus = 0;
      sql << "SELECT r.points, r.campaign_bonus_points FROM reductions r JOIN ingest_records e "
             "ON e.id = r.record_id WHERE e.provider_record_id = :r",
          soci::use(rid), soci::into(points), soci::into(bonus);
      return std::pair<std::int64_t, std::int64_t>{points, bonus};
    });
  }

  std::int64_t balance(int resident) {
    return t_.db().read([&](soci::session& sql) {
      return account::balanceOf(sql, ledgers_[static_cast<std::size_t>(resident)]).value();
    });
  }

  static constexpr int kResidents = 8;
  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  ingest::ProviderService providers_;
  ingest::IngestService ingest_;
  ingest::BindingService bindings_;
  account::CarbonAccountService accounts_;
  CampaignService campaigns_;
  ingest::ReductionStats stats_;
  Principal gd_admin_, sz_admin_, nanshan_admin_;
  ingest::Provider metro_;
  std::vector<account::LedgerAccountId> ledgers_;
};

TEST_F(CampaignTest, RegionAdminsDefineCampaignsInTheirRegionOnly) {
  auto made = campaigns_.create(sz_admin_, lowCarbonDay("440300"));
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->status, "scheduled");
  EXPECT_EQ(made->methodologies, std::vector<std::string>{"travel.metro"});
  auto elsewhere = campaigns_.create(sz_admin_, lowCarbonDay("440100"));
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kForbidden);
  // A county admin is refused its city; the province may define one anywhere.
  EXPECT_EQ(campaigns_.create(nanshan_admin_, lowCarbonDay("440300")).error().code,
            ErrorCode::kForbidden);
  EXPECT_TRUE(campaigns_.create(gd_admin_, lowCarbonDay("440100")).ok());
  EXPECT_TRUE(campaigns_.create(nanshan_admin_, lowCarbonDay("440305")).ok());
}

TEST_F(CampaignTest, DraftsAreValidatedFieldByField) {
  auto field = [&](CampaignDraft d) {
    auto r = campaigns_.create(gd_admin_, d);
    return r.ok() ? std::string("accepted") : r.error().field;
  };
  auto d = lowCarbonDay();
  d.multiplier_permille = 1000;
  EXPECT_EQ(field(d), "multiplier");
  d = lowCarbonDay();
  d.multiplier_permille = 10001;
  EXPECT_EQ(field(d), "multiplier");
  d = lowCarbonDay();
  d.ends_at = d.starts_at;
  EXPECT_EQ(field(d), "ends_at");
  d = lowCarbonDay();
  d.starts_at = at("2026-05-31T00:00:00+08:00");  // before now: records already credited
  EXPECT_EQ(field(d), "starts_at");
  d = lowCarbonDay();
  d.ends_at = d.starts_at + std::chrono::hours(24 * 93);
  EXPECT_EQ(field(d), "ends_at");
  d = lowCarbonDay();
  d.methodologies = {"travel.teleport"};
  EXPECT_EQ(field(d), "methodologies[0]");
  d = lowCarbonDay();
  d.methodologies = {"travel.metro", "travel.metro"};
  EXPECT_EQ(field(d), "methodologies[1]");
  d = lowCarbonDay();
  d.name_zh.clear();
  EXPECT_EQ(field(d), "name_zh");
  d = lowCarbonDay("999999");
  EXPECT_EQ(field(d), "region");
  EXPECT_EQ(field(lowCarbonDay()), "accepted");
}

TEST_F(CampaignTest, TheMultiplierAppliesInsideTheWindowAtItsShanghaiEdges) {
  auto campaign = campaigns_.create(sz_admin_, lowCarbonDay("440300", 2000));
  ASSERT_TRUE(campaign.ok());
  clock_.set(at("2026-06-17T04:00:00Z"));
  send({record("before", 0, "2026-06-14T23:59:59+08:00"),
        record("first", 1, "2026-06-15T00:00:00+08:00"),
        record("last", 2, "2026-06-15T23:59:59+08:00"),
        record("after", 3, "2026-06-16T00:00:00+08:00"),
        // Outside the campaign's region, and a methodology it does not cover.
        record("guangzhou", 4, "2026-06-15T12:00:00+08:00", "440100"),
        record("walk", 5, "2026-06-15T12:00:00+08:00", "440305", "travel.walk")});
  auto [base, none] = pointsOf("before");
  ASSERT_GT(base, 0);
  EXPECT_EQ(none, 0);
  EXPECT_EQ(pointsOf("first"), std::make_pair(2 * base, base));
  EXPECT_EQ(pointsOf("last"), std::make_pair(2 * base, base));
  EXPECT_EQ(pointsOf("after"), std::make_pair(base, std::int64_t{0}));
  EXPECT_EQ(pointsOf("guangzhou").second, 0);
  EXPECT_EQ(pointsOf("walk").second, 0);
  // The ledger paid the bonus.
  EXPECT_EQ(balance(0), base);
  EXPECT_EQ(balance(1), 2 * base);

  // The record's explanation names the campaign and its multiplier.
  auto account = t_.db().read([&](soci::session& sql) {
    long long id = 0;
    sql << "SELECT r.account_id FROM reductions r JOIN ingest_records e ON e.id = r.record_id "
           "WHERE e.provider_record_id = 'first'",
        soci::into(id);
    return static_cast<std::int64_t>(id);
  });
  auto entries = ingest_.history(account, 10, 0);
  ASSERT_EQ(entries.size(), 1u);
  const auto& explained = entries[0].explanation["campaign"];
  EXPECT_EQ(explained["id"], campaign->id);
  EXPECT_EQ(explained["name_zh"], "全国低碳日");
  EXPECT_EQ(explained["multiplier"], 2.0);
  EXPECT_EQ(explained["base_points"], base);
  EXPECT_EQ(explained["bonus_points"], base);

  auto figures = stats_.campaign(campaign->id);
  EXPECT_EQ(figures.records, 2);
  EXPECT_EQ(figures.subjects, 2);
  EXPECT_EQ(figures.points, 4 * base);
  EXPECT_EQ(figures.bonus_points, 2 * base);
  ASSERT_EQ(figures.days.size(), 1u);
  EXPECT_EQ(figures.days[0].day, "2026-06-15");
  auto listed = campaigns_.list("440305", "ended", 10, 0);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, campaign->id);
  EXPECT_TRUE(campaigns_.list("440100", "", 10, 0)->empty());

  auto check = analytics::AnalyticsService(t_.db()).check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->consistent) << check->first_difference;
  auto ledger = t_.db().read([&](soci::session& sql) { return account::verifyLedger(sql); });
  EXPECT_TRUE(ledger.ok) << ledger.problem;
}

TEST_F(CampaignTest, CampaignsDoNotStackAndBonusesRoundDown) {
  auto province = lowCarbonDay("440000", 1500);
  ASSERT_TRUE(campaigns_.create(gd_admin_, province).ok());
  auto city = campaigns_.create(sz_admin_, lowCarbonDay("440300", 3000));
  ASSERT_TRUE(city.ok());
  clock_.set(at("2026-06-17T04:00:00Z"));
  send({record("control", 0, "2026-06-14T12:00:00+08:00", "440305", "travel.metro", 7),
        record("sz", 1, "2026-06-15T12:00:00+08:00", "440305", "travel.metro", 7),
        record("gz", 2, "2026-06-15T12:00:00+08:00", "440100", "travel.metro", 7)});
  auto base = pointsOf("control").first;
  ASSERT_GT(base, 0);
  // Shenzhen: the city's x3 wins over the province's x1.5; they do not multiply.
  EXPECT_EQ(pointsOf("sz"), std::make_pair(3 * base, 2 * base));
  // Guangzhou: only the province's x1.5, the half point rounded down.
  EXPECT_EQ(pointsOf("gz"), std::make_pair(base + base / 2, base / 2));
}

TEST_F(CampaignTest, ALateRecordThatRedoesTheDayKeepsTheBonus) {
  ASSERT_TRUE(campaigns_.create(sz_admin_, lowCarbonDay("440300", 2000)).ok());
  clock_.set(at("2026-06-17T04:00:00Z"));
  send({record("control", 1, "2026-06-14T12:00:00+08:00")});
  auto base = pointsOf("control").first;
  send({record("evening", 0, "2026-06-15T19:00:00+08:00")});
  // Earlier the same day: the day is recomputed in order, both records keep the campaign.
  send({record("morning", 0, "2026-06-15T08:00:00+08:00")});
  auto evening = pointsOf("evening"), morning = pointsOf("morning");
  EXPECT_EQ(evening.second * 2, evening.first);
  EXPECT_EQ(morning.second * 2, morning.first);
  EXPECT_EQ(morning.first, 2 * base);
  EXPECT_EQ(balance(0), evening.first + morning.first);
}

TEST_F(CampaignTest, OnlyACampaignThatHasNotStartedCanBeCancelled) {
  auto campaign = campaigns_.create(sz_admin_, lowCarbonDay());
  ASSERT_TRUE(campaign.ok());
  EXPECT_EQ(campaigns_.cancel(nanshan_admin_, campaign->id, "wrong").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(campaigns_.cancel(sz_admin_, campaign->id, "").error().field, "reason");
  auto cancelled = campaigns_.cancel(sz_admin_, campaign->id, "moved to another date");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(cancelled->cancel_reason, "moved to another date");
  clock_.set(at("2026-06-17T04:00:00Z"));
  send({record("inside", 0, "2026-06-15T12:00:00+08:00")});
  EXPECT_EQ(pointsOf("inside").second, 0);

  clock_.set(at("2026-06-10T04:00:00Z"));
  auto started = campaigns_.create(sz_admin_, [&] {
    auto d = lowCarbonDay();
    d.starts_at = at("2026-06-11T00:00:00+08:00");
    return d;
  }());
  ASSERT_TRUE(started.ok());
  clock_.set(at("2026-06-11T04:00:00Z"));
  auto late = campaigns_.cancel(sz_admin_, started->id, "too late");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  EXPECT_EQ(campaigns_.get(started->id)->status, "active");
}

}  // namespace
}  // namespace tph::region
