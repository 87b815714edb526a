// The stored library: import of the shipped files, the lifecycle and its permissions, quantify.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/field_cipher.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::methodology {
namespace {

namespace fs = std::filesystem;
using auth::Principal;
using auth::Role;

Principal person(std::int64_t id, Role role, std::string region = "") {
  return Principal{id, "user" + std::to_string(id), "u", {{role, std::move(region)}}, {}};
}

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest() : clock_(*parseIso8601("2026-03-01T02:00:00Z")), service_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    auto report = service_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(report.ok()) << report.error().message;
    for (const auto& issue : report->issues) ADD_FAILURE() << issue.toString();
  }

  //! A Shenzhen local version of travel.bus as a region admin would draft it.
  std::string localBus(int version = 50, const std::string& scope = "440300") {
    auto shipped = service_.versionsOf(std::nullopt, "travel.bus");
    EXPECT_TRUE(shipped.ok());
    std::string text = (*shipped)[0].definition_toml;
    auto replace = [&](const std::string& from, const std::string& to) {
      auto pos = text.find(from);
      EXPECT_NE(pos, std::string::npos) << from;
      if (pos != std::string::npos) text.replace(pos, from.size(), to);
    };
    replace("version = 1", "version = " + std::to_string(version));
    replace("scope = \"440000\"", "scope = \"" + scope + "\"");
    return text;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  MethodologyService service_;
  Principal province_ = person(1, Role::kProvinceAdmin, "440000");
  Principal shenzhen_ = person(2, Role::kRegionAdmin, "440300");
  Principal guangzhou_ = person(3, Role::kRegionAdmin, "440100");
  Principal resident_ = person(4, Role::kResident);
};

