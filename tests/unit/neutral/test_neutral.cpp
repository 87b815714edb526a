// Carbon-neutral events on a real database: the footprint calculator against a hand-computed
// example, neutralisation retiring exactly ceil(tonnes) units with the event as beneficiary,
// refusals that leave nothing retired, residents paying points for the platform's inventory (the
// ledger balanced, a shortfall refused), the public page, the certificate and the audit chain.

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "issued_units.h"
#include "neutral/neutral_service.h"
#include "region/region_service.h"
#include "registry/registry_ledger.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::neutral {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

//! The calculator file's first worked example, as an organiser enters it.
FootprintInputs conferenceInputs() {
  FootprintInputs in;
  in.travel = {{"car", "local", 10},
               {"rail", "local", 100},
               {"rail", "regional", 50},
               {"air", "national", 20}};
  in.hotel_nights = 70;
  in.electricity_kwh = 5000;
  in.printed_kg = 30;
  return in;
}

class NeutralTest : public ::testing::Test {
 protected:
  NeutralTest()
      : clock_(*parseIso8601("2026-05-10T02:00:00Z")),
        accounts_(t_.db(), clock_),
        registry_(t_.db(), clock_),
        neutral_(t_.db(), clock_, accounts_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto make = [&](const std::string& name, Role role, const std::string& region) {
      auto u =
          auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
      EXPECT_TRUE(u.ok()) << u.error().message;
      return Principal{u->id, u->username, u->display_name, u->grants, {}};
    };
    province_ = make("gd_admin", Role::kProvinceAdmin, "440000");
    organiser_ = make("expo_org", Role::kEnterprise, "440300");
    other_ = make("someone", Role::kEnterprise, "440300");
    resident_ = make("xiaoming", Role::kResident, "440300");
    expo_account_ = open(registry::AccountKind::kEnterprise, "深圳会展公司", organiser_);
    other_account_ = open(registry::AccountKind::kEnterprise, "别家公司", other_);
    inventory_ = open(registry::AccountKind::kProvince, "广东省碳普惠平台", province_);
  }

