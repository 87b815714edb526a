// Pilot regions: the shipped GB/T 2260 tree, region roles at county level, the application
// lifecycle (deadline, permissions, rubric scoring, decision) and quarterly progress measured from
// real credited reductions.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "methodology/methodology_service.h"
#include "pilot/fund_service.h"
#include "pilot/pilot_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::pilot {
namespace {

using auth::Principal;
using auth::Role;

TEST(RegionTree, ShipsEveryCountyLevelDivisionOfGuangdong) {
  auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
  ASSERT_TRUE(regions.ok()) << regions.error().message;
  int provinces = 0, cities = 0, counties = 0;
  std::set<std::string> codes;
  for (const auto& r : *regions) {
    codes.insert(r.code);
    if (r.level == "province") ++provinces;
    if (r.level == "city") ++cities;
    if (r.level == "county") {
      ++counties;
      EXPECT_TRUE(codes.count(r.parent_code)) << r.code << " comes before its city";
    }
  }
  EXPECT_EQ(provinces, 1);
  EXPECT_EQ(cities, 21);
  EXPECT_EQ(counties, 122);  // 65 districts, 20 county-level cities, 34 counties, 3 autonomous
  EXPECT_TRUE(codes.count("441322"));  // 博罗县 Boluo, Huizhou
  EXPECT_TRUE(codes.count("445381"));  // 罗定市 Luoding, Yunfu

  testing::TestDatabase t;
  ManualClock clock(testing::testEpoch());
  region::RegionService service(t.db(), clock);
  auto loaded = service.load(*regions, "test");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->inserted, 144);
  EXPECT_EQ(service.load(*regions, "test")->unchanged, 144);
}

TEST(RegionRoles, CoverDescendantsAtCountyLevel) {
  Principal huizhou{1, "hz", "hz", {{Role::kRegionAdmin, "441300"}}, {}};
  Principal boluo{2, "bl", "bl", {{Role::kRegionAdmin, "441322"}}, {}};
  EXPECT_TRUE(huizhou.administersRegion("441322"));
  EXPECT_TRUE(huizhou.administersRegion("441300"));
  EXPECT_FALSE(huizhou.administersRegion("441200"));
  EXPECT_TRUE(boluo.administersRegion("441322"));
  EXPECT_FALSE(boluo.administersRegion("441323"));  // Huidong, a neighbouring county
  EXPECT_FALSE(boluo.administersRegion("441300"));  // not its city
}

auth::AuthOptions fastAuth() {
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  return options;
}

