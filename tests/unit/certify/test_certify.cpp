// Certification: batches lock reductions once, the monitoring report, the public notice in working
// days, verifier independence, corrections, deductions and rejection releasing reductions,
// issuance with carry-over and a buffer share, and the PDF certificate — on real credited
// reductions from the ingest path.

#include <gtest/gtest.h>

#include <thread>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "certify/certify_service.h"
#include "certify/merkle.h"
#include "certify/provenance_service.h"
#include "certify/provenance_store.h"
#include "core/crypto.h"
#include "credited_reductions.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::certify {
namespace {

using auth::Principal;
using auth::Role;

constexpr const char* kTrees = "sink.tree_planting";
constexpr const char* kSaving = "electricity.sme_saving";

auth::AuthOptions fastAuth() {
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  return options;
}

class CertifyTest : public ::testing::Test {
 protected:
  // Monday 15 June 2026, 10:00 in Guangdong.
  CertifyTest()
      : clock_(*parseIso8601("2026-06-15T02:00:00Z")),
        methodologies_(t_.db(), clock_),
        auth_(t_.db(), clock_, fastAuth()),
        certify_(t_.db(), clock_, auth_, methodologies_),
        registry_(t_.db(), clock_) {
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
    seed_ = std::make_unique<testing::CreditedReductions>(t_.db(), clock_, methodologies_);
    province_ = make("gd_admin", {{Role::kProvinceAdmin, "440000"}});
    sz_admin_ = make("sz_admin", {{Role::kRegionAdmin, "440300"}});
    gz_admin_ = make("gz_admin", {{Role::kRegionAdmin, "440100"}});
    verifier_ = make("cqc_verifier", {{Role::kVerifier, ""}});
    other_verifier_ = make("other_verifier", {{Role::kVerifier, ""}});
    operator_verifier_ =
        make("sz_verifier", {{Role::kVerifier, ""}, {Role::kRegionAdmin, "440300"}});
    resident_ = make("resident", {{Role::kResident, ""}});
  }

