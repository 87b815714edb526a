#include <gtest/gtest.h>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "certify/certify_service.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::ingest {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

class IngestTest : public ::testing::Test {
 protected:
  IngestTest()
      : clock_(*parseIso8601("2026-03-10T04:00:00Z")),
        methodologies_(t_.db(), clock_),
        providers_(t_.db(), clock_),
        ingest_(t_.db(), clock_, methodologies_),
        bindings_(t_.db(), clock_, ingest_),
        accounts_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"}},
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
    alice_ = make("alice", Role::kResident, "");
    bob_ = make("bob", Role::kResident, "");
    sz_admin_ = make("sz_admin", Role::kRegionAdmin, "440300");
    gz_admin_ = make("gz_admin", Role::kRegionAdmin, "440100");
    metro_user_ = make("metro_feed", Role::kProvider, "440300");
    bus_user_ = make("bus_feed", Role::kProvider, "440300");
    auto metro = providers_.registerProvider(sz_admin_, {"sz-metro",
                                                         "深圳地铁",
                                                         "transit_operator",
                                                         metro_user_.user_id,
                                                         {"440300"},
                                                         {"travel.metro", "travel.walk"},
                                                         ""});
    EXPECT_TRUE(metro.ok()) << metro.error().message;
    metro_ = *metro;
    bus_ = *providers_.registerProvider(sz_admin_, {"sz-bus",
                                                    "深圳巴士",
                                                    "transit_operator",
                                                    bus_user_.user_id,
                                                    {"440300"},
                                                    {"travel.bus"},
                                                    ""});
    alice_account_ = accounts_.personAccount(alice_, "440305")->id;
  }

  static json record(const std::string& id, const std::string& ref, const std::string& at,
                     json inputs, const std::string& methodology = "travel.metro",
                     const std::string& region = "440305") {
    return {{"provider_record_id", id}, {"subject_ref", ref}, {"methodology", methodology},
            {"occurred_at", at},        {"region", region},   {"inputs", std::move(inputs)}};
  }
  BatchReport send(const Provider& p, std::vector<json> records) {
    std::vector<IncomingRecord> in;
    for (auto& r : records) in.push_back({std::move(r), ""});
    auto report = ingest_.ingestBatch(p, in, "test");
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : BatchReport{};
  }
  void bind(const Provider& p, const std::string& ref, std::int64_t account) {
    auto b = bindings_.bindDirect("test", p.id, ref, account);
    ASSERT_TRUE(b.ok()) << b.error().message;
  }
  std::int64_t grams(std::int64_t account) {
    return t_.db().read([&](soci::session& sql) {
      long long g = 0, id = account;
      soci::indicator ind;
      sql << "SELECT SUM(grams) FROM reductions WHERE account_id = :a", soci::use(id),
          soci::into(g, ind);
      return ind == soci::i_null ? 0LL : g;
    });
  }
  std::map<std::string, std::int64_t> gramsByRecord() {
    return t_.db().read([&](soci::session& sql) {
      std::map<std::string, std::int64_t> out;
      soci::rowset<soci::row> rows = sql.prepare
                                     << "SELECT e.provider_record_id, r.grams FROM reductions r "
                                        "JOIN ingest_records e ON e.id = r.record_id";
      for (const auto& row : rows) out[row.get<std::string>(0)] = store::rowInt64(row, 1);
      return out;
    });
  }
  Points points(std::int64_t account) { return accounts_.account(alice_, account)->points; }
  void expectConsistent() {
    auto ledger = t_.db().read([](soci::session& sql) { return account::verifyLedger(sql); });
    EXPECT_TRUE(ledger.ok) << ledger.problem;
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  ProviderService providers_;
  IngestService ingest_;
  BindingService bindings_;
  account::CarbonAccountService accounts_;
  Principal alice_, bob_, sz_admin_, gz_admin_, metro_user_, bus_user_;
  Provider metro_, bus_;
  std::int64_t alice_account_ = 0;
};