class PilotTest : public ::testing::Test {
 protected:
  // 1 June 2026, 10:00 in Guangdong.
  PilotTest()
      : clock_(*parseIso8601("2026-06-01T02:00:00Z")),
        methodologies_(t_.db(), clock_),
        auth_(t_.db(), clock_, fastAuth()),
        pilots_(t_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
    auto imported = methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok());
    province_ = make("gd_admin", {{Role::kProvinceAdmin, "440000"}});
    sz_admin_ = make("sz_admin", {{Role::kRegionAdmin, "440300"}});
    nanshan_admin_ = make("ns_admin", {{Role::kRegionAdmin, "440305"}});
    futian_admin_ = make("ft_admin", {{Role::kRegionAdmin, "440304"}});
    reviewer_a_ = make("expert_a", {{Role::kVerifier, ""}});
    reviewer_b_ = make("expert_b", {{Role::kVerifier, ""}});
  }

  Principal make(const std::string& name, std::vector<auth::RoleGrant> grants) {
    auto u = auth_.createUserAsSystem("test", {name, "green-travel-42", name, grants}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  static PilotPlan plan() {
    auto p = planFromJson(nlohmann::json::parse(R"({
      "approach": "以低碳出行和节约用电为突破口，建设区级碳普惠平台",
      "goals": [{"year": 2026, "participants": 50000, "tonnes": 1200, "merchants": 40, "methodologies": 2},
                {"year": 2027, "participants": 120000, "tonnes": 3000, "merchants": 90, "methodologies": 4}],
      "tasks": ["low_carbon_travel", "electricity", "low_carbon_community"],
      "safeguards": "区政府成立领导小组，设立专项资金",
      "schedule": [{"date": "2026-09-30", "title": "平台上线"}, {"date": "2026-12-31", "title": "首批核证"}]
    })"));
    EXPECT_TRUE(p.ok()) << p.error().field << ": " << p.error().message;
    return *p;
  }

  std::vector<RubricCriterion> rubric() {
    return {{"goals", "目标合理性", 10, 40},
            {"tasks", "任务可行性", 10, 35},
            {"safeguards", "保障措施", 5, 25}};
  }

  PilotRound openRound() {
    auto r = pilots_.openRound(province_, "2026 年碳普惠试点申报",
                               *parseIso8601("2026-07-31T15:59:59Z"), rubric());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }

  PilotApplication approvedNanshan() {
    auto round = openRound();
    auto a = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
    EXPECT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(pilots_.submit(nanshan_admin_, a->id).ok());
    EXPECT_TRUE(pilots_.assignReviewers(province_, a->id, {reviewer_a_.user_id}).ok());
    EXPECT_TRUE(
        pilots_.score(reviewer_a_, a->id, {{"goals", 8}, {"tasks", 7}, {"safeguards", 4}}, "")
            .ok());
    auto d = pilots_.decide(province_, a->id, true, "", "2026-04-01");
    EXPECT_TRUE(d.ok()) << d.error().message;
    return *d;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  auth::AuthService auth_;
  PilotService pilots_;
  Principal province_, sz_admin_, nanshan_admin_, futian_admin_, reviewer_a_, reviewer_b_;
};

TEST_F(PilotTest, PlanValidationNamesTheField) {
  auto j = planToJson(plan());
  j["goals"][1]["tonnes"] = -1;
  EXPECT_EQ(planFromJson(j).error().field, "plan.goals[1].tonnes");
  j = planToJson(plan());
  j["tasks"].push_back("mining");
  EXPECT_EQ(planFromJson(j).error().field, "plan.tasks[3]");
  j = planToJson(plan());
  j["schedule"][0]["date"] = "2026-02-30";
  EXPECT_EQ(planFromJson(j).error().field, "plan.schedule[0].date");
  j = planToJson(plan());
  j.erase("safeguards");
  EXPECT_EQ(planFromJson(j).error().field, "plan.safeguards");
}

TEST_F(PilotTest, RoundsNeedTheProvinceAndARubricWeighingOneHundred) {
  auto deadline = *parseIso8601("2026-07-31T15:59:59Z");
  EXPECT_EQ(pilots_.openRound(sz_admin_, "x", deadline, rubric()).error().code,
            ErrorCode::kForbidden);
  auto bad = rubric();
  bad[0].weight_percent = 30;
  EXPECT_EQ(pilots_.openRound(province_, "x", deadline, bad).error().field, "rubric");
}

TEST_F(PilotTest, ACountyAdminDraftsOnlyForItsCounty) {
  auto round = openRound();
  auto refused = pilots_.draft(futian_admin_, round.id, "440305", plan());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(pilots_.draft(sz_admin_, round.id, "440305", plan()).ok());  // the city covers it
  auto twice = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  // Futian reads nothing of Nanshan's application.
  auto listed = pilots_.applications(futian_admin_, round.id);
  EXPECT_TRUE(listed->empty());
}

TEST_F(PilotTest, SubmissionClosesAtTheDeadline) {
  auto round = openRound();
  auto a = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
  clock_.set(*parseIso8601("2026-07-31T16:00:00Z"));  // 1 August 00:00 in Guangdong
  auto late = pilots_.submit(nanshan_admin_, a->id);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().field, "deadline");
  clock_.set(*parseIso8601("2026-07-31T15:59:59Z"));  // 31 July 23:59:59, the last second
  EXPECT_TRUE(pilots_.submit(nanshan_admin_, a->id).ok());
}

TEST_F(PilotTest, ReviewersScoreAgainstTheRubricAndTheProvinceDecides) {
  auto round = openRound();
  auto a = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
  ASSERT_TRUE(pilots_.submit(nanshan_admin_, a->id).ok());
  EXPECT_EQ(pilots_.assignReviewers(sz_admin_, a->id, {reviewer_a_.user_id}).error().code,
            ErrorCode::kForbidden);
  ASSERT_TRUE(
      pilots_.assignReviewers(province_, a->id, {reviewer_a_.user_id, reviewer_b_.user_id}).ok());
  // Not assigned, out of range, missing a criterion.
  EXPECT_EQ(pilots_.score(nanshan_admin_, a->id, {}, "").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(pilots_.score(reviewer_a_, a->id, {{"goals", 11}, {"tasks", 7}, {"safeguards", 4}}, "")
                .error()
                .field,
            "scores.goals");
  EXPECT_EQ(pilots_.score(reviewer_a_, a->id, {{"goals", 8}, {"tasks", 7}}, "").error().field,
            "scores.safeguards");
  // 8/10×40 + 7/10×35 + 4/5×25 = 32 + 24.5 + 20 = 76.5
  auto scored = pilots_.score(reviewer_a_, a->id, {{"goals", 8}, {"tasks", 7}, {"safeguards", 4}},
                              "目标清晰");
  ASSERT_TRUE(scored.ok()) << scored.error().message;
  EXPECT_EQ(*scored->reviews[0].total_milli, 76'500);
  EXPECT_FALSE(scored->mean_total_milli);
  EXPECT_EQ(pilots_.decide(province_, a->id, true, "", "2026-09-01").error().field, "reviews");
  // 6/10×40 + 6/10×35 + 3/5×25 = 24 + 21 + 15 = 60
  auto both =
      pilots_.score(reviewer_b_, a->id, {{"goals", 6}, {"tasks", 6}, {"safeguards", 3}}, "");
  EXPECT_EQ(*both->mean_total_milli, 68'250);
  EXPECT_EQ(pilots_.decide(province_, a->id, false, "", "").error().field, "reason");
  auto approved = pilots_.decide(province_, a->id, true, "", "2026-09-01");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->state, "approved");
  ASSERT_EQ(pilots_.pilots().size(), 1u);
  EXPECT_EQ(pilots_.pilots()[0].pilot_from, "2026-09-01");
  EXPECT_EQ(pilots_.decide(province_, a->id, false, "late", "").error().code, ErrorCode::kConflict);
  auto report = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(report.ok);
}

TEST_F(PilotTest, RejectionKeepsItsReasons) {
  auto round = openRound();
  auto a = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
  ASSERT_TRUE(pilots_.submit(nanshan_admin_, a->id).ok());
  ASSERT_TRUE(pilots_.assignReviewers(province_, a->id, {reviewer_a_.user_id}).ok());
  auto rejected = pilots_.decide(province_, a->id, false, "目标缺少分年度测算依据", "");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->state, "rejected");
  EXPECT_EQ(rejected->decision_reason, "目标缺少分年度测算依据");
  EXPECT_TRUE(pilots_.pilots().empty());
}

TEST_F(PilotTest, AttachmentsMustBePdf) {
  auto round = openRound();
  auto a = pilots_.draft(nanshan_admin_, round.id, "440305", plan());
  EXPECT_EQ(pilots_.attach(nanshan_admin_, a->id, "plan.pdf", "aGVsbG8=").error().field,
            "content_base64");                                                  // "hello"
  auto ok = pilots_.attach(nanshan_admin_, a->id, "plan.pdf", "JVBERi0xLjQK");  // "%PDF-1.4\n"
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->bytes, 9);
  EXPECT_EQ(pilots_.attach(futian_admin_, a->id, "plan.pdf", "JVBERi0xLjQK").error().code,
            ErrorCode::kForbidden);
}

TEST_F(PilotTest, ProgressShowsMeasuredFiguresBesideTargets) {
  approvedNanshan();
  clock_.set(*parseIso8601("2026-07-02T02:00:00Z"));  // records cannot lie in the future
  testing::CreditedReductions seed(t_.db(), clock_, methodologies_);
  std::int64_t q2 = seed.trees("440305", "2026-04-10", 100, 1) +  // 600,000 g
                    seed.trees("440305", "2026-06-30", 10, 1);    // 60,000 g
  seed.trees("440305", "2026-07-01", 5, 1);                       // Q3: not counted
  std::int64_t q1 = seed.trees("440305", "2026-03-31", 1, 1);
  seed.trees("440304", "2026-05-01", 50, 1);  // Futian: not Nanshan's
  ASSERT_EQ(q2, 660'000);
  // Alliance merchants: two approved in Nanshan in Q2, one after it, one pending, one in Futian.
  auto merchant = [&](const std::string& licence, const std::string& region,
                      const std::string& status, const char* decided_at) {
    std::int64_t at = decided_at ? toEpochMs(*parseIso8601(decided_at)) : 0;
    t_.exec(
        "INSERT INTO merchants (name, licence_no, category, region_code, address, contact, "
        "applicant_user_id, status, created_at_ms, decided_at_ms) VALUES ('店', '" +
        licence + "', 'food', '" + region + "', 'addr', 'c', " +
        std::to_string(nanshan_admin_.user_id) + ", '" + status + "', 0, " +
        (decided_at ? std::to_string(at) : std::string("NULL")) + ")");
  };
  merchant("L1", "440305", "approved", "2026-04-02T02:00:00Z");
  merchant("L2", "440305", "approved", "2026-06-30T15:59:59Z");  // 23:59:59 on 30 June
  merchant("L3", "440305", "approved", "2026-06-30T16:00:00Z");  // 1 July in Shanghai
  merchant("L4", "440305", "pending", nullptr);
  merchant("L5", "440304", "approved", "2026-04-02T02:00:00Z");
  auto early = pilots_.fileProgress(nanshan_admin_, "440305", 2026, 3, "进展顺利");
  EXPECT_EQ(early.error().field, "quarter");  // Q3 has not ended on 2 July
  EXPECT_EQ(pilots_.fileProgress(futian_admin_, "440305", 2026, 2, "x").error().code,
            ErrorCode::kForbidden);
  auto filed = pilots_.fileProgress(nanshan_admin_, "440305", 2026, 2, "进展顺利");
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  EXPECT_EQ(filed->measured.grams.value(), q2);
  EXPECT_EQ(filed->measured.records, 2);
  EXPECT_EQ(filed->measured.participants, 2);  // each record from its own account
  EXPECT_EQ(filed->measured.methodologies, 1);
  EXPECT_EQ(filed->measured.data_providers, 1);  // the seed's one forestry provider
  EXPECT_EQ(filed->measured.merchants, 2);       // approved in Nanshan by 30 June
  EXPECT_EQ(filed->year_to_date.grams.value(), q2 + q1);
  ASSERT_TRUE(filed->target);
  EXPECT_EQ(filed->target->tonnes, 1200);
  EXPECT_EQ(pilots_.fileProgress(nanshan_admin_, "440305", 2026, 2, "again").error().code,
            ErrorCode::kConflict);
  auto listed = pilots_.progressReports("440305");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].measured.grams.value(), q2);
  EXPECT_EQ(pilots_.fileProgress(futian_admin_, "440304", 2026, 2, "x").error().code,
            ErrorCode::kNotFound);  // Futian is no pilot
}

