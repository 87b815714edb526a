// Low-carbon creation programmes: the weighted total and thresholds by hand, title validity at
// month ends, criteria versions (published sets never change, a new one supersedes for new
// applications), the application lifecycle with its refused roles, PDF evidence checked by
// content, public titles by type, region and status, revocation, and one title under parallel
// awards.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/auth_service.h"
#include "programme/programme_service.h"
#include "region/region_service.h"
#include "store/data_key.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::programme {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

CriteriaContent hotelCriteria() {
  return {"hotel",
          "低碳酒店评价指标（2026 版）",
          {{"energy", "能源管理", "单位面积能耗与节能改造", 40, 20, 10},
           {"water", "节水", "", 25, 10, 5},
           {"waste", "减废与一次性用品", "", 35, 10, 0}},
          60,
          36};
}

TEST(ProgrammeRules, WeightedTotalAndThresholdsByHand) {
  auto c = hotelCriteria();
  // 15/20×40 = 30, 7/10×25 = 17.5, 6/10×35 = 21 → 68.5 of 100.
  auto e = evaluate(c, {{"energy", 15}, {"water", 7}, {"waste", 6}});
  EXPECT_EQ(e.total_milli, 68'500);
  EXPECT_TRUE(e.passed);
  EXPECT_TRUE(e.below_minimum.empty());
  // 9/20 is under energy's minimum of 10: fails, though 18 + 25 + 35 = 78 passes the mark.
  e = evaluate(c, {{"energy", 9}, {"water", 10}, {"waste", 10}});
  EXPECT_EQ(e.total_milli, 78'000);
  EXPECT_FALSE(e.passed);
  EXPECT_EQ(e.below_minimum, std::vector<std::string>{"energy"});
  // Every minimum met, the total 20 + 12.5 + 21 = 53.5 is below the pass mark of 60.
  e = evaluate(c, {{"energy", 10}, {"water", 5}, {"waste", 6}});
  EXPECT_EQ(e.total_milli, 53'500);
  EXPECT_FALSE(e.passed);
  // At the pass mark passes, a point above it does not: 30 + 12.5 + 5/7×35 (= 25) = 67.5.
  c.indicators[2].max_score = 7;
  std::map<std::string, int> scores = {{"energy", 15}, {"water", 5}, {"waste", 5}};
  EXPECT_EQ(evaluate(c, scores).total_milli, 67'500);
  c.pass_mark = 67;
  EXPECT_TRUE(evaluate(c, scores).passed);
  c.pass_mark = 68;
  EXPECT_FALSE(evaluate(c, scores).passed);
  c.pass_mark = 70;
  scores["water"] = 6;  // 30 + 15 + 25 = 70, exactly the mark
  EXPECT_EQ(evaluate(c, scores).total_milli, 70'000);
  EXPECT_TRUE(evaluate(c, scores).passed);
  // Each indicator is rounded down to a thousandth: 2/3×35 = 23.333…
  CriteriaContent thirds{"park", "x", {{"a", "a", "", 35, 3, 0}, {"b", "b", "", 65, 1, 0}}, 88, 12};
  EXPECT_EQ(evaluate(thirds, {{"a", 2}, {"b", 1}}).total_milli, 88'333);
  EXPECT_TRUE(evaluate(thirds, {{"a", 2}, {"b", 1}}).passed);
  thirds.pass_mark = 89;
  EXPECT_FALSE(evaluate(thirds, {{"a", 2}, {"b", 1}}).passed);
}

TEST(ProgrammeRules, ValidUntilTheDayBeforeTheAnniversary) {
  EXPECT_EQ(validUntil("2026-06-01", 36), "2029-05-31");
  EXPECT_EQ(validUntil("2026-01-01", 12), "2026-12-31");
  EXPECT_EQ(validUntil("2024-02-29", 12), "2025-02-28");  // no 29 February in 2025
  EXPECT_EQ(validUntil("2024-02-29", 48), "2028-02-28");
  EXPECT_EQ(validUntil("2026-01-31", 1), "2026-02-28");
  EXPECT_EQ(validUntil("2026-12-15", 1), "2027-01-14");
}

TEST(ProgrammeRules, CriteriaJsonNamesTheField) {
  json body = {{"type", "hotel"},
               {"name", "低碳酒店"},
               {"pass_mark", 60},
               {"validity_months", 36},
               {"indicators",
                {{{"key", "energy"},
                  {"name", "能源"},
                  {"weight_percent", 60},
                  {"max_score", 10},
                  {"min_score", 4}},
                 {{"key", "water"},
                  {"name", "节水"},
                  {"weight_percent", 40},
                  {"max_score", 10},
                  {"min_score", 0}}}}};
  ASSERT_TRUE(criteriaFromJson(body).ok());
  auto bad = body;
  bad["type"] = "factory";
  EXPECT_EQ(criteriaFromJson(bad).error().field, "type");
  bad = body;
  bad["indicators"][1]["weight_percent"] = 30;
  EXPECT_EQ(criteriaFromJson(bad).error().field, "indicators");
  bad = body;
  bad["indicators"][0]["min_score"] = 11;
  EXPECT_EQ(criteriaFromJson(bad).error().field, "indicators[0].min_score");
  bad = body;
  bad["indicators"][1]["key"] = "energy";
  EXPECT_EQ(criteriaFromJson(bad).error().field, "indicators[1].key");
  bad = body;
  bad["validity_months"] = 0;
  EXPECT_EQ(criteriaFromJson(bad).error().field, "validity_months");
}

TEST(ProgrammeRules, EntityCoordinatesLieInGuangdong) {
  json body = {{"entity_name", "罗浮山风景名胜区"},
               {"entity_type", "景区管理委员会"},
               {"region", "441322"},
               {"address", "博罗县长宁镇"},
               {"contact", "李主任 0752-6666666"},
               {"lon", 114.0567},
               {"lat", 23.2717}};
  auto d = entityFromJson(body);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->coordinates, (Coordinates{114'056'700, 23'271'700}));
  auto beijing = body;
  beijing["lon"] = 116.40;
  beijing["lat"] = 39.90;
  EXPECT_EQ(entityFromJson(beijing).error().field, "lat");
  auto half = body;
  half.erase("lat");
  EXPECT_EQ(entityFromJson(half).error().field, "lat");
  auto text = body;
  text["lon"] = "114";
  EXPECT_EQ(entityFromJson(text).error().field, "lon");
  auto no_region = body;
  no_region["region"] = "Boluo";
  EXPECT_EQ(entityFromJson(no_region).error().field, "region");
  body.erase("lon");
  body.erase("lat");
  EXPECT_FALSE(entityFromJson(body)->coordinates);
}

auth::AuthOptions fastAuth() {
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  return options;
}

std::string pdfBase64(const std::string& body) {
  std::string pdf = "%PDF-1.4\n" + body + "\n%%EOF\n";
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < pdf.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(pdf[i]) << 16;
    if (i + 1 < pdf.size()) n |= static_cast<unsigned char>(pdf[i + 1]) << 8;
    if (i + 2 < pdf.size()) n |= static_cast<unsigned char>(pdf[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < pdf.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < pdf.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

class ProgrammeTest : public ::testing::Test {
 protected:
  // 1 June 2026, 10:00 in Guangdong.
  ProgrammeTest()
      : clock_(*parseIso8601("2026-06-01T02:00:00Z")),
        auth_(t_.db(), clock_, fastAuth()),
        programmes_(t_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
    province_ = make("gd_admin", {{Role::kProvinceAdmin, "440000"}});
    huizhou_ = make("hz_admin", {{Role::kRegionAdmin, "441300"}});
    boluo_ = make("bl_admin", {{Role::kRegionAdmin, "441322"}});
    huidong_ = make("hd_admin", {{Role::kRegionAdmin, "441323"}});
    applicant_ = make("hotel_manager", {{Role::kResident, ""}});
    other_ = make("someone", {{Role::kResident, ""}});
  }

  Principal make(const std::string& name, std::vector<auth::RoleGrant> grants) {
    auto u = auth_.createUserAsSystem("test", {name, "green-travel-42", name, grants}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  Criteria publishedHotelCriteria() {
    auto c = programmes_.draftCriteria(province_, hotelCriteria());
    EXPECT_TRUE(c.ok()) << c.error().message;
    auto p = programmes_.publishCriteria(province_, c->id);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return *p;
  }

  static EntityDetails hotel() {
    EntityDetails d;
    d.entity_name = "罗浮山温泉酒店";
    d.entity_type = "酒店";
    d.region_code = "441322";
    d.address = "博罗县长宁镇罗浮山路 1 号";
    d.coordinates = Coordinates{114'060'000, 23'270'000};
    d.contact = "王经理 0752-0000000";
    d.evidence = {{"energy", "2025 年单位面积能耗下降 12%，见能源审计报告"},
                  {"water", "中水回用系统"}};
    return d;
  }

  //! Drafted, waste evidence attached as a PDF, submitted.
  Application submittedHotel() {
    auto a = programmes_.draftApplication(applicant_, "hotel", hotel());
    EXPECT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(
        programmes_.attach(applicant_, a->id, "waste", "waste.pdf", pdfBase64("减废台账")).ok());
    auto s = programmes_.submit(applicant_, a->id);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return *s;
  }

  std::int64_t count(const std::string& query) {
    long long n = 0;
    t_.db().read([&](soci::session& sql) { sql << query, soci::into(n); });
    return n;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  auth::AuthService auth_;
  ProgrammeService programmes_;
  Principal province_, huizhou_, boluo_, huidong_, applicant_, other_;
};

TEST_F(ProgrammeTest, OnlyTheProvinceDraftsAndPublishesAndAPublishedSetNeverChanges) {
  auto refused = programmes_.draftCriteria(huizhou_, hotelCriteria());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  auto draft = programmes_.draftCriteria(province_, hotelCriteria());
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(draft->version, 1);
  EXPECT_EQ(draft->state, "draft");
  // Drafts are the province's: the public does not see them.
  EXPECT_FALSE(programmes_.criteria(nullptr, draft->id).ok());
  EXPECT_TRUE(programmes_.criteriaList(nullptr, "hotel")->empty());
  EXPECT_EQ(programmes_.criteriaList(&province_, "hotel")->size(), 1u);
  // Nobody applies before a set is published.
  auto early = programmes_.draftApplication(applicant_, "hotel", hotel());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kConflict);

  EXPECT_EQ(programmes_.publishCriteria(boluo_, draft->id).error().code, ErrorCode::kForbidden);
  auto v1 = programmes_.publishCriteria(province_, draft->id);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->state, "published");
  auto changed = hotelCriteria();
  changed.pass_mark = 50;
  auto immutable = programmes_.reviseCriteria(province_, v1->id, changed);
  ASSERT_FALSE(immutable.ok());
  EXPECT_EQ(immutable.error().code, ErrorCode::kConflict);
  EXPECT_EQ(programmes_.criteria(nullptr, v1->id)->content.pass_mark, 60);

  // An application under v1; then v2 supersedes v1 for new applications only.
  auto under_v1 = programmes_.draftApplication(applicant_, "hotel", hotel());
  ASSERT_TRUE(under_v1.ok());
  auto v2_draft = programmes_.draftCriteria(province_, changed);
  ASSERT_TRUE(v2_draft.ok());
  EXPECT_EQ(v2_draft->version, 2);
  changed.pass_mark = 55;
  ASSERT_TRUE(programmes_.reviseCriteria(province_, v2_draft->id, changed).ok());
  auto v2 = programmes_.publishCriteria(province_, v2_draft->id);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->content.pass_mark, 55);
  EXPECT_EQ(programmes_.criteria(nullptr, v1->id)->state, "superseded");
  auto under_v2 = programmes_.draftApplication(applicant_, "hotel", hotel());
  ASSERT_TRUE(under_v2.ok());
  EXPECT_EQ(under_v2->criteria_version, 2);
  EXPECT_EQ(programmes_.application(applicant_, under_v1->id)->criteria_version, 1);
  EXPECT_EQ(programmes_.criteriaList(nullptr, "hotel")->size(), 2u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'programme.criteria.%'"), 5);
}

TEST_F(ProgrammeTest, ApplicationsAreCheckedAndEvidenceIsNeededForEveryIndicator) {
  publishedHotelCriteria();
  auto city = hotel();
  city.region_code = "441300";  // Huizhou has counties: the entity names its county
  EXPECT_EQ(programmes_.draftApplication(applicant_, "hotel", city).error().field, "region");
  auto dongguan = hotel();
  dongguan.region_code = "441900";  // Dongguan has no county level: the city is the region
  EXPECT_TRUE(programmes_.draftApplication(applicant_, "hotel", dongguan).ok());
  auto unknown = hotel();
  unknown.evidence["parking"] = "地下车库";
  EXPECT_EQ(programmes_.draftApplication(applicant_, "hotel", unknown).error().field,
            "evidence.parking");
  EXPECT_EQ(programmes_.draftApplication(applicant_, "campus", hotel()).error().code,
            ErrorCode::kConflict);  // no campus criteria published

  auto a = programmes_.draftApplication(applicant_, "hotel", hotel());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->state, "draft");
  // Waste has no evidence yet.
  auto incomplete = programmes_.submit(applicant_, a->id);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_EQ(incomplete.error().field, "evidence.waste");
  // Files are PDFs by content, named .pdf, for an indicator of the criteria.
  EXPECT_EQ(programmes_.attach(applicant_, a->id, "waste", "waste.pdf", "aGVsbG8=").error().field,
            "content_base64");
  EXPECT_EQ(
      programmes_.attach(applicant_, a->id, "waste", "waste.exe", pdfBase64("x")).error().field,
      "name");
  EXPECT_EQ(programmes_.attach(applicant_, a->id, "noise", "n.pdf", pdfBase64("x")).error().field,
            "indicator");
  std::string big(kMaxAttachmentBytes / 3 * 4 + 12, 'A');
  EXPECT_EQ(programmes_.attach(applicant_, a->id, "waste", "w.pdf", big).error().field,
            "content_base64");
  EXPECT_EQ(programmes_.attach(other_, a->id, "waste", "w.pdf", pdfBase64("x")).error().code,
            ErrorCode::kForbidden);
  auto file = programmes_.attach(applicant_, a->id, "waste", "waste.pdf", pdfBase64("台账"));
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto back = programmes_.attachmentFile(boluo_, a->id, file->id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->bytes.rfind("%PDF-", 0), 0u);
  EXPECT_FALSE(programmes_.attachmentFile(huidong_, a->id, file->id).ok());
  // Another user neither reads nor submits it.
  EXPECT_EQ(programmes_.application(other_, a->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(programmes_.submit(other_, a->id).error().code, ErrorCode::kForbidden);
  auto revised = hotel();
  revised.address = "博罗县长宁镇罗浮山路 2 号";
  ASSERT_TRUE(programmes_.reviseApplication(applicant_, a->id, revised).ok());
  auto submitted = programmes_.submit(applicant_, a->id);
  ASSERT_TRUE(submitted.ok()) << submitted.error().message;
  EXPECT_EQ(submitted->state, "submitted");
  EXPECT_EQ(submitted->details.address, "博罗县长宁镇罗浮山路 2 号");
  EXPECT_EQ(programmes_.reviseApplication(applicant_, a->id, revised).error().code,
            ErrorCode::kConflict);
  // The applicant sees its own; the county and city admins see it; the neighbour does not.
  EXPECT_EQ(programmes_.applications(applicant_, {}).size(), 2u);  // Dongguan's and this one
  EXPECT_EQ(programmes_.applications(boluo_, {"submitted", ""}).size(), 1u);
  EXPECT_EQ(programmes_.applications(huizhou_, {}).size(), 1u);
  EXPECT_EQ(programmes_.applications(huidong_, {}).size(), 0u);
  EXPECT_EQ(programmes_.applications(province_, {}).size(), 2u);
}

TEST_F(ProgrammeTest, TheContactIsSealedAtRestAndReadBackByThoseWhoMaySeeIt) {
  publishedHotelCriteria();
  auto a = submittedHotel();
  EXPECT_EQ(a.details.contact, "王经理 0752-0000000");
  auto revised = hotel();
  EXPECT_EQ(programmes_.application(huizhou_, a.id)->details.contact, "王经理 0752-0000000");
  t_.db().read([&](soci::session& sql) {
    std::string stored;
    sql << "SELECT contact FROM programme_applications", soci::into(stored);
    EXPECT_TRUE(FieldCipher::isSealed(stored)) << stored;
    EXPECT_EQ(stored.find("0752"), std::string::npos);
    EXPECT_EQ(store::dataCipher().reveal(stored, "programme_applications.contact"),
              "王经理 0752-0000000");
  });
  auto draft = programmes_.draftApplication(applicant_, "hotel", hotel());
  ASSERT_TRUE(draft.ok());
  revised.contact = "李经理 0752-1111111";
  auto saved = programmes_.reviseApplication(applicant_, draft->id, revised);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  EXPECT_EQ(saved->details.contact, "李经理 0752-1111111");
  EXPECT_EQ(count("SELECT COUNT(*) FROM programme_applications WHERE contact LIKE '%0752%'"), 0);
}

TEST_F(ProgrammeTest, TheRegionScoresAwardsAndRevokesAndTheTitleIsPublic) {
  publishedHotelCriteria();
  auto a = submittedHotel();
  std::map<std::string, int> failing = {{"energy", 9}, {"water", 10}, {"waste", 10}};
  std::map<std::string, int> passing = {{"energy", 15}, {"water", 7}, {"waste", 6}};
  // Refused: a county admin outside the county, a resident, the province's missing indicator.
  EXPECT_EQ(programmes_.score(huidong_, a.id, passing, "").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(programmes_.score(other_, a.id, passing, "").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(programmes_.score(boluo_, a.id, {{"energy", 15}, {"water", 7}}, "").error().field,
            "scores.waste");
  EXPECT_EQ(programmes_.score(boluo_, a.id, {{"energy", 21}, {"water", 7}, {"waste", 6}}, "")
                .error()
                .field,
            "scores.energy");
  EXPECT_EQ(programmes_.award(boluo_, a.id).error().code, ErrorCode::kConflict);  // not scored

  auto scored = programmes_.score(boluo_, a.id, failing, "能耗未达标");
  ASSERT_TRUE(scored.ok());
  EXPECT_EQ(scored->state, "scored");
  EXPECT_EQ(scored->assessment->evaluation.total_milli, 78'000);
  EXPECT_FALSE(scored->assessment->evaluation.passed);
  auto refused = programmes_.award(boluo_, a.id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "scores");
  // The city, an ancestor, scores again and the county awards.
  ASSERT_TRUE(programmes_.score(huizhou_, a.id, passing, "复核").ok());
  EXPECT_EQ(programmes_.award(huidong_, a.id).error().code, ErrorCode::kForbidden);
  auto awarded = programmes_.award(boluo_, a.id);
  ASSERT_TRUE(awarded.ok()) << awarded.error().message;
  EXPECT_EQ(awarded->state, "awarded");
  ASSERT_TRUE(awarded->title_id);
  EXPECT_EQ(programmes_.reject(boluo_, a.id, "迟到").error().code, ErrorCode::kConflict);
  EXPECT_EQ(programmes_.award(boluo_, a.id).error().code, ErrorCode::kConflict);

  auto title = programmes_.title(*awarded->title_id);
  ASSERT_TRUE(title.ok());
  EXPECT_EQ(title->awarded_on, "2026-06-01");
  EXPECT_EQ(title->valid_until, "2029-05-31");
  EXPECT_EQ(title->status, "valid");
  EXPECT_EQ(title->total_milli, 68'500);
  EXPECT_EQ(title->entity_name, "罗浮山温泉酒店");
  EXPECT_EQ(title->coordinates, (Coordinates{114'060'000, 23'270'000}));

  // Public lists by type, region (an ancestor covers it) and status.
  EXPECT_EQ(programmes_.titles({"hotel", "441300", "", 100, 0})->total, 1);
  EXPECT_EQ(programmes_.titles({"hotel", "441323", "", 100, 0})->total, 0);
  EXPECT_EQ(programmes_.titles({"campus", "", "", 100, 0})->total, 0);
  EXPECT_EQ(programmes_.titles({"", "", "valid", 100, 0})->total, 1);
  EXPECT_EQ(programmes_.titles({"", "", "expired", 100, 0})->total, 0);
  EXPECT_EQ(programmes_.titles({"", "", "gone", 100, 0}).error().field, "status");
  EXPECT_EQ(programmes_.titles({"", "44", "", 100, 0}).error().field, "region");

  // On 1 June 2029 (Asia/Shanghai) the title has expired: listed and marked, not revocable.
  clock_.set(*parseIso8601("2029-05-31T16:00:00Z"));
  EXPECT_EQ(programmes_.title(title->id)->status, "expired");
  EXPECT_EQ(programmes_.titles({"", "", "expired", 100, 0})->total, 1);
  EXPECT_EQ(programmes_.revoke(boluo_, title->id, "过期").error().code, ErrorCode::kConflict);
  clock_.set(*parseIso8601("2029-05-31T15:59:59Z"));
  EXPECT_EQ(programmes_.title(title->id)->status, "valid");

  EXPECT_EQ(programmes_.revoke(huidong_, title->id, "x").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(programmes_.revoke(boluo_, title->id, "").error().field, "reason");
  auto revoked = programmes_.revoke(huizhou_, title->id, "2028 年能耗监测数据造假");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, "revoked");
  EXPECT_EQ(revoked->revoked_reason, "2028 年能耗监测数据造假");
  EXPECT_EQ(programmes_.titles({"", "", "revoked", 100, 0})->total, 1);
  EXPECT_EQ(programmes_.titles({"", "", "valid", 100, 0})->total, 0);
  EXPECT_EQ(programmes_.revoke(huizhou_, title->id, "again").error().code, ErrorCode::kConflict);

  for (const char* action : {"programme.application.draft", "programme.application.attach",
                             "programme.application.submit", "programme.application.score",
                             "programme.application.award", "programme.title.revoke"}) {
    EXPECT_GE(
        count(std::string("SELECT COUNT(*) FROM audit_events WHERE action = '") + action + "'"), 1)
        << action;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_events WHERE action = "
                  "'programme.application.score'"),
            2);
}

TEST_F(ProgrammeTest, RejectionKeepsItsReasonsAndTheApplicantDoesNotJudgeItself) {
  publishedHotelCriteria();
  // A county admin applying for a hotel in its own county cannot score or decide it.
  auto own = programmes_.draftApplication(boluo_, "hotel", hotel());
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(programmes_.attach(boluo_, own->id, "waste", "w.pdf", pdfBase64("x")).ok());
  ASSERT_TRUE(programmes_.submit(boluo_, own->id).ok());
  EXPECT_EQ(programmes_.score(boluo_, own->id, {{"energy", 20}, {"water", 10}, {"waste", 10}}, "")
                .error()
                .code,
            ErrorCode::kForbidden);
  EXPECT_EQ(programmes_.reject(boluo_, own->id, "x").error().code, ErrorCode::kForbidden);

  auto a = submittedHotel();
  EXPECT_EQ(programmes_.reject(boluo_, a.id, "").error().field, "reason");
  EXPECT_EQ(programmes_.reject(huidong_, a.id, "不在辖区").error().code, ErrorCode::kForbidden);
  auto rejected = programmes_.reject(boluo_, a.id, "缺少节水设施验收材料");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->state, "rejected");
  EXPECT_EQ(programmes_.application(applicant_, a.id)->decision_reason, "缺少节水设施验收材料");
  EXPECT_EQ(programmes_.titles({})->total, 0);
}

TEST_F(ProgrammeTest, ParallelAwardsMakeOneTitle) {
  publishedHotelCriteria();
  auto a = submittedHotel();
  ASSERT_TRUE(
      programmes_.score(boluo_, a.id, {{"energy", 15}, {"water", 7}, {"waste", 6}}, "").ok());
  std::atomic<int> awarded = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (programmes_.award(i % 2 ? boluo_ : huizhou_, a.id).ok()) ++awarded;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(awarded.load(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM programme_titles"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_events WHERE action = 'programme.application.award'"),
            1);
}

}  // namespace
}  // namespace tph::programme