TEST_F(LifecycleTest, TheShippedLibraryImportsCleanAndOnce) {
  auto all = service_.list(std::nullopt, {});
  EXPECT_GE(all.size(), 18u);
  for (const char* id :
       {"travel.metro", "travel.bus", "travel.bike", "travel.metro_trip", "travel.walk",
        "nev.driving", "electricity.household_saving", "electricity.sme_saving",
        "water.household_saving", "gas.household_saving", "energy.rooftop_pv",
        "waste.recycling.paper", "waste.recycling.plastic", "waste.recycling.metal",
        "waste.recycling.glass", "waste.recycling.textile", "appliance.efficient_ac",
        "sink.tree_planting"}) {
    EXPECT_TRUE(service_.versionsOf(std::nullopt, id).ok()) << id << " is not shipped";
  }
  auto again = service_.importDirectory(TPH_SOURCE_DIR "/data", "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->versions_added, 0);
  EXPECT_EQ(again->factors_added, 0);
  for (const auto& f : service_.factors()) EXPECT_FALSE(f.source.empty()) << f.key;
}

TEST_F(LifecycleTest, QuantifyExplainsWithSources) {
  QuantifyRequest request;
  request.methodology = "travel.metro";
  request.inputs = {{"distance_km", 10}};
  auto result = service_.quantify(request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->grams, 467);
  EXPECT_EQ(result->version, 1);
  EXPECT_FALSE(result->explanation["factors"][0]["source"].get<std::string>().empty());
  request.inputs = {{"distance_km", 10}, {"speed", 3}};
  EXPECT_EQ(service_.quantify(request).error().field, "inputs.speed");
  request.methodology = "travel.teleport";
  EXPECT_EQ(service_.quantify(request).error().code, ErrorCode::kNotFound);
}

TEST_F(LifecycleTest, GuangzhouLocalMethodologyAppliesOnlyInGuangzhou) {
  QuantifyRequest request;
  request.methodology = "travel.metro_trip";
  request.inputs = {{"trips", 2}};
  request.region = "440106";
  EXPECT_TRUE(service_.quantify(request).ok());
  request.region = "440305";
  EXPECT_EQ(service_.quantify(request).error().code, ErrorCode::kNotFound);
}

TEST_F(LifecycleTest, TheWholeLifecycleWithAllowedAndRefusedRoles) {
  // Draft: a region admin for its own region only; residents never.
  EXPECT_EQ(service_.createDraft(guangzhou_, localBus(), std::nullopt).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(service_.createDraft(shenzhen_, localBus(51, "440000"), std::nullopt).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(service_.createDraft(resident_, localBus(), std::nullopt).error().code,
            ErrorCode::kForbidden);
  auto draft = service_.createDraft(shenzhen_, localBus(), std::nullopt);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  auto id = draft->summary.row_id;
  EXPECT_EQ(draft->summary.state, "draft");
  EXPECT_TRUE(draft->lint.empty());
  // Not visible to the public while a draft.
  EXPECT_FALSE(service_.version(std::nullopt, id).ok());

  // Edit: linted on save; a broken edit is stored and reported, and blocks submission.
  auto broken = localBus();
  broken.replace(broken.find("formula = \""), 11, "formula = \"bogus * ");
  auto edited = service_.updateDraft(shenzhen_, id, broken);
  ASSERT_TRUE(edited.ok());
  EXPECT_FALSE(edited->lint.empty());
  EXPECT_EQ(service_.submit(shenzhen_, id).error().code, ErrorCode::kInvalid);
  ASSERT_TRUE(service_.updateDraft(shenzhen_, id, localBus()).ok());
  EXPECT_EQ(service_.updateDraft(guangzhou_, id, localBus()).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_.submit(guangzhou_, id).error().code, ErrorCode::kNotFound);

  // Review steps: only the province.
  ASSERT_TRUE(service_.submit(shenzhen_, id).ok());
  EXPECT_EQ(service_.startReview(shenzhen_, id).error().code, ErrorCode::kForbidden);
  ASSERT_TRUE(service_.startReview(province_, id).ok());
  ASSERT_TRUE(service_.comment(province_, id, "Cite the 2023 bus fleet mix.").ok());
  ASSERT_TRUE(service_.comment(shenzhen_, id, "Added in the note.").ok());
  EXPECT_EQ(service_.comment(guangzhou_, id, "nosy").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_.approve(shenzhen_, id, "").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(service_.updateDraft(shenzhen_, id, localBus()).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(service_.approve(province_, id, "Sound and well cited").ok());
  EXPECT_EQ(service_.activate(shenzhen_, id, "2026-04-01").error().code, ErrorCode::kForbidden);
  auto active = service_.activate(province_, id, "2026-04-01");
  ASSERT_TRUE(active.ok()) << active.error().message;
  EXPECT_EQ(active->summary.state, "active");
  EXPECT_EQ(active->summary.effective_from, "2026-04-01");
  EXPECT_FALSE(active->factors.empty());
  EXPECT_EQ(active->comments.size(), 6u);

  // In force from its date, in Shenzhen only; the provincial version elsewhere.
  QuantifyRequest request;
  request.methodology = "travel.bus";
  request.inputs = {{"distance_km", 10}};
  request.region = "440305";
  request.occurred_at = *parseIso8601("2026-04-02T08:00:00+08:00");
  EXPECT_EQ(service_.quantify(request)->version, 50);
  request.occurred_at = *parseIso8601("2026-03-31T08:00:00+08:00");
  EXPECT_EQ(service_.quantify(request)->version, 1);
  request.occurred_at = *parseIso8601("2026-04-02T08:00:00+08:00");
  request.region = "440106";
  EXPECT_EQ(service_.quantify(request)->version, 1);

  // Retire: the province only; the version stays for records before its end.
  EXPECT_EQ(service_.retire(shenzhen_, id, "2026-06-30").error().code, ErrorCode::kForbidden);
  ASSERT_TRUE(service_.retire(province_, id, "2026-06-30").ok());
  request.region = "440305";
  request.occurred_at = *parseIso8601("2026-05-01T08:00:00+08:00");
  EXPECT_EQ(service_.quantify(request)->version, 50);
  request.occurred_at = *parseIso8601("2026-07-01T08:00:00+08:00");
  EXPECT_EQ(service_.quantify(request)->version, 1);

  auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(chain.ok) << chain.problem;
  auto actions = t_.db().read([&](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM audit_events WHERE subject = 'methodology_version:" +
               std::to_string(id) + "'",
        soci::into(n);
    return n;
  });
  EXPECT_EQ(actions, 10);  // draft, 2 edits, submit, review, 2 comments, approve, activate, retire
}

TEST_F(LifecycleTest, RejectionNeedsAReasonAndEndsTheVersion) {
  auto draft = service_.createDraft(province_, localBus(60, "440000"), std::nullopt);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  auto id = draft->summary.row_id;
  ASSERT_TRUE(service_.submit(province_, id).ok());
  ASSERT_TRUE(service_.startReview(province_, id).ok());
  EXPECT_EQ(service_.reject(province_, id, "").error().field, "reason");
  EXPECT_EQ(service_.reject(person(9, Role::kRegionAdmin, "440000"), id, "no").error().code,
            ErrorCode::kForbidden);
  auto rejected = service_.reject(province_, id, "Double counts with travel.metro");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->summary.state, "rejected");
  EXPECT_EQ(rejected->summary.decision_reason, "Double counts with travel.metro");
  EXPECT_EQ(service_.activate(province_, id, "2026-04-01").error().code, ErrorCode::kConflict);
}

TEST_F(LifecycleTest, ActivatingANewProvincialVersionEndsTheOldOne) {
  auto draft = service_.createDraft(province_, localBus(2, "440000"), std::nullopt);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  auto id = draft->summary.row_id;
  ASSERT_TRUE(service_.submit(province_, id).ok());
  ASSERT_TRUE(service_.startReview(province_, id).ok());
  ASSERT_TRUE(service_.approve(province_, id, "").ok());
  ASSERT_TRUE(service_.activate(province_, id, "2026-05-01").ok());
  auto versions = service_.versionsOf(std::nullopt, "travel.bus");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].summary.effective_until, "2026-04-30");
  EXPECT_EQ((*versions)[1].summary.effective_from, "2026-05-01");
}

TEST_F(LifecycleTest, ProposalsFromAnyoneAdoptedIntoDrafts) {
  Proposal anonymous{
      0, "Metro trips in Foshan", "travel", "Count Foshan metro trips", "", {}, "440600", "", {}};
  EXPECT_EQ(service_.propose(std::nullopt, anonymous).error().field, "contact");
  anonymous.contact = "citizen@example.org";
  auto created = service_.propose(std::nullopt, anonymous);
  ASSERT_TRUE(created.ok());
  auto seen = service_.proposals(province_);
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ(seen->front().contact, "citizen@example.org");
  // At rest the contact is sealed (DESIGN.md §4 Privacy).
  t_.db().read([&](soci::session& sql) {
    std::string stored;
    sql << "SELECT contact FROM methodology_proposals", soci::into(stored);
    EXPECT_TRUE(FieldCipher::isSealed(stored)) << stored;
    EXPECT_EQ(stored.find("citizen"), std::string::npos);
  });
  EXPECT_TRUE(service_.proposals(shenzhen_)->empty());
  auto draft = service_.createDraft(province_, localBus(70, "440000"), created->id);
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(draft->summary.proposal_id, created->id);
  EXPECT_EQ(service_.proposals(province_)->front().status, "drafted");
}

TEST_F(LifecycleTest, ImportRefusesABrokenLibraryWholesale) {
  auto dir = fs::temp_directory_path() / ("tph_lib_" + randomHex(4));
  fs::create_directories(dir / "methodologies");
  fs::copy_file(TPH_SOURCE_DIR "/data/emission_factors.toml", dir / "emission_factors.toml");
  std::ofstream(dir / "methodologies" / "broken.one@1.toml")
      << "id = \"broken.one\"\nversion = 1\n";
  auto report = service_.importDirectory(dir, "test");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->issues.empty());
  EXPECT_EQ(report->versions_added, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tph::methodology