TEST_F(IngestTest, ABoundRecordIsCreditedWithPointsAndExplanation) {
  bind(metro_, "ref-alice", alice_account_);
  auto report =
      send(metro_, {record("m1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}})});
  EXPECT_EQ(report.credited, 1);
  EXPECT_EQ(report.grams, 467);
  EXPECT_EQ(grams(alice_account_), 467);
  EXPECT_EQ(points(alice_account_), Points(4));
  // The row keeps the compact result; the history explains it in full from the version.
  auto stored = t_.db().read([](soci::session& sql) {
    std::string e;
    sql << "SELECT explanation FROM reductions", soci::into(e);
    return json::parse(e);
  });
  EXPECT_EQ(stored["raw"], 467.0);
  EXPECT_FALSE(stored.contains("factors"));
  auto history = ingest_.history(alice_account_, 10, 0);
  ASSERT_EQ(history.size(), 1u);
  const auto& explained = history[0].explanation;
  EXPECT_EQ(explained["methodology"], "travel.metro");
  EXPECT_EQ(explained["factors"][0]["value"], 46.7);
  EXPECT_EQ(explained["inputs"][0]["value"], 10.0);
  EXPECT_EQ(explained["grams"], 467);
  expectConsistent();
}

TEST_F(IngestTest, EveryQuarantineReason) {
  bind(metro_, "ref-alice", alice_account_);
  auto report = send(
      metro_, {
                  json{{"subject_ref", "ref-alice"}},  // malformed: no id
                  record("q1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}},
                         "travel.teleport"),
                  record("q2", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}},
                         "travel.bus"),
                  record("q3", "ref-alice", "2026-03-09T08:00:00+08:00", json::object()),
                  record("q4", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 900}}),
                  record("q5", "ref-alice", "2026-03-11T08:00:00+08:00", {{"distance_km", 10}}),
                  record("q6", "ref-alice", "2024-01-01T08:00:00+08:00", {{"distance_km", 10}}),
                  record("q7", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}},
                         "travel.metro", "449999"),
                  record("q8", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}},
                         "travel.metro", "440100"),
                  record("q9", "ref-alice", "not a time", {{"distance_km", 10}}),
              });
  EXPECT_EQ(report.quarantined, 10);
  EXPECT_EQ(report.credited, 0);
  std::map<std::string, std::string> reasons;
  for (const auto& q : report.quarantined_records)
    reasons[q.provider_record_id.empty() ? "#" + std::to_string(q.index) : q.provider_record_id] =
        q.reason;
  EXPECT_EQ(reasons["#0"], "malformed");
  EXPECT_EQ(reasons["q1"], "unknown_methodology");
  EXPECT_EQ(reasons["q2"], "methodology_not_allowed");
  EXPECT_EQ(reasons["q3"], "invalid_inputs");
  EXPECT_EQ(reasons["q4"], "invalid_inputs");
  EXPECT_EQ(reasons["q5"], "future");
  EXPECT_EQ(reasons["q6"], "too_old");
  EXPECT_EQ(reasons["q7"], "unknown_region");
  EXPECT_EQ(reasons["q8"], "region_not_allowed");
  EXPECT_EQ(reasons["q9"], "malformed");
  auto listed = ingest_.records(metro_, "quarantined", 100, 0);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 9u);  // the record without an id cannot be stored, only answered
  expectConsistent();
}