  Principal make(const std::string& name, std::vector<auth::RoleGrant> grants) {
    auto u = auth_.createUserAsSystem("test", {name, "green-travel-42", name, grants}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  Batch open(const std::string& methodology, const std::string& region, const std::string& from,
             const std::string& until, const Principal* by = nullptr) {
    auto b = certify_.open(by ? *by : province_, {methodology, region, from, until, {}});
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? *b : Batch{};
  }
  //! Assigns the independent verifier and moves past the notice period.
  void readyForReview(const Batch& b) {
    auto assigned = certify_.assignVerifier(province_, b.id, verifier_.user_id);
    ASSERT_TRUE(assigned.ok()) << assigned.error().message;
    clock_.set(b.notice_until);
  }
  IssuanceResult approveAndIssue(const Batch& b, std::optional<int> buffer_share_bp = {}) {
    readyForReview(b);
    auto approved = certify_.approve(verifier_, b.id, b.grams_locked, "checked");
    EXPECT_TRUE(approved.ok()) << approved.error().message;
    auto issued = certify_.issue(province_, b.id, buffer_share_bp);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    return *issued;
  }
  std::vector<std::int64_t> lockedIds(std::int64_t batch) {
    return t_.db().read([&](soci::session& sql) {
      std::vector<std::int64_t> ids;
      long long b = batch;
      soci::rowset<soci::row> rows =
          (sql.prepare << "SELECT reduction_id FROM batch_reductions WHERE batch_id = :b "
                          "ORDER BY reduction_id",
           soci::use(b));
      for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
      return ids;
    });
  }
  std::int64_t carryOver(const std::string& region, const std::string& methodology) {
    return t_.db().read([&](soci::session& sql) {
      long long g = 0;
      sql << "SELECT grams FROM carry_overs WHERE region_code = :r AND methodology_id = :m",
          soci::use(region), soci::use(methodology), soci::into(g);
      return sql.got_data() ? g : -1LL;
    });
  }
  void expectConsistent() {
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
    auto check = registry_.check();
    EXPECT_TRUE(check.ok) << check.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  auth::AuthService auth_;
  CertifyService certify_;
  registry::RegistryService registry_;
  std::unique_ptr<testing::CreditedReductions> seed_;
  Principal province_, sz_admin_, gz_admin_, verifier_, other_verifier_, operator_verifier_,
      resident_;
};

TEST(NoticePeriod, CountsWorkingDaysAfterTheOpeningDay) {
  // Opened Monday 15 June 2026: Tue-Fri and Mon-Wed are the seven working days, so the notice
  // ends at midnight after Wednesday 24 June, Guangdong time.
  auto opened = *parseIso8601("2026-06-15T10:00:00+08:00");
  EXPECT_EQ(formatIso8601(noticeEnd(opened, 7, {})), "2026-06-24T16:00:00.000Z");
  // The Dragon Boat Festival (Friday 19 June 2026) is no working day.
  EXPECT_EQ(formatIso8601(noticeEnd(opened, 7, {"2026-06-19"})), "2026-06-25T16:00:00.000Z");
  // Opened on a Saturday: Monday is the first working day.
  EXPECT_EQ(formatIso8601(noticeEnd(*parseIso8601("2026-06-20T09:00:00+08:00"), 1, {})),
            "2026-06-22T16:00:00.000Z");
  EXPECT_EQ(noticeEnd(opened, 0, {}), opened);
}

TEST(IssueArithmetic, FloorsToWholeTonnesAndCarriesTheRest) {
  auto a = issueArithmetic(Grams(0), Grams(1'414'700), false, 1'000);
  EXPECT_EQ(a.units, Units(1));
  EXPECT_EQ(a.carry_out, Grams(414'700));
  EXPECT_EQ(a.buffer_units, Units(0));
  auto b = issueArithmetic(Grams(999'999), Grams(1), false, 0);
  EXPECT_EQ(b.units, Units(1));
  EXPECT_EQ(b.carry_out, Grams(0));
  auto sink = issueArithmetic(Grams(0), Grams(25'200'000), true, 1'000);
  EXPECT_EQ(sink.units, Units(25));
  EXPECT_EQ(sink.buffer_units, Units(3));  // 2.5 rounded up
  EXPECT_EQ(sink.carry_out, Grams(200'000));
  EXPECT_EQ(issueArithmetic(Grams(0), Grams(999'999), true, 1'000).units, Units(0));
}

TEST(Sample, IsReproducibleFromTheSeed) {
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 200; ++i) ids.push_back(i * 7);
  auto a = sampleIds(ids, "seed-1", 20);
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(a, sampleIds(ids, "seed-1", 20));
  EXPECT_NE(a, sampleIds(ids, "seed-2", 20));
  EXPECT_EQ(sampleIds(ids, "seed-1", 500).size(), 200u);
}

TEST_F(CertifyTest, ABatchLocksEveryMatchingReductionAndReportsOnIt) {
  auto g1 = seed_->trees("440305", "2026-03-05", 100, 1);  // 600,000 g in Nanshan
  auto g2 = seed_->trees("440300", "2026-03-20", 250, 1);  // 1,500,000 g in Shenzhen
  seed_->trees("440300", "2026-04-02", 10, 1);             // after the vintage period
  seed_->trees("440100", "2026-03-10", 10, 1);             // Guangzhou
  seed_->saving("440300", "2026-03-15", 52'000, 48'500);   // another methodology
  EXPECT_EQ(g1, 600'000);
  EXPECT_EQ(g2, 1'500'000);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31", &sz_admin_);
  EXPECT_EQ(b.records_locked, 2);
  EXPECT_EQ(b.grams_locked, Grams(2'100'000));
  EXPECT_TRUE(b.carbon_sink);
  EXPECT_EQ(b.state, BatchState::kOpen);
  EXPECT_TRUE(b.in_notice);
  EXPECT_EQ(b.operator_account_no, "GD-OP-440300");
  EXPECT_EQ(b.vintage_year, 2026);

  auto report = certify_.report(sz_admin_, b.id);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->totals.size(), 1u);
  EXPECT_EQ(report->totals[0].methodology_version, 1);
  EXPECT_EQ(report->totals[0].month, "2026-03");
  EXPECT_EQ(report->totals[0].records, 2);
  EXPECT_EQ(report->totals[0].grams, Grams(2'100'000));
  EXPECT_EQ(report->subjects, 2);
  EXPECT_EQ(report->period_records, 2);
  EXPECT_EQ(report->held_or_quarantined_share_bp, 0);
  ASSERT_EQ(report->sample.size(), 2u);
  // The verifier redoes the sample from the seed and the locked ids.
  auto redo = sampleIds(lockedIds(b.id), report->sample_seed, 20);
  EXPECT_EQ(report->sample[0].reduction_id, redo[0]);
  EXPECT_EQ(report->sample[1].reduction_id, redo[1]);
  EXPECT_EQ(report->sample[0].explanation["methodology"], kTrees);
  EXPECT_TRUE(report->sample[0].explanation.contains("formula")) << report->sample[0].explanation;
  EXPECT_TRUE(report->sample[0].inputs.contains("trees"));
  // Only the region's admins, the verifier and auditors read the report.
  EXPECT_EQ(certify_.report(gz_admin_, b.id).error().code, ErrorCode::kForbidden);

  // Offered to a second batch, the same reductions are not there to lock.
  auto again = certify_.open(province_, {kTrees, "440300", "2026-03-01", "2026-03-31", {}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  // A province-wide batch takes only what no batch holds: Guangzhou's record.
  auto province = open(kTrees, "440000", "2026-03-01", "2026-03-31");
  EXPECT_EQ(province.records_locked, 1);
  EXPECT_EQ(province.operator_account_no, "GD-OP-440000");
  // And the database itself refuses a second lock, whatever the application does.
  auto first = lockedIds(b.id)[0];
  EXPECT_ANY_THROW(t_.exec("INSERT INTO batch_reductions (reduction_id, batch_id, grams) VALUES (" +
                           std::to_string(first) + ", " + std::to_string(province.id) + ", 1)"));
  auto listed = certify_.list("open", 10, 0);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  expectConsistent();
}

TEST_F(CertifyTest, ConcurrentBatchesNeverShareAReduction) {
  for (int i = 0; i < 6; ++i) seed_->trees("440300", "2026-03-1" + std::to_string(i), 10, 1);
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto b = certify_.open(province_, {kTrees, "440300", "2026-03-01", "2026-03-31", {}});
      if (b.ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 1);
  auto total = t_.db().read([](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM batch_reductions", soci::into(n);
    return n;
  });
  EXPECT_EQ(total, 6);
}

TEST_F(CertifyTest, OpeningValidatesEveryField) {
  auto check = [&](OpenBatchRequest r, const std::string& field) {
    auto b = certify_.open(province_, r);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().field, field) << b.error().message;
  };
  check({"Bad-Id", "440300", "2026-03-01", "2026-03-31", {}}, "methodology");
  check({kTrees, "440305", "2026-03-01", "2026-03-31", {}}, "region");
  check({kTrees, "440300", "2026-3-1", "2026-03-31", {}}, "vintage_from");
  check({kTrees, "440300", "2026-03-01", "2026-02-30", {}}, "vintage_until");
  check({kTrees, "440300", "2025-12-01", "2026-01-31", {}}, "vintage_until");
  check({kTrees, "440300", "2026-06-01", "2026-06-15", {}}, "vintage_until");
  check({kTrees, "440300", "2026-03-01", "2026-03-31", 99}, "notice_days_working");
  auto foreign = certify_.open(gz_admin_, {kTrees, "440300", "2026-03-01", "2026-03-31", {}});
  EXPECT_EQ(foreign.error().code, ErrorCode::kForbidden);
  auto empty = certify_.open(province_, {kTrees, "440300", "2026-03-01", "2026-03-31", {}});
  EXPECT_EQ(empty.error().code, ErrorCode::kConflict);
}

TEST_F(CertifyTest, TheVerifierMustNotBelongToTheOperator) {
  seed_->trees("440300", "2026-03-05", 10, 1);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  // A verifier who administers the batch's region is the operator's.
  auto own = certify_.assignVerifier(province_, b.id, operator_verifier_.user_id);
  ASSERT_FALSE(own.ok());
  EXPECT_EQ(own.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(own.error().field, "verifier_user_id");
  // So is one who is a member of the operator's registry account.
  t_.exec("INSERT INTO registry_account_members (account_id, user_id, added_at_ms) SELECT id, " +
          std::to_string(other_verifier_.user_id) +
          ", 0 FROM registry_accounts WHERE account_no = 'GD-OP-440300'");
  EXPECT_EQ(certify_.assignVerifier(province_, b.id, other_verifier_.user_id).error().code,
            ErrorCode::kForbidden);
  // Someone without the verifier role is no verifier at all.
  EXPECT_EQ(certify_.assignVerifier(province_, b.id, resident_.user_id).error().field,
            "verifier_user_id");
  // Only the province assigns.
  EXPECT_EQ(certify_.assignVerifier(sz_admin_, b.id, verifier_.user_id).error().code,
            ErrorCode::kForbidden);
  ASSERT_TRUE(certify_.assignVerifier(province_, b.id, verifier_.user_id).ok());
  clock_.set(b.notice_until);
  // A verifier who was not assigned cannot decide.
  EXPECT_EQ(certify_.approve(other_verifier_, b.id, Grams(1), "").error().code,
            ErrorCode::kForbidden);
  expectConsistent();
}

TEST_F(CertifyTest, ReviewWaitsForTheEndOfThePublicNotice) {
  seed_->trees("440300", "2026-03-05", 10, 1);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  EXPECT_EQ(formatIso8601(b.notice_until), "2026-06-24T16:00:00.000Z");
  // Anyone comments during the notice, signed in or not.
  auto anon = certify_.comment(std::nullopt, b.id, "张三", "这批植树记录的地点请公示。");
  ASSERT_TRUE(anon.ok()) << anon.error().message;
  ASSERT_TRUE(certify_.comment(resident_, b.id, "", "支持").ok());
  EXPECT_EQ(certify_.comment(std::nullopt, b.id, "", "no name").error().field, "author");
  EXPECT_EQ(certify_.comment(std::nullopt, b.id, "x", std::string(3000, 'a')).error().field,
            "body");
  auto comments = certify_.comments(b.id);
  ASSERT_EQ(comments->size(), 2u);
  EXPECT_EQ((*comments)[1].author, "resident");
  ASSERT_TRUE(certify_.assignVerifier(province_, b.id, verifier_.user_id).ok());
  clock_.set(b.notice_until - std::chrono::minutes(1));
  auto early = certify_.approve(verifier_, b.id, b.grams_locked, "");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().field, "notice_until");
  clock_.set(b.notice_until);
  auto approved = certify_.approve(verifier_, b.id, b.grams_locked, "ok");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->state, BatchState::kApproved);
}

TEST_F(CertifyTest, DeductionsAndRejectionReleaseReductions) {
  seed_->trees("440300", "2026-03-05", 100, 1);
  seed_->trees("440300", "2026-03-06", 50, 1);
  seed_->trees("440300", "2026-03-07", 20, 1);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  ASSERT_EQ(b.grams_locked, Grams(1'020'000));
  readyForReview(b);
  auto ids = lockedIds(b.id);
  auto bad = certify_.deduct(verifier_, b.id, {{999'999, "unknown"}});
  EXPECT_EQ(bad.error().field, "deductions[0].reduction_id");
  EXPECT_EQ(certify_.deduct(verifier_, b.id, {{ids[0], ""}}).error().field, "deductions[0].reason");
  auto deducted = certify_.deduct(verifier_, b.id, {{ids[0], "no planting evidence"}});
  ASSERT_TRUE(deducted.ok()) << deducted.error().message;
  EXPECT_EQ(deducted->records_locked, 2);
  EXPECT_EQ(deducted->grams_locked, Grams(420'000));
  EXPECT_EQ(deducted->grams_released, Grams(600'000));
  // More than is locked cannot be approved.
  EXPECT_EQ(certify_.approve(verifier_, b.id, Grams(420'001), "").error().field, "grams");
  // Corrections: asked, and until answered nothing is approved.
  ASSERT_TRUE(certify_.requestCorrections(verifier_, b.id, "请补充植树照片").ok());
  EXPECT_EQ(certify_.approve(verifier_, b.id, Grams(1), "").error().code, ErrorCode::kConflict);
  EXPECT_EQ(certify_.respondToCorrections(gz_admin_, b.id, "x").error().code,
            ErrorCode::kForbidden);
  ASSERT_TRUE(certify_.respondToCorrections(sz_admin_, b.id, "已补充").ok());
  auto rejected = certify_.reject(verifier_, b.id, "evidence insufficient");
  ASSERT_TRUE(rejected.ok()) << rejected.error().message;
  EXPECT_EQ(rejected->state, BatchState::kRejected);
  EXPECT_EQ(rejected->records_locked, 0);
  EXPECT_EQ(rejected->grams_released, Grams(1'020'000));
  EXPECT_TRUE(lockedIds(b.id).empty());
  // A rejected batch is over.
  EXPECT_EQ(certify_.approve(verifier_, b.id, Grams(1), "").error().code, ErrorCode::kConflict);
  EXPECT_EQ(certify_.issue(province_, b.id, {}).error().code, ErrorCode::kConflict);
  // Released reductions are uncertified again: a new batch takes all three.
  auto next = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  EXPECT_EQ(next.records_locked, 3);
  auto report = certify_.report(province_, next.id);
  EXPECT_EQ(report->reoffered, 3);
  auto trail = certify_.reviews(b.id);
  ASSERT_TRUE(trail.ok());
  std::vector<std::string> actions;
  for (const auto& r : *trail) actions.push_back(r.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"open", "assign", "deduct", "corrections",
                                               "response", "reject"}));
  expectConsistent();
}

TEST_F(CertifyTest, PartTonnesCarryOverToTheNextBatchOfTheSameMethodologyAndRegion) {
  // 3,500 kWh saved × 404.2 g = 1,414,700 g a month.
  for (const char* day : {"2026-03-10", "2026-04-10", "2026-05-10"})
    EXPECT_EQ(seed_->saving("440300", day, 52'000, 48'500), 1'414'700);
  auto march = approveAndIssue(open(kSaving, "440300", "2026-03-01", "2026-03-31"));
  EXPECT_EQ(march.batch.units_issued, Units(1));
  EXPECT_EQ(march.batch.carry_in, Grams(0));
  EXPECT_EQ(march.batch.carry_out, Grams(414'700));
  EXPECT_EQ(march.batch.buffer_units, Units(0));
  EXPECT_EQ(carryOver("440300", kSaving), 414'700);
  auto april = approveAndIssue(open(kSaving, "440300", "2026-04-01", "2026-04-30"));
  EXPECT_EQ(april.batch.carry_in, Grams(414'700));
  EXPECT_EQ(april.batch.units_issued, Units(1));
  EXPECT_EQ(april.batch.carry_out, Grams(829'400));
  auto may = approveAndIssue(open(kSaving, "440300", "2026-05-01", "2026-05-31"));
  EXPECT_EQ(may.batch.units_issued, Units(2));
  EXPECT_EQ(may.batch.carry_out, Grams(244'100));
  ASSERT_EQ(may.issuance.ranges.size(), 1u);
  EXPECT_EQ(registry::formatSerial(may.issuance.ranges[0]),
            "CN-GD-PHCER-440300-electricity.sme_saving-2026-" +
                std::string(6 - std::to_string(may.batch.id).size(), '0') +
                std::to_string(may.batch.id) + "-00000001-00000002");
  // 3 × 1,414,700 g = 4 t issued + 244,100 g carried: nothing made or lost.
  EXPECT_EQ(4 * kGramsPerUnit + 244'100, 3 * 1'414'700);
  auto account = registry_.account(sz_admin_, "GD-OP-440300");
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->held, Units(4));
  // Guangzhou's carry-over is its own.
  EXPECT_EQ(carryOver("440100", kSaving), -1);
  // Issued once only, by the province only.
  EXPECT_EQ(certify_.issue(province_, may.batch.id, {}).error().code, ErrorCode::kConflict);
  expectConsistent();
}

TEST_F(CertifyTest, CarbonSinkBatchesPutTheirShareInTheBufferPool) {
  EXPECT_EQ(seed_->trees("440300", "2026-03-05", 1000, 4.2), 25'200'000);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  readyForReview(b);
  ASSERT_TRUE(certify_.approve(verifier_, b.id, b.grams_locked, "ok").ok());
  EXPECT_EQ(certify_.issue(sz_admin_, b.id, {}).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(certify_.issue(province_, b.id, 9'000).error().field, "buffer_share_bp");
  auto issued = certify_.issue(province_, b.id, {});
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->batch.units_issued, Units(25));
  EXPECT_EQ(issued->batch.buffer_units, Units(3));
  ASSERT_EQ(issued->issuance.ranges.size(), 2u);
  EXPECT_EQ(issued->issuance.ranges[0].last, 22);
  EXPECT_EQ(issued->issuance.ranges[1].first, 23);
  EXPECT_EQ(issued->issuance.ranges[1].last, 25);
  EXPECT_EQ(registry_.account(sz_admin_, "GD-OP-440300")->held, Units(22));
  EXPECT_EQ(registry_.account(province_, "GD-BUFFER")->held, Units(3));
  // The verifier-approved reductions stay locked for good.
  EXPECT_EQ(lockedIds(b.id).size(), 1u);
  expectConsistent();
}

TEST_F(CertifyTest, TheCertificateIsAPdfInNotoSansCjkNamingTheBatch) {
  seed_->trees("440300", "2026-03-05", 1000, 4.2);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  EXPECT_EQ(certify_.certificate(b.id).error().code, ErrorCode::kConflict);
  auto issued = approveAndIssue(b);
  auto pdf = certify_.certificate(b.id);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  EXPECT_NE(pdf->find("NotoSansCJK"), std::string::npos) << "the CJK font is embedded";
  std::size_t pages = 0;
  for (auto at = pdf->find("/Type /Page"); at != std::string::npos;
       at = pdf->find("/Type /Page", at + 1)) {
    if ((*pdf)[at + 11] != 's') ++pages;
  }
  EXPECT_EQ(pages, 1u);
  EXPECT_NE(pdf->find("PHCER issuance certificate, batch " + std::to_string(b.id)),
            std::string::npos);
  EXPECT_NE(pdf->find(registry::formatSerial(issued.issuance.ranges[0])), std::string::npos);
  // The same batch renders to the same bytes.
  EXPECT_EQ(*certify_.certificate(b.id), *pdf);
  // Comments close with the review.
  EXPECT_EQ(certify_.comment(std::nullopt, b.id, "x", "late").error().code, ErrorCode::kConflict);
}

// ------------------------------------------------------------------------------ provenance

MerkleLeaf sampleLeaf(int i) {
  return {1000 + i,
          sha256Hex("subject" + std::to_string(i)),
          "metro.trip",
          1,
          "2026-03-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1),
          100 + i};
}

TEST(Merkle, EveryProofOfEveryTreeSizeVerifiesAndAChangedByteFails) {
  for (int n = 1; n <= 9; ++n) {
    std::vector<MerkleLeaf> leaves;
    std::vector<std::string> hashes;
    for (int i = 0; i < n; ++i) {
      leaves.push_back(sampleLeaf(i));
      hashes.push_back(leafHash(leaves.back()));
    }
    MerkleTree tree(hashes);
    EXPECT_EQ(tree.rootHex(), merkleRootHex(leaves));
    for (int i = 0; i < n; ++i) {
      InclusionProof p{leaves[i], i, n, tree.path(i), tree.rootHex()};
      EXPECT_EQ(verifyInclusion(p, tree.rootHex()), "") << "n=" << n << " i=" << i;
      auto round_trip = InclusionProof::fromJson(p.toJson());
      ASSERT_TRUE(round_trip);
      EXPECT_EQ(verifyInclusion(*round_trip, tree.rootHex()), "");
      auto changed = p;
      changed.leaf.grams += 1;
      EXPECT_NE(verifyInclusion(changed, tree.rootHex()), "");
      if (!p.path.empty()) {
        auto bad_path = p;
        bad_path.path[0].sibling_hex[0] = bad_path.path[0].sibling_hex[0] == 'a' ? 'b' : 'a';
        EXPECT_NE(verifyInclusion(bad_path, tree.rootHex()), "");
        auto short_path = p;
        short_path.path.pop_back();
        EXPECT_NE(verifyInclusion(short_path, tree.rootHex()), "");
      }
    }
  }
  // The documented odd-node rule: three leaves are H(H(a,b), c), not H(H(a,b), H(c,c)).
  auto a = leafHash(sampleLeaf(0)), b = leafHash(sampleLeaf(1)), c = leafHash(sampleLeaf(2));
  EXPECT_EQ(MerkleTree({a, b, c}).rootHex(), toHex(nodeHash(nodeHash(a, b), c)));
  EXPECT_EQ(MerkleTree({}).rootHex(), sha256Hex(""));
}

TEST_F(CertifyTest, EveryReductionOfABatchProvesInclusionUnderThePublishedRoot) {
  for (int i = 0; i < 7; ++i)
    seed_->trees("440300", "2026-03-0" + std::to_string(i + 1), 100 + i, 1);
  for (int i = 0; i < 3; ++i) seed_->trees("440100", "2026-03-0" + std::to_string(i + 1), 50, 1);
  auto a = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  auto other = open(kTrees, "440100", "2026-03-01", "2026-03-31");
  ASSERT_EQ(a.merkle_root.size(), 64U);
  auto issued = approveAndIssue(a);
  ASSERT_EQ(issued.batch.merkle_root, a.merkle_root);

  ProvenanceService provenance(t_.db(), clock_, methodologies_, certify_);
  auto serial = registry::formatSerial(issued.issuance.ranges.front());
  auto p = provenance.serial(serial);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->merkle_root, a.merkle_root);
  EXPECT_EQ(p->merkle_leaves, 7);
  EXPECT_EQ(p->records, 7);
  EXPECT_EQ(p->grams, *issued.batch.grams_approved);
  auto issuance = registry_.issuance(a.id);
  ASSERT_TRUE(issuance.ok());
  EXPECT_EQ(issued.batch.units_issued->value(), issuance->units.value());
  ASSERT_FALSE(p->methodologies.empty());
  EXPECT_FALSE(p->methodologies.front().factors.empty());
  ASSERT_FALSE(p->history.empty());
  EXPECT_EQ(p->history.front().kind, "issue");

  auto leaves_of = [&](std::int64_t batch) {
    return t_.db().read([&](soci::session& sql) {
      auto m = detail::findMerkle(sql, batch);
      return detail::batchLeaves(sql, batch, m->salt);
    });
  };
  auto leaves = leaves_of(a.id);
  std::vector<std::string> hashes;
  for (const auto& l : leaves) hashes.push_back(leafHash(l));
  MerkleTree tree(hashes);
  for (std::int64_t i = 0; i < tree.size(); ++i) {
    InclusionProof proof{leaves[i], i, tree.size(), tree.path(i), a.merkle_root};
    EXPECT_EQ(verifyInclusion(proof, p->merkle_root), "");
    auto changed = proof;
    changed.leaf.day[9] = changed.leaf.day[9] == '1' ? '2' : '1';
    EXPECT_NE(verifyInclusion(changed, p->merkle_root), "");
  }
  // A leaf of another batch is not under this root.
  auto foreign = leaves_of(other.id).front();
  InclusionProof foreign_proof{foreign, 0, tree.size(), tree.path(0), a.merkle_root};
  EXPECT_NE(verifyInclusion(foreign_proof, p->merkle_root), "");
  // Subjects are salted per batch: no leaf carries a provider's reference.
  for (const auto& l : leaves) EXPECT_EQ(l.subject.size(), 64U);
  expectConsistent();
}

TEST_F(CertifyTest, AResidentSeesWhereTheirOwnReductionsWentWithProofs) {
  for (int i = 0; i < 4; ++i) seed_->trees("440300", "2026-03-0" + std::to_string(i + 1), 100, 1);
  auto b = open(kTrees, "440300", "2026-03-01", "2026-03-31");
  auto ids = lockedIds(b.id);
  readyForReview(b);
  ASSERT_TRUE(certify_.deduct(verifier_, b.id, {{ids[1], "duplicate planting record"}}).ok());
  auto after = certify_.get(b.id);
  EXPECT_NE(after->merkle_root, b.merkle_root);  // the root follows the deduction
  ASSERT_TRUE(certify_.approve(verifier_, b.id, after->grams_locked, "ok").ok());
  ASSERT_TRUE(certify_.issue(province_, b.id, std::nullopt).ok());
  // The resident owns the person accounts of reductions 0 and 1.
  for (auto id : {ids[0], ids[1]}) {
    t_.exec(
        "UPDATE carbon_accounts SET kind = 'person' WHERE id = (SELECT account_id FROM "
        "reductions WHERE id = " +
        std::to_string(id) + ")");
    t_.exec(
        "INSERT INTO account_members (account_id, user_id, role, joined_at_ms) SELECT "
        "account_id, " +
        std::to_string(resident_.user_id) +
        ", 'owner', 0 FROM reductions WHERE id = " + std::to_string(id));
  }
  ProvenanceService provenance(t_.db(), clock_, methodologies_, certify_);
  auto view = provenance.resident(resident_, 50, 0);
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_EQ(view->reductions.size(), 2U);
  for (const auto& f : view->reductions) {
    if (f.reduction_id == ids[0]) {
      EXPECT_EQ(f.status, "issued");
      EXPECT_EQ(f.merkle_root, after->merkle_root);
      EXPECT_FALSE(f.serials.empty());
    } else {
      EXPECT_EQ(f.status, "released");
      EXPECT_NE(f.released_reason.find("duplicate planting record"), std::string::npos);
    }
  }
  auto proof = provenance.proof(resident_, ids[0]);
  ASSERT_TRUE(proof.ok()) << proof.error().message;
  EXPECT_EQ(verifyInclusion(*proof, after->merkle_root), "");
  // Someone else's reduction answers as if it did not exist.
  EXPECT_EQ(provenance.proof(resident_, ids[2]).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(provenance.proof(resident_, ids[1]).error().code, ErrorCode::kConflict);
  EXPECT_TRUE(provenance.resident(province_, 50, 0)->reductions.empty());
  expectConsistent();
}

}  // namespace
}  // namespace tph::certify