TEST_F(PilotTest, SpecialFundsAreGrantedToPilotsAndNeverOverpaid) {
  FundService funds(t_.db(), clock_);
  FundApplication a{"440305", "南山低碳社区改造", "社区光伏与垃圾分类设施", "low_carbon_community",
                    2026,     Fen(50'000'000)};
  // Only a designated pilot applies, by its own admin.
  EXPECT_EQ(funds.apply(nanshan_admin_, a).error().field, "region");
  approvedNanshan();
  EXPECT_EQ(funds.apply(futian_admin_, a).error().code, ErrorCode::kForbidden);
  auto bad = a;
  bad.task = "space_travel";
  EXPECT_EQ(funds.apply(nanshan_admin_, bad).error().field, "task");
  bad = a;
  bad.requested = Fen(0);
  EXPECT_EQ(funds.apply(nanshan_admin_, bad).error().field, "requested_fen");
  auto project = funds.apply(nanshan_admin_, a);
  ASSERT_TRUE(project.ok()) << project.error().message;
  EXPECT_EQ(project->state, "applied");

  // Paying before a grant, granting by a region admin or above the request: refused.
  EXPECT_EQ(funds.disburse(province_, project->id, Fen(1), "2026-05-30", "x").error().field,
            "state");
  EXPECT_EQ(funds.decide(sz_admin_, project->id, true, Fen(1), "").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(funds.decide(province_, project->id, true, Fen(50'000'001), "").error().field,
            "granted_fen");
  auto granted = funds.decide(province_, project->id, true, Fen(30'000'000), "按绩效核定");
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted->granted.value(), 30'000'000);
  EXPECT_EQ(funds.decide(province_, project->id, false, Fen(0), "again").error().field, "state");

  ASSERT_TRUE(funds.disburse(province_, project->id, Fen(20'000'000), "2026-05-30", "拨付-1").ok());
  auto over = funds.disburse(province_, project->id, Fen(10'000'001), "2026-05-31", "拨付-2");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "amount_fen");
  EXPECT_EQ(funds.disburse(province_, project->id, Fen(1), "2026-06-02", "future").error().field,
            "paid_on");
  auto paid = funds.disburse(province_, project->id, Fen(10'000'000), "2026-05-31", "拨付-2");
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->disbursed.value(), 30'000'000);
  ASSERT_EQ(paid->disbursements.size(), 2u);
  EXPECT_EQ(paid->disbursements[1].reference, "拨付-2");

  auto second = funds.apply(nanshan_admin_, a);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(funds.decide(province_, second->id, false, Fen(0), "重复申报").ok());
  EXPECT_EQ(funds.decide(province_, second->id, false, Fen(0), "again").error().field, "state");

  auto totals = funds.totals(2026);
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->size(), 1u);
  EXPECT_EQ((*totals)[0].region_code, "440305");
  EXPECT_EQ((*totals)[0].projects, 2);
  EXPECT_EQ((*totals)[0].granted_projects, 1);
  EXPECT_EQ((*totals)[0].requested.value(), 100'000'000);
  EXPECT_EQ((*totals)[0].granted.value(), 30'000'000);
  EXPECT_EQ((*totals)[0].disbursed.value(), 30'000'000);
  EXPECT_TRUE(funds.totals(2027)->empty());
  EXPECT_EQ(funds.projects("440300", 0)->size(), 2u);  // the city sees its districts' projects
  EXPECT_TRUE(funds.projects("440100", 0)->empty());
  auto verified = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(verified.ok);
}

TEST_F(PilotTest, ConcurrentPaymentsNeverExceedTheGrant) {
  approvedNanshan();
  FundService funds(t_.db(), clock_);
  auto project = funds.apply(nanshan_admin_, {"440305", "绿色出行", "共享单车停放点",
                                              "low_carbon_travel", 2026, Fen(1000)});
  ASSERT_TRUE(project.ok());
  ASSERT_TRUE(funds.decide(province_, project->id, true, Fen(1000), "").ok());
  std::atomic<int> accepted = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (funds.disburse(province_, project->id, Fen(300), "2026-05-30", "p" + std::to_string(i))
              .ok())
        ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 3);
  EXPECT_EQ(funds.project(project->id)->disbursed.value(), 900);
}

}  // namespace
}  // namespace tph::pilot