TEST_F(IngestTest, ACorrectedRecordReplacesItsQuarantinedSelf) {
  bind(metro_, "ref-alice", alice_account_);
  auto bad = send(metro_,
                  {record("m1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 900}})});
  EXPECT_EQ(bad.quarantined, 1);
  auto fixed =
      send(metro_, {record("m1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 9}})});
  EXPECT_EQ(fixed.credited, 1);
  EXPECT_TRUE(ingest_.records(metro_, "quarantined", 10, 0)->empty());
}

TEST_F(IngestTest, DuplicatesAreCountedOnceAndAnsweredWithTheFirstOutcome) {
  bind(metro_, "ref-alice", alice_account_);
  auto r = record("m1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}});
  auto first = send(metro_, {r, r});
  EXPECT_EQ(first.credited, 1);
  EXPECT_EQ(first.duplicate, 1);
  auto again = send(metro_, {r});
  EXPECT_EQ(again.duplicate, 1);
  ASSERT_EQ(again.duplicates.size(), 1u);
  EXPECT_EQ(again.duplicates[0].first_outcome, "credited");
  EXPECT_EQ(grams(alice_account_), 467);
  expectConsistent();
}

TEST_F(IngestTest, UnboundRecordsAreHeldThenCreditedWhenBoundOrExpire) {
  auto report =
      send(metro_, {record("m1", "ref-new", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}}),
                    record("m2", "ref-late", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}})});
  EXPECT_EQ(report.held, 2);
  bind(metro_, "ref-new", alice_account_);
  EXPECT_EQ(grams(alice_account_), 467);
  EXPECT_EQ(ingest_.records(metro_, "held", 10, 0)->size(), 1u);
  clock_.advance(std::chrono::hours(91 * 24));
  // The next batch, whatever it holds, expires what waited too long.
  send(bus_, {});
  EXPECT_EQ(*ingest_.expireHeld(), 0);
  EXPECT_EQ(ingest_.records(metro_, "expired", 10, 0)->size(), 1u);
  auto bob_account = accounts_.personAccount(bob_, "440305")->id;
  bind(metro_, "ref-late", bob_account);
  EXPECT_EQ(grams(bob_account), 0);
  expectConsistent();
}

TEST_F(IngestTest, DailyCapsKeepTheEarliestRecords) {
  bind(metro_, "ref-alice", alice_account_);
  // travel.walk: 0.02 g a step, at most 300 g a day.
  auto report = send(
      metro_,
      {record("w1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"steps", 10000}}, "travel.walk"),
       record("w2", "ref-alice", "2026-03-09T12:00:00+08:00", {{"steps", 4000}}, "travel.walk"),
       record("w3", "ref-alice", "2026-03-09T18:00:00+08:00", {{"steps", 4000}}, "travel.walk")});
  EXPECT_EQ(report.credited, 3);
  auto by = gramsByRecord();
  EXPECT_EQ(by["w1"] + by["w2"] + by["w3"], 300);
  EXPECT_EQ(by["w1"], 200);
  EXPECT_EQ(by["w3"], 20);
  // The next day starts afresh.
  send(metro_,
       {record("w4", "ref-alice", "2026-03-10T08:00:00+08:00", {{"steps", 5000}}, "travel.walk")});
  EXPECT_EQ(gramsByRecord()["w4"], 100);
  expectConsistent();
}

TEST_F(IngestTest, ADayCreditedOverSeveralBatchesKeepsItsCap) {
  bind(metro_, "ref-alice", alice_account_);
  // travel.walk: 0.02 g a step, at most 300 g a day; each batch adds to what the day has used.
  auto walk = [](const std::string& id, const std::string& at, int steps) {
    return record(id, "ref-alice", at, {{"steps", steps}}, "travel.walk");
  };
  send(metro_, {walk("w1", "2026-03-09T08:00:00+08:00", 10000)});
  send(metro_, {walk("w2", "2026-03-09T12:00:00+08:00", 10000)});
  send(metro_, {walk("w3", "2026-03-09T18:00:00+08:00", 5000)});
  auto by = gramsByRecord();
  EXPECT_EQ(by["w1"], 200);
  EXPECT_EQ(by["w2"], 100);
  EXPECT_EQ(by["w3"], 0);
  EXPECT_EQ(grams(alice_account_), 300);
  expectConsistent();
}

TEST_F(IngestTest, ALateRecordNeverChangesCertifiedGrams) {
  bind(metro_, "ref-alice", alice_account_);
  auto walk = [](const std::string& id, const std::string& at, int steps) {
    return record(id, "ref-alice", at, {{"steps", steps}}, "travel.walk");
  };
  send(metro_, {walk("w2", "2026-03-09T12:00:00+08:00", 10000),
                walk("w3", "2026-03-09T18:00:00+08:00", 5000)});
  // The day is certified: a batch locks its reductions (200 g + 100 g).
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  auth::AuthService auth(t_.db(), clock_, options);
  certify::CertifyService certify(t_.db(), clock_, auth, methodologies_);
  auto batch = certify.open(sz_admin_, {"travel.walk", "440300", "2026-03-09", "2026-03-09", {}});
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch->grams_locked, Grams(300));
  // A record from earlier that day arrives late: it would come first in the day's order, but the
  // locked reductions keep their grams and the late record gets what the cap leaves (nothing).
  auto late = send(metro_, {walk("w1", "2026-03-09T08:00:00+08:00", 10000)});
  EXPECT_EQ(late.credited, 1);
  auto by = gramsByRecord();
  EXPECT_EQ(by["w2"], 200);
  EXPECT_EQ(by["w3"], 100);
  EXPECT_EQ(by["w1"], 0);
  EXPECT_EQ(grams(alice_account_), 300);
  expectConsistent();
}

TEST_F(IngestTest, TheSameRecordsEarnTheSameWhateverTheArrivalOrder) {
  bind(metro_, "ref-alice", alice_account_);
  std::vector<json> day = {
      record("w1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"steps", 9000}}, "travel.walk"),
      record("w2", "ref-alice", "2026-03-09T12:00:00+08:00", {{"steps", 5000}}, "travel.walk"),
      record("w3", "ref-alice", "2026-03-09T18:00:00+08:00", {{"steps", 5000}}, "travel.walk")};
  send(metro_, {day[2]});
  send(metro_, {day[1]});
  send(metro_, {day[0]});
  auto by = gramsByRecord();
  EXPECT_EQ(by["w1"], 180);
  EXPECT_EQ(by["w2"], 100);
  EXPECT_EQ(by["w3"], 20);
  EXPECT_EQ(points(alice_account_), Points(1 + 1 + 0));
  expectConsistent();
}

TEST_F(IngestTest, OverlappingTripsFromTwoProvidersAreHeldForReview) {
  bind(metro_, "ref-alice-m", alice_account_);
  bind(bus_, "ref-alice-b", alice_account_);
  send(metro_, {record("m1", "ref-alice-m", "2026-03-09T08:00:00+08:00", {{"distance_km", 10}})});
  auto bus = send(bus_, {record("b1", "ref-alice-b", "2026-03-09T08:05:00+08:00",
                                {{"distance_km", 5}}, "travel.bus")});
  EXPECT_EQ(bus.held, 1);
  auto held = ingest_.heldForReview(sz_admin_, 10, 0);
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].reason, "fraud_overlap");
  EXPECT_TRUE(ingest_.heldForReview(gz_admin_, 10, 0)->empty());
  EXPECT_EQ(ingest_.approveHeld(gz_admin_, (*held)[0].id).error().code, ErrorCode::kNotFound);
  auto approved = ingest_.approveHeld(sz_admin_, (*held)[0].id);
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(grams(alice_account_), 467 + 134);  // 5 km × 26.9 g = 134.5, half to even
  expectConsistent();
}

TEST_F(IngestTest, ImpossibleSpeedAndBurstsAreHeldAndCanBeRejected) {
  bind(metro_, "ref-alice", alice_account_);
  auto fast =
      send(metro_, {record("m1", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 5}}),
                    record("m2", "ref-alice", "2026-03-09T08:10:00+08:00", {{"distance_km", 60}})});
  EXPECT_EQ(fast.credited, 1);
  EXPECT_EQ(fast.held, 1);
  std::vector<json> burst;
  for (int i = 0; i < 14; ++i) {
    char at[40];
    std::snprintf(at, sizeof at, "2026-03-08T10:%02d:00+08:00", i * 4);
    burst.push_back(record("burst" + std::to_string(i), "ref-alice", at, {{"distance_km", 1}}));
  }
  auto many = send(metro_, burst);
  EXPECT_GT(many.held, 0);
  auto held = ingest_.heldForReview(sz_admin_, 100, 0);
  ASSERT_FALSE(held->empty());
  std::set<std::string> reasons;
  for (const auto& r : *held) reasons.insert(r.reason);
  EXPECT_TRUE(reasons.count("fraud_speed"));
  EXPECT_TRUE(reasons.count("fraud_velocity"));
  auto rejected = ingest_.rejectHeld(sz_admin_, held->front().id, "card shared between two people");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->status, "rejected");
  EXPECT_EQ(ingest_.rejectHeld(sz_admin_, held->front().id, "again").error().code,
            ErrorCode::kConflict);
  expectConsistent();
}