  std::string open(registry::AccountKind kind, const std::string& name, const Principal& who) {
    auto a = registry_.openAccount(province_, {kind, name, "440300", {who.user_id}});
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a->account_no;
  }
  std::int64_t issue(const std::string& account, std::int64_t units) {
    return testing::issueUnitsTo(t_.db(), clock_, {account, units});
  }
  Units held(const std::string& account_no) {
    return t_.db().read([&](soci::session& sql) {
      return registry::heldUnits(sql, *registry::findAccountId(sql, account_no), {});
    });
  }
  Event conference(const Principal& who, const std::string& kind = "event") {
    NewEvent e;
    e.kind = kind;
    e.name = "2026 大湾区低碳论坛";
    e.organiser_name = "深圳会展公司";
    e.starts_on = "2026-06-01";
    e.ends_on = "2026-06-02";
    e.city = "440300";
    e.venue = "深圳国际会展中心";
    e.footprint = conferenceInputs();
    auto created = neutral_.registerEvent(who, e);
    EXPECT_TRUE(created.ok()) << created.error().message;
    return *created;
  }
  void credit(const Principal& p, std::int64_t points) {
    auto person = accounts_.personAccount(p);
    ASSERT_TRUE(person.ok());
    auto r = t_.db().transaction([&](soci::session& sql) {
      auto issuance = account::openLedgerAccount(sql, account::issuanceLedgerCode("440300"),
                                                 "issuance", true, clock_);
      return account::postEntry(
          sql,
          {"seed:" + p.username,
           "credit",
           "test",
           {{issuance, Points(-points)}, {person->ledger_account, Points(points)}}},
          clock_);
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  std::int64_t pointsOf(const Principal& p) { return accounts_.personAccount(p)->points.value(); }
  std::int64_t platformPoints() {
    return t_.db().read([](soci::session& sql) {
      auto id = account::findLedgerAccount(sql, kPlatformPointsAccount);
      return id ? account::balanceOf(sql, *id).value() : 0;
    });
  }
  void expectBooksBalanced() {
    auto ledger = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(ledger.ok) << ledger.problem;
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
    auto registry = registry_.check();
    EXPECT_TRUE(registry.ok) << registry.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  account::CarbonAccountService accounts_;
  registry::RegistryService registry_;
  NeutralService neutral_;
  Principal province_, organiser_, other_, resident_;
  std::string expo_account_, other_account_, inventory_;
};

TEST(FootprintCalculatorTest, TheShippedCalculatorMatchesTheHandComputedExample) {
  // car 10 × 40 km × 0.072 L/km × 2347.7 g/L = 67,613.76 g
  // rail (100 × 40 + 50 × 300) km × 30.48 g/km = 579,120 g
  // air 20 × 3,548 km × 112.9 g/km = 8,011,384 g
  // hotel 70 × 34,000 g = 2,380,000 g; venue 5,000 kWh × 404.2 g = 2,021,000 g
  // paper 30 kg × 3,913.2 g = 117,396 g; total 13,176,513.76 g → 13,176,514 g → 14 units
  auto f = FootprintCalculator::shipped()->compute(conferenceInputs());
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->grams, Grams(13'176'514));
  EXPECT_EQ(f->units_required, 14);
  EXPECT_EQ(f->calculator, "footprint.event@2");
  EXPECT_DOUBLE_EQ(f->explanation["raw_grams"].get<double>(), 13'176'513.76);
  ASSERT_EQ(f->explanation["factors"].size(), 9u);
  for (const auto& factor : f->explanation["factors"])
    EXPECT_FALSE(factor["source"].get<std::string>().empty()) << factor.dump();

  // A band's distance may be given; two groups of one mode and band add up.
  FootprintInputs in;
  in.travel = {{"rail", "national", 1}, {"rail", "national", 2}};
  in.round_trip_km["national"] = 1000;
  EXPECT_EQ(FootprintCalculator::shipped()->compute(in)->grams, Grams(91'440));
  EXPECT_EQ(unitsCovering(Grams(1'000'000)), 1);
  EXPECT_EQ(unitsCovering(Grams(1'000'001)), 2);
  EXPECT_EQ(unitsCovering(Grams(0)), 0);

  in.travel = {{"air", "local", 1}};  // no flights in the local band
  EXPECT_EQ(FootprintCalculator::shipped()->compute(in).error().field, "travel[0].mode");
  auto parsed =
      FootprintInputs::fromJson(json{{"travel", {{{"mode", "boat"}, {"band", "local"}}}}});
  EXPECT_EQ(parsed.error().field, "travel[0].mode");
  EXPECT_EQ(FootprintInputs::fromJson(json{{"meals", 3}}).error().field, "meals");
  EXPECT_EQ(FootprintInputs::fromJson(json{{"meals", {{"fish", 3}}}}).error().field, "meals.fish");
  EXPECT_EQ(FootprintInputs::fromJson(json{{"meals", {{"meat", -1}}}}).error().field, "meals.meat");
  EXPECT_EQ(FootprintInputs::fromJson(json{{"meals", {{"meat", 10'000'001}}}}).error().field,
            "meals.meat");
  EXPECT_EQ(FootprintInputs::fromJson(json{{"electricity_kwh", -1}}).error().field,
            "electricity_kwh");
}

TEST(FootprintCalculatorTest, VersionTwoCountsMealsByTypeAtAThirdOfADietsDay) {
  // Scarborough et al. 2014: 7.19 kg a day for high meat-eaters, 3.81 for vegetarians, per
  // 2,000 kcal; a meal is a third of that day: 2,396.67 g and 1,270 g.
  // The conference of version 1 (13,176,513.76 g) with 400 meat-based and 100 vegetarian meals:
  // + 958,668 + 127,000 = 14,262,181.76 g → 14,262,182 g → 15 units (14 without the meals).
  auto in = conferenceInputs();
  in.meals_meat = 400;
  in.meals_vegetarian = 100;
  auto f = FootprintCalculator::shipped()->compute(in);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->grams, Grams(14'262'182));
  EXPECT_EQ(f->units_required, 15);
  EXPECT_DOUBLE_EQ(f->explanation["raw_grams"].get<double>(), 14'262'181.76);
  bool cited = false;
  for (const auto& factor : f->explanation["factors"])
    if (factor["ref"] == "food.meal.meat_based")
      cited = factor["source"].get<std::string>().find("Climatic Change 125:179-192") !=
              std::string::npos;
  EXPECT_TRUE(cited) << f->explanation.dump();

  // The JSON form round-trips the meals.
  auto back = FootprintInputs::fromJson(in.toJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->meals_meat, 400);
  EXPECT_EQ(back->meals_vegetarian, 100);
  EXPECT_EQ(FootprintCalculator::shipped()->describe()["meal_types"].size(), 2u);
}

TEST(FootprintCalculatorTest, VersionOneStillComputesWhatItComputedAndHasNoMeals) {
  auto read = [](const std::string& path) {
    std::ifstream file(std::string(TPH_SOURCE_DIR) + "/" + path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  };
  auto v1 = FootprintCalculator::load(read("data/footprints/event.footprint@1.toml"),
                                      read("data/emission_factors.toml"),
                                      "data/footprints/event.footprint@1.toml");
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ((*v1)->id(), "footprint.event@1");
  EXPECT_EQ((*v1)->compute(conferenceInputs())->grams, Grams(13'176'514));
  EXPECT_EQ((*v1)->describe()["meal_types"].size(), 0u);
  auto in = conferenceInputs();
  in.meals_vegetarian = 1;
  EXPECT_EQ((*v1)->compute(in).error().field, "meals.vegetarian");
}

TEST_F(NeutralTest, NeutralisingRetiresExactlyTheWholeUnitsCoveringTheFootprint) {
  auto batch = issue(expo_account_, 20);
  auto e = conference(organiser_);
  EXPECT_EQ(e.footprint, Grams(13'176'514));
  EXPECT_EQ(e.units_required, 14);
  EXPECT_FALSE(e.neutralised());

  auto done = neutral_.neutraliseWithUnits(organiser_, e.id, {"n-1", expo_account_});
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_FALSE(done->duplicate);
  EXPECT_TRUE(done->event.neutralised());
  EXPECT_EQ(done->event.units_retired, 14);
  EXPECT_EQ(done->event.neutralised_with, "units");
  ASSERT_EQ(done->event.retirements.size(), 1u);
  const auto& r = done->event.retirements[0];
  EXPECT_EQ(r.units, 14);
  EXPECT_EQ(r.beneficiary, "2026 大湾区低碳论坛");
  ASSERT_EQ(r.serials.size(), 1u);
  char expected[80];
  std::snprintf(expected, sizeof expected, "CN-GD-PHCER-440300-travel.metro-2026-%06lld-%08d-%08d",
                static_cast<long long>(batch), 1, 14);
  EXPECT_EQ(r.serials[0], expected);
  EXPECT_EQ(held(expo_account_), Units(6));
  auto retirements = registry_.retirements(10, 0);
  ASSERT_EQ(retirements->size(), 1u);
  EXPECT_EQ((*retirements)[0].reason, "carbon_neutral_event");
  EXPECT_EQ((*retirements)[0].units, Units(14));

  // A retry answers the first neutralisation; another request is refused.
  auto again = neutral_.neutraliseWithUnits(organiser_, e.id, {"n-1", expo_account_});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(neutral_.neutraliseWithUnits(organiser_, e.id, {"n-2", expo_account_}).error().field,
            "event");
  EXPECT_EQ(held(expo_account_), Units(6));

  // The public page shows the event, its explanation and the retired serial block.
  auto page = neutral_.event(e.id);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->retirements[0].serials[0], expected);
  EXPECT_EQ(page->explanation["grams"], 13'176'514);
  EXPECT_EQ(page->inputs["hotel_nights"], 70);
  auto listed = neutral_.neutralisedEvents(10, 0);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, e.id);
  expectBooksBalanced();
}

TEST_F(NeutralTest, TooFewUnitsOrTheWrongPersonLeaveNothingRetired) {
  issue(expo_account_, 10);
  issue(other_account_, 50);
  auto e = conference(organiser_);

  auto short_of_units = neutral_.neutraliseWithUnits(organiser_, e.id, {"a", expo_account_});
  ASSERT_FALSE(short_of_units.ok());
  EXPECT_EQ(short_of_units.error().code, ErrorCode::kConflict);
  EXPECT_EQ(held(expo_account_), Units(10));
  auto fewer = neutral_.neutraliseWithUnits(organiser_, e.id, {"b", expo_account_, 13});
  EXPECT_EQ(fewer.error().field, "units");

  // Someone else cannot neutralise the organiser's event, even holding the units.
  auto stranger = neutral_.neutraliseWithUnits(other_, e.id, {"c", other_account_});
  EXPECT_EQ(stranger.error().code, ErrorCode::kForbidden);
  // Nor may the organiser take units from an account it does not belong to.
  auto not_member = neutral_.neutraliseWithUnits(organiser_, e.id, {"d", other_account_});
  EXPECT_EQ(not_member.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(not_member.error().field, "account_no");
  EXPECT_EQ(held(other_account_), Units(50));
  EXPECT_FALSE(neutral_.event(e.id)->neutralised());
  EXPECT_EQ(neutral_.certificate(e.id, "http://x/neutral/events/1").error().code,
            ErrorCode::kConflict);

  // Once the organiser holds enough, the refusals have left the event open to neutralise.
  issue(expo_account_, 4);
  auto done = neutral_.neutraliseWithUnits(organiser_, e.id, {"e", expo_account_, 14});
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(held(expo_account_), Units(0));
  expectBooksBalanced();
}

TEST_F(NeutralTest, ResidentsPayPointsForThePlatformsInventoryInOneTransaction) {
  NewEvent trip;
  trip.kind = "personal";
  trip.name = "小明的2026年春节返乡";
  trip.starts_on = "2026-02-10";
  trip.ends_on = "2026-02-20";
  trip.city = "440300";
  trip.footprint.travel = {{"air", "national", 3}};  // 3 × 3,548 km × 112.9 = 1,201,707.6 g
  auto e = neutral_.registerEvent(resident_, trip);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->footprint, Grams(1'201'708));
  EXPECT_EQ(e->units_required, 2);
  EXPECT_EQ(e->organiser_name, "xiaoming");

  credit(resident_, 2500);
  auto no_rate = neutral_.neutraliseWithPoints(resident_, e->id, "p-0");
  EXPECT_EQ(no_rate.error().field, "points_per_unit");
  EXPECT_EQ(neutral_.setPointsRate(organiser_, 1000, inventory_).error().code,
            ErrorCode::kForbidden);
  auto rate = neutral_.setPointsRate(province_, 1000, inventory_);
  ASSERT_TRUE(rate.ok()) << rate.error().message;
  EXPECT_EQ(rate->points_per_unit, 1000);

  // The inventory is empty: refused, and no point has moved.
  auto empty = neutral_.neutraliseWithPoints(resident_, e->id, "p-1");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "inventory");
  EXPECT_EQ(pointsOf(resident_), 2500);
  EXPECT_EQ(platformPoints(), 0);

  auto batch = issue(inventory_, 5);
  auto done = neutral_.neutraliseWithPoints(resident_, e->id, "p-2");
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->event.neutralised_with, "points");
  EXPECT_EQ(done->event.points_paid, 2000);
  EXPECT_EQ(done->event.units_retired, 2);
  EXPECT_EQ(pointsOf(resident_), 500);
  EXPECT_EQ(platformPoints(), 2000);
  EXPECT_EQ(held(inventory_), Units(3));
  ASSERT_EQ(done->event.retirements.size(), 1u);
  EXPECT_EQ(done->event.retirements[0].from_account_no, inventory_);
  char expected[80];
  std::snprintf(expected, sizeof expected, "CN-GD-PHCER-440300-travel.metro-2026-%06lld-%08d-%08d",
                static_cast<long long>(batch), 1, 2);
  EXPECT_EQ(done->event.retirements[0].serials[0], expected);
  EXPECT_TRUE(neutral_.neutraliseWithPoints(resident_, e->id, "p-2")->duplicate);
  EXPECT_EQ(pointsOf(resident_), 500);

  // Too few points: refused, nothing moved.
  auto second = neutral_.registerEvent(resident_, trip);
  ASSERT_TRUE(second.ok());
  auto poor = neutral_.neutraliseWithPoints(resident_, second->id, "p-3");
  EXPECT_EQ(poor.error().field, "points");
  EXPECT_EQ(pointsOf(resident_), 500);
  EXPECT_EQ(held(inventory_), Units(3));
  // Another user cannot pay for someone's footprint.
  EXPECT_EQ(neutral_.neutraliseWithPoints(organiser_, second->id, "p-4").error().code,
            ErrorCode::kForbidden);
  expectBooksBalanced();
}

TEST_F(NeutralTest, ParallelNeutralisationsOfOneEventRetireItsUnitsOnce) {
  issue(expo_account_, 100);
  auto e = conference(organiser_);
  std::atomic<int> succeeded{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto r = neutral_.neutraliseWithUnits(organiser_, e.id,
                                            {"race-" + std::to_string(i), expo_account_});
      if (r.ok()) {
        ++succeeded;
      } else if (r.error().field == "event") {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), 1);
  EXPECT_EQ(refused.load(), 5);
  EXPECT_EQ(held(expo_account_), Units(86));
  EXPECT_EQ(neutral_.event(e.id)->retirements.size(), 1u);
  expectBooksBalanced();
}

TEST_F(NeutralTest, TheCertificateIsAPdfNamingTheEvent) {
  issue(expo_account_, 14);
  auto e = conference(organiser_);
  ASSERT_TRUE(neutral_.neutraliseWithUnits(organiser_, e.id, {"n", expo_account_}).ok());
  std::string url = "https://tanpuhui.example/neutral/events/" + std::to_string(e.id);
  auto pdf = neutral_.certificate(e.id, url);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(pdf->substr(0, 4), "%PDF");
  EXPECT_NE(pdf->find("Carbon-neutral certificate, event " + std::to_string(e.id)),
            std::string::npos);
  EXPECT_NE(pdf->find(url), std::string::npos);  // the QR code's URL, in the keywords
  EXPECT_GT(pdf->size(), 5000u);
  EXPECT_EQ(neutral_.certificate(e.id + 100, url).error().code, ErrorCode::kNotFound);
}

TEST_F(NeutralTest, RegistrationValidatesItsInputs) {
  NewEvent e;
  e.name = "论坛";
  e.starts_on = "2026-06-02";
  e.ends_on = "2026-06-01";
  e.city = "440300";
  EXPECT_EQ(neutral_.registerEvent(organiser_, e).error().field, "ends_on");
  e.ends_on = "2026-06-03";
  e.city = "999999";
  EXPECT_EQ(neutral_.registerEvent(organiser_, e).error().field, "city");
  e.city = "440300";
  e.kind = "party";
  EXPECT_EQ(neutral_.registerEvent(organiser_, e).error().field, "kind");
  e.kind = "event";
  e.name = "";
  EXPECT_EQ(neutral_.registerEvent(organiser_, e).error().field, "name");
  e.name = "零排放的会";
  auto zero = neutral_.registerEvent(organiser_, e);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(neutral_.neutraliseWithUnits(organiser_, zero->id, {"z", expo_account_}).error().field,
            "footprint");
  EXPECT_EQ(neutral_.eventsOf(organiser_, 10, 0)->size(), 1u);
  EXPECT_EQ(neutral_.eventsOf(other_, 10, 0)->size(), 0u);
}

}  // namespace
}  // namespace tph::neutral