TEST_F(IngestTest, ResidentsTravellingAtOnceAreJudgedEachOnTheirOwnTrips) {
  auto bob_account = accounts_.personAccount(bob_, "440305")->id;
  bind(metro_, "ref-alice", alice_account_);
  bind(metro_, "ref-bob", bob_account);
  // Alice and Bob ride at nearly the same minute: neither is too fast, since each one's trips are
  // compared with their own only.
  auto report =
      send(metro_, {record("ra", "ref-alice", "2026-03-09T08:00:00+08:00", {{"distance_km", 20}}),
                    record("rb", "ref-bob", "2026-03-09T08:01:00+08:00", {{"distance_km", 20}})});
  EXPECT_EQ(report.credited, 2);
  EXPECT_EQ(report.held, 0);
}

TEST_F(IngestTest, ABindingIsConfirmedWithTheProvidersCodeAndCreditsWhatWasHeld) {
  std::string ref = pseudonymise(metro_.pseudonym_key, "SZT-0001-2345");
  send(metro_, {record("m1", ref, "2026-03-09T08:00:00+08:00", {{"distance_km", 10}})});
  auto requested = bindings_.request(alice_, "sz-metro", " SZT-0001-2345 ", std::nullopt);
  ASSERT_TRUE(requested.ok()) << requested.error().message;
  EXPECT_EQ(requested->subject_ref, ref);
  EXPECT_EQ(requested->status, "pending");
  EXPECT_EQ(bindings_.confirm(alice_, requested->id, "123456").error().field,
            "code");  // no code yet
  auto pending = bindings_.pending(metro_user_);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_FALSE(bindings_.issueCode(bus_user_, requested->id, "123456").ok());
  ASSERT_TRUE(bindings_.issueCode(metro_user_, requested->id, "482913").ok());
  EXPECT_EQ(bindings_.confirm(bob_, requested->id, "482913").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(bindings_.confirm(alice_, requested->id, "000000").error().field, "code");
  auto confirmed = bindings_.confirm(alice_, requested->id, "482913");
  ASSERT_TRUE(confirmed.ok()) << confirmed.error().message;
  EXPECT_EQ(confirmed->status, "active");
  EXPECT_EQ(grams(alice_account_), 467);

  // One account at a time: Bob cannot take the reference until Alice unbinds it.
  EXPECT_EQ(bindings_.request(bob_, "sz-metro", "SZT-0001-2345", std::nullopt).error().code,
            ErrorCode::kConflict);
  ASSERT_TRUE(bindings_.unbind(alice_, requested->id).ok());
  EXPECT_TRUE(bindings_.request(bob_, "sz-metro", "SZT-0001-2345", std::nullopt).ok());
  // Records now wait for Bob's confirmation.
  auto later =
      send(metro_, {record("m2", ref, "2026-03-09T18:00:00+08:00", {{"distance_km", 10}})});
  EXPECT_EQ(later.held, 1);
  expectConsistent();
}

TEST_F(IngestTest, WrongCodesRunOut) {
  auto requested = bindings_.request(alice_, "sz-metro", "SZT-9", std::nullopt);
  ASSERT_TRUE(bindings_.issueCode(metro_user_, requested->id, "482913").ok());
  for (int i = 0; i < kBindingMaxAttempts; ++i)
    EXPECT_FALSE(bindings_.confirm(alice_, requested->id, "111111").ok());
  EXPECT_EQ(bindings_.confirm(alice_, requested->id, "482913").error().code,
            ErrorCode::kRateLimited);
}

TEST_F(IngestTest, HouseholdMethodologiesNeedAHouseholdAccount) {
  auto power = providers_.registerProvider(sz_admin_, {"sz-power",
                                                       "深圳供电局",
                                                       "power_utility",
                                                       std::nullopt,
                                                       {"440300"},
                                                       {"electricity.household_saving"},
                                                       ""});
  ASSERT_TRUE(power.ok()) << power.error().message;
  bind(*power, "meter-alice", alice_account_);
  auto wrong = send(*power, {record("e1", "meter-alice", "2026-03-01T00:00:00+08:00",
                                    {{"baseline_kwh", 300}, {"actual_kwh", 250}},
                                    "electricity.household_saving")});
  EXPECT_EQ(wrong.quarantined, 1);
  auto home = accounts_.createHousehold(bob_, "Bob's", "440305");
  bind(*power, "meter-bob", home->id);
  auto right = send(*power, {record("e2", "meter-bob", "2026-03-01T00:00:00+08:00",
                                    {{"baseline_kwh", 300}, {"actual_kwh", 250}},
                                    "electricity.household_saving")});
  EXPECT_EQ(right.credited, 1);
  EXPECT_EQ(grams(home->id), 20210);
  expectConsistent();
}

TEST_F(IngestTest, ProvidersAreRegisteredByTheRightAdmins) {
  EXPECT_EQ(providers_
                .registerProvider(
                    gz_admin_, {"gz-x", "x", "other", std::nullopt, {"440300"}, {"travel.bus"}, ""})
                .error()
                .code,
            ErrorCode::kForbidden);
  EXPECT_EQ(
      providers_
          .registerProvider(
              sz_admin_, {"sz-metro", "x", "other", std::nullopt, {"440300"}, {"travel.bus"}, ""})
          .error()
          .code,
      ErrorCode::kConflict);
  EXPECT_EQ(
      providers_
          .registerProvider(
              sz_admin_, {"sz-y", "x", "spaceport", std::nullopt, {"440300"}, {"travel.bus"}, ""})
          .error()
          .field,
      "kind");
  EXPECT_EQ(providers_
                .registerProvider(
                    sz_admin_, {"sz-z", "x", "other", std::nullopt, {"440300"}, {"travel.x"}, ""})
                .error()
                .field,
            "methodologies");
  EXPECT_EQ(providers_.list(gz_admin_)->size(), 0u);
  EXPECT_EQ(providers_.list(sz_admin_)->size(), 2u);
  EXPECT_EQ(providers_.forPrincipal(metro_user_)->key, "sz-metro");
}

}  // namespace
}  // namespace tph::ingest
