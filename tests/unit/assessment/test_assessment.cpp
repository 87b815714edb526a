// The cities' yearly assessment on a small fixture: every figure and score of Shenzhen and
// Guangzhou checked against values computed by hand (in the comments), the scheme's validation,
// scoring-rule boundaries, ranking ties, the population guard, permissions, publication freezing
// the year, and the XLSX and PDF reports read back.

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "assessment/assessment_service.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "methodology/methodology_service.h"
#include "pilot/pilot_service.h"
#include "region/region_service.h"
#include "registry/registry_ledger.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::assessment {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

// ---- reading the reports back -------------------------------------------------------------

//! Inflates zlib (window_bits 15) or raw deflate (-15) data.
std::string inflateBytes(const std::string& in, int window_bits) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return {};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  return out;
}

std::uint32_t le(const std::string& s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

//! The entries of a zip archive by name, inflated, read through its central directory.
std::map<std::string, std::string> unzip(const std::string& zip) {
  std::map<std::string, std::string> out;
  auto eocd = zip.rfind(std::string("PK\x05\x06", 4));
  if (eocd == std::string::npos) return out;
  std::size_t entries = le(zip, eocd + 10, 2), at = le(zip, eocd + 16, 4);
  for (std::size_t i = 0; i < entries; ++i) {
    int method = static_cast<int>(le(zip, at + 10, 2));
    std::size_t compressed = le(zip, at + 20, 4), name_len = le(zip, at + 28, 2),
                extra_len = le(zip, at + 30, 2), comment_len = le(zip, at + 32, 2),
                local = le(zip, at + 42, 4);
    std::string name = zip.substr(at + 46, name_len);
    std::size_t data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
    std::string bytes = zip.substr(data, compressed);
    out[name] = method == 8 ? inflateBytes(bytes, -15) : bytes;
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

//! Every Flate stream of a PDF, inflated and joined (content streams and ToUnicode CMaps).
std::string pdfStreams(const std::string& pdf) {
  std::string out;
  std::size_t at = 0;
  while ((at = pdf.find("stream", at)) != std::string::npos) {
    if (at >= 3 && pdf.compare(at - 3, 3, "end") == 0) {
      at += 6;
      continue;
    }
    std::size_t begin = at + 6;
    if (pdf[begin] == '\r') ++begin;
    if (pdf[begin] == '\n') ++begin;
    std::size_t end = pdf.find("endstream", begin);
    if (end == std::string::npos) break;
    out += inflateBytes(pdf.substr(begin, end - begin), 15);
    at = end + 9;
  }
  return out;
}

//! True when a ToUnicode map of the PDF maps some glyph to every character of `text`: the text
//! is real text a reader can extract, not pixels.
bool pdfHasText(const std::string& streams, const std::string& utf8) {
  std::string lower = streams;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = 0;
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += static_cast<std::size_t>(n);
    char hex[16];
    std::snprintf(hex, sizeof hex, "<%04x>", cp);
    if (lower.find(hex) == std::string::npos) return false;
  }
  return true;
}

// ---- the fixture ----------------------------------------------------------------------------

auth::AuthOptions fastAuth() {
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  return options;
}

json schemeJson() {
  return json::parse(R"([
    {"key": "pilot_status", "weight": 10, "rule": {"kind": "bands", "bands": [{"min": 1, "percent": 100}]}},
    {"key": "target_progress", "weight": 20, "rule": {"kind": "linear", "floor": 0, "full": 100}},
    {"key": "tonnes_certified", "weight": 20, "rule": {"kind": "linear", "floor": 0, "full": 100}},
    {"key": "participants_per_10k", "weight": 15, "rule": {"kind": "linear", "floor": 0, "full": 2}},
    {"key": "merchants", "weight": 10, "rule": {"kind": "bands", "bands": [{"min": 1, "percent": 50}, {"min": 2, "percent": 100}]}},
    {"key": "methodologies_submitted", "weight": 5, "rule": {"kind": "linear", "floor": 0, "full": 4}},
    {"key": "methodologies_approved", "weight": 10, "rule": {"kind": "linear", "floor": 0, "full": 1}},
    {"key": "data_linkage", "weight": 10, "rule": {"kind": "linear", "floor": 0, "full": 100}}
  ])");
}

class AssessmentTest : public ::testing::Test {
 protected:
  // 1 March 2026, 10:00 in Guangdong: the pilot round is open.
  AssessmentTest()
      : clock_(*parseIso8601("2026-03-01T02:00:00Z")),
        methodologies_(t_.db(), clock_),
        auth_(t_.db(), clock_, fastAuth()),
        assessments_(t_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
    EXPECT_TRUE(methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    province_ = make("gd_admin", {{Role::kProvinceAdmin, "440000"}});
    sz_admin_ = make("sz_admin", {{Role::kRegionAdmin, "440300"}});
    gz_admin_ = make("gz_admin", {{Role::kRegionAdmin, "440100"}});
  }

  Principal make(const std::string& name, std::vector<auth::RoleGrant> grants) {
    auto u = auth_.createUserAsSystem("test", {name, "green-travel-42", name, grants}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  void at(const char* iso) { clock_.set(*parseIso8601(iso)); }

  //! Shenzhen becomes a pilot from 1 April 2026 with its 2026 goals.
  void designateShenzhen() {
    pilot::PilotService pilots(t_.db(), clock_);
    auto expert = make("expert", {{Role::kVerifier, ""}});
    auto round = pilots.openRound(province_, "2026 年试点", *parseIso8601("2026-07-31T15:59:59Z"),
                                  {{"goals", "目标", 10, 100}});
    ASSERT_TRUE(round.ok()) << round.error().message;
    auto plan = pilot::planFromJson(json::parse(R"({
      "approach": "低碳出行与节约用电",
      "goals": [{"year": 2026, "participants": 4, "tonnes": 1, "merchants": 4, "methodologies": 2}],
      "tasks": ["electricity"], "safeguards": "领导小组",
      "schedule": [{"date": "2026-09-30", "title": "平台上线"}]})"));
    ASSERT_TRUE(plan.ok()) << plan.error().field;
    auto a = pilots.draft(sz_admin_, round->id, "440300", *plan);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_TRUE(pilots.submit(sz_admin_, a->id).ok());
    ASSERT_TRUE(pilots.assignReviewers(province_, a->id, {expert.user_id}).ok());
    ASSERT_TRUE(pilots.score(expert, a->id, {{"goals", 8}}, "").ok());
    ASSERT_TRUE(pilots.decide(province_, a->id, true, "", "2026-04-01").ok());
  }

  void issue(const std::string& region, std::int64_t units, const char* when) {
    at(when);
    t_.db()
        .transaction([&](soci::session& sql) -> Status {
          auto op = registry::ensureOperatorAccount(sql, clock_, region, "test");
          long long id = 0, account = op;
          sql << "INSERT INTO certification_batches (methodology_id, region_code, vintage_from, "
                 "vintage_until, vintage_year, carbon_sink, operator_account_id, state, "
                 "opened_by, opened_at_ms, notice_days_working, notice_until_ms, sample_seed, "
                 "report_json, records_locked, grams_locked, updated_at_ms) VALUES "
                 "('travel.metro', :r, '2026-01-01', '2026-01-31', 2026, 0, :op, 'approved', "
                 "'test', 0, 0, 0, 'seed', '{}', 0, 0, 0) RETURNING id",
              soci::use(region), soci::use(account), soci::into(id);
          registry::issueUnits(
              sql, clock_, {id, region, "travel.metro", 2026, Units(units), Units(0), op, "test"});
          return {};
        })
        .value();
  }

  void merchant(const std::string& licence, const std::string& region, const char* decided_at) {
    t_.exec(
        "INSERT INTO merchants (name, licence_no, category, region_code, address, contact, "
        "applicant_user_id, status, created_at_ms, decided_at_ms) VALUES ('店', '" +
        licence + "', 'food', '" + region + "', 'addr', 'c', " + std::to_string(sz_admin_.user_id) +
        ", 'approved', 0, " + std::to_string(toEpochMs(*parseIso8601(decided_at))) + ")");
  }

  //! A methodology version scoped to `scope` and review steps at the given instants.
  void methodologyVersion(const std::string& id, const std::string& scope,
                          const std::vector<std::pair<std::string, const char*>>& steps) {
    t_.exec(
        "INSERT INTO methodology_versions (methodology_id, version, state, scope, domain, "
        "name_zh, name_en, effective_from, definition_toml, created_by, created_at_ms, "
        "updated_at_ms) VALUES ('" +
        id + "', 1, 'submitted', '" + scope + "', 'travel', '方法学', 'm', '2026-01-01', '', " +
        "'test', 0, 0)");
    for (const auto& [kind, when] : steps) {
      t_.exec(
          "INSERT INTO methodology_comments (version_id, author, kind, body, at_ms) SELECT id, "
          "'test', '" +
          kind + "', '', " + std::to_string(toEpochMs(*parseIso8601(when))) +
          " FROM methodology_versions WHERE methodology_id = '" + id + "'");
    }
  }

  //! A platform linked for Shenzhen that delivered aggregates for three days; a spot check found
  //! one of them mismatched.
  void linkShenzhen() {
    t_.exec(
        "INSERT INTO link_platforms (name, region_code, public_key_hex, status, "
        "registered_by, registered_at_ms) VALUES ('深圳节点', '440300', '" +
        std::string(64, 'a') + "', 'active', 'test', 0)");
    auto aggregate = [&](const std::string& day, const std::string& methodology) {
      t_.exec(
          "INSERT INTO link_aggregates (platform_id, day, region_code, methodology_id, "
          "methodology_version, records, subjects, grams, records_digest, message_id) SELECT "
          "id, '" +
          day + "', '440305', '" + methodology +
          "', 1, 1, 1, 10, 'd', 'm' FROM link_platforms WHERE region_code = '440300'");
    };
    aggregate("2026-02-01", "travel.metro");
    aggregate("2026-02-01", "travel.bus");  // the same day twice
    aggregate("2026-03-01", "travel.metro");
    aggregate("2026-06-30", "travel.metro");
    aggregate("2026-07-02", "travel.metro");  // after the period
    t_.exec(
        "INSERT INTO link_spot_checks (platform_id, day, region_code, methodology_id, "
        "methodology_version, records_digest, records, grams, state, requested_by, "
        "requested_at_ms) SELECT id, '2026-03-01', '440305', 'travel.metro', 1, 'd', 1, 10, "
        "'mismatched', 'test', 0 FROM link_platforms WHERE region_code = '440300'");
  }

  void setPopulations(std::int64_t shenzhen, std::int64_t guangzhou) {
    std::vector<Population> entries;
    for (const auto& r : region::RegionService(t_.db(), clock_).list()) {
      if (r.level != "city") continue;
      std::int64_t n = r.code == "440300" ? shenzhen : r.code == "440100" ? guangzhou : 1'000'000;
      entries.push_back({r.code, n, "广东省2025年国民经济和社会发展统计公报", "", {}});
    }
    auto set = assessments_.setPopulations(province_, 2026, entries);
    ASSERT_TRUE(set.ok()) << set.error().field << ": " << set.error().message;
  }

  //! The whole fixture; the clock ends at 2 July 2026, 10:00 in Guangdong.
  void seed() {
    designateShenzhen();
    issue("440100", 7, "2025-12-20T02:00:00Z");  // the year before: not counted
    issue("440100", 5, "2026-03-03T02:00:00Z");
    issue("440300", 120, "2026-06-15T02:00:00Z");
    merchant("SZ1", "440305", "2026-04-02T02:00:00Z");
    merchant("SZ2", "440304", "2026-07-01T15:59:59Z");  // 23:59:59 on 1 July
    merchant("SZ3", "440305", "2026-07-01T16:00:00Z");  // 2 July: after the period
    merchant("GZ1", "440106", "2026-01-05T02:00:00Z");
    methodologyVersion("sz.a", "440300",
                       {{"submit", "2026-05-01T02:00:00Z"}, {"approve", "2026-06-01T02:00:00Z"}});
    methodologyVersion("sz.b", "440305", {{"submit", "2026-03-01T02:00:00Z"}});
    methodologyVersion("sz.c", "440305", {{"submit", "2025-12-31T02:00:00Z"}});    // last year
    methodologyVersion("gd.all", "440000", {{"submit", "2026-03-01T02:00:00Z"}});  // province
    linkShenzhen();
    at("2026-07-02T02:00:00Z");
    testing::CreditedReductions credit(t_.db(), clock_, methodologies_);
    credit.trees("440305", "2026-04-10", 100, 1);    // 600,000 g
    credit.trees("440304", "2026-05-01", 50, 1);     // 300,000 g
    credit.saving("440303", "2026-06-01", 1000, 0);  // 404,200 g
    credit.trees("440106", "2026-02-01", 10, 1);     // Guangzhou, 60,000 g
    auto indicators = indicatorsFromJson(schemeJson());
    ASSERT_TRUE(indicators.ok()) << indicators.error().field;
    ASSERT_TRUE(assessments_.setScheme(province_, 2026, *indicators).ok());
    setPopulations(20'000, 10'000);
  }

  static const CityResult& result(const CityAssessment& c, const std::string& key) {
    for (const auto& r : c.results) {
      if (r.indicator_key == key) return r;
    }
    throw std::runtime_error("no result " + key);
  }
  static const CityAssessment& city(const assessment::Run& run, const std::string& code) {
    for (const auto& c : run.cities) {
      if (c.region_code == code) return c;
    }
    throw std::runtime_error("no city " + code);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  auth::AuthService auth_;
  AssessmentService assessments_;
  Principal province_, sz_admin_, gz_admin_;
};

TEST(AssessmentScheme, ValidationNamesTheField) {
  auto field = [](const json& j) {
    auto r = indicatorsFromJson(j);
    return r.ok() ? std::string("ok") : r.error().field;
  };
  EXPECT_EQ(field(schemeJson()), "ok");
  auto short_of = schemeJson();
  short_of[0]["weight"] = 9;  // 99 in all
  EXPECT_EQ(field(short_of), "indicators");
  auto unknown = schemeJson();
  unknown[1]["key"] = "gdp";
  EXPECT_EQ(field(unknown), "indicators[1].key");
  auto twice = schemeJson();
  twice[2]["key"] = "pilot_status";
  EXPECT_EQ(field(twice), "indicators[2].key");
  auto flat = schemeJson();
  flat[1]["rule"] = {{"kind", "linear"}, {"floor", 5}, {"full", 5}};
  EXPECT_EQ(field(flat), "indicators[1].rule.full");
  auto fine = schemeJson();
  fine[1]["rule"] = {{"kind", "linear"}, {"floor", 0.0001}, {"full", 5}};
  EXPECT_EQ(field(fine), "indicators[1].rule.floor");
  auto bands = schemeJson();
  bands[4]["rule"]["bands"][1]["min"] = 1;
  EXPECT_EQ(field(bands), "indicators[4].rule.bands[1].min");
  auto percent = schemeJson();
  percent[4]["rule"]["bands"][1]["percent"] = 101;
  EXPECT_EQ(field(percent), "indicators[4].rule.bands[1].percent");
  auto kind = schemeJson();
  kind[0]["rule"] = {{"kind", "log"}};
  EXPECT_EQ(field(kind), "indicators[0].rule.kind");
  EXPECT_EQ(field(json::array()), "indicators");
  // Decimals survive the round trip.
  auto decimal = schemeJson();
  decimal[3]["rule"]["full"] = 2.5;
  auto parsed = indicatorsFromJson(decimal);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[3].rule.full_milli, 2500);
  EXPECT_EQ(indicatorsToJson(*parsed), decimal);
}

TEST(AssessmentScoring, LinearRuleAtItsBoundaries) {
  ScoringRule rule{"linear", 10'000, 20'000, {}};
  EXPECT_EQ(scoreMilli(rule, 10, 0), 0);
  EXPECT_EQ(scoreMilli(rule, 10, 10'000), 0);  // at the floor
  EXPECT_EQ(scoreMilli(rule, 10, 10'001), 1);  // 10 000 × 1 / 10 000
  EXPECT_EQ(scoreMilli(rule, 10, 15'000), 5'000);
  EXPECT_EQ(scoreMilli(rule, 10, 19'999), 9'999);
  EXPECT_EQ(scoreMilli(rule, 10, 20'000), 10'000);  // at full
  EXPECT_EQ(scoreMilli(rule, 10, 1'000'000'000'000'000), 10'000);
  EXPECT_EQ(scoreMilli(rule, 3, 12'000), 600);
}

TEST(AssessmentScoring, BandsTakeTheHighestReached) {
  ScoringRule rule{"bands", 0, 0, {{1'000, 50}, {2'000, 80}, {5'000, 100}}};
  EXPECT_EQ(scoreMilli(rule, 10, 999), 0);
  EXPECT_EQ(scoreMilli(rule, 10, 1'000), 5'000);
  EXPECT_EQ(scoreMilli(rule, 10, 1'999), 5'000);
  EXPECT_EQ(scoreMilli(rule, 10, 2'000), 8'000);
  EXPECT_EQ(scoreMilli(rule, 10, 5'000), 10'000);
  EXPECT_EQ(scoreMilli(rule, 10, 9'000), 10'000);
}

TEST(AssessmentRanking, TiesShareTheBetterRankAndTheNextIsSkipped) {
  std::vector<CityAssessment> cities;
  for (auto [code, total] : std::vector<std::pair<const char*, std::int64_t>>{{"440500", 50'000},
                                                                              {"440300", 70'000},
                                                                              {"440100", 50'000},
                                                                              {"440400", 70'000},
                                                                              {"440200", 10'000},
                                                                              {"440600", 50'000}}) {
    CityAssessment c;
    c.region_code = code;
    c.total_milli = total;
    cities.push_back(c);
  }
  rankCities(cities);
  std::vector<std::pair<std::string, int>> got;
  for (const auto& c : cities) got.emplace_back(c.region_code, c.rank);
  std::vector<std::pair<std::string, int>> want = {{"440300", 1}, {"440400", 1}, {"440100", 3},
                                                   {"440500", 3}, {"440600", 3}, {"440200", 6}};
  EXPECT_EQ(got, want);
}

TEST_F(AssessmentTest, FiguresAndScoresMatchTheHandComputedValues) {
  seed();
  auto run = assessments_.compute(province_, 2026);
  ASSERT_TRUE(run.ok()) << run.error().field << ": " << run.error().message;
  EXPECT_EQ(run->state, "computed");
  EXPECT_EQ(run->period_from, "2026-01-01");
  EXPECT_EQ(run->period_until, "2026-07-01");  // yesterday: 182 days
  ASSERT_EQ(run->cities.size(), 21u);
  const auto& sz = city(*run, "440300");
  // Pilot from 1 April to 1 July: 92 days; the band from 1 day gives the full 10.
  EXPECT_EQ(result(sz, "pilot_status").figure_milli, 92'000);
  EXPECT_EQ(result(sz, "pilot_status").score_milli, 10'000);
  // Goals 2026: participants 3/4 = 75 %, tonnes 1.304/1 → 100 %, merchants 2/4 = 50 %,
  // methodologies credited 2/2 = 100 %: mean 81.25 %, × 20 = 16.25.
  EXPECT_EQ(result(sz, "target_progress").figure_milli, 81'250);
  EXPECT_EQ(result(sz, "target_progress").score_milli, 16'250);
  // 120 PHCER issued in the year: at full (100), 20.
  EXPECT_EQ(result(sz, "tonnes_certified").figure_milli, 120'000);
  EXPECT_EQ(result(sz, "tonnes_certified").score_milli, 20'000);
  // 3 participants × 10 000 / 20 000 residents = 1.5; 15 × 1.5 / 2 = 11.25.
  EXPECT_EQ(result(sz, "participants_per_10k").figure_milli, 1'500);
  EXPECT_EQ(result(sz, "participants_per_10k").score_milli, 11'250);
  // 2 merchants by the end of 1 July: the 100 % band.
  EXPECT_EQ(result(sz, "merchants").figure_milli, 2'000);
  EXPECT_EQ(result(sz, "merchants").score_milli, 10'000);
  // Submitted in the year: sz.a and sz.b; 5 × 2 / 4 = 2.5. Approved: sz.a; 10.
  EXPECT_EQ(result(sz, "methodologies_submitted").figure_milli, 2'000);
  EXPECT_EQ(result(sz, "methodologies_submitted").score_milli, 2'500);
  EXPECT_EQ(result(sz, "methodologies_approved").figure_milli, 1'000);
  EXPECT_EQ(result(sz, "methodologies_approved").score_milli, 10'000);
  // 3 days delivered, 1 mismatched: 2 / 182 = 1.098 %; 10 × 1.098 / 100 = 0.109.
  EXPECT_EQ(result(sz, "data_linkage").figure_milli, 1'098);
  EXPECT_EQ(result(sz, "data_linkage").score_milli, 109);
  // 10 + 16.25 + 20 + 11.25 + 10 + 2.5 + 10 + 0.109
  EXPECT_EQ(sz.total_milli, 80'109);
  EXPECT_EQ(sz.rank, 1);

  const auto& gz = city(*run, "440100");
  EXPECT_EQ(result(gz, "pilot_status").figure_milli, 0);
  EXPECT_EQ(result(gz, "target_progress").figure_milli, 0);
  EXPECT_EQ(result(gz, "tonnes_certified").figure_milli, 5'000);  // not last year's 7
  EXPECT_EQ(result(gz, "tonnes_certified").score_milli, 1'000);
  EXPECT_EQ(result(gz, "participants_per_10k").figure_milli, 1'000);  // 1 × 10 000 / 10 000
  EXPECT_EQ(result(gz, "participants_per_10k").score_milli, 7'500);
  EXPECT_EQ(result(gz, "merchants").score_milli, 5'000);
  EXPECT_EQ(result(gz, "data_linkage").note, "无接入平台 / no linked platform");
  EXPECT_EQ(gz.total_milli, 13'500);
  EXPECT_EQ(gz.rank, 2);
  // The other 19 cities score nothing and tie at 3, listed by region code.
  EXPECT_EQ(run->cities[2].region_code, "440200");
  EXPECT_EQ(run->cities[2].rank, 3);
  EXPECT_EQ(run->cities[20].rank, 3);

  // Each figure names the query that produced it, with what an auditor needs to rerun it.
  const auto& source = result(sz, "tonnes_certified").source;
  EXPECT_EQ(source.at("query"), "registry.issued_units");
  EXPECT_EQ(source.at("bind").at("region"), "4403%");
  EXPECT_NE(source.at("sql").get<std::string>().find("registry_issuances"), std::string::npos);
  EXPECT_EQ(result(sz, "participants_per_10k").source.at("population").at("residents"), 20'000);
  EXPECT_EQ(result(sz, "data_linkage").source.at("sql").size(), 3u);

  // The stored run reads back the same.
  auto stored = assessments_.run(&province_, run->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(city(*stored, "440300").total_milli, 80'109);
  EXPECT_EQ(result(city(*stored, "440300"), "data_linkage").source,
            result(sz, "data_linkage").source);
  EXPECT_EQ(stored->content_sha256, run->content_sha256);
}

TEST_F(AssessmentTest, ParticipantsPerTenThousandNeedEveryCitysPopulation) {
  at("2026-07-02T02:00:00Z");
  auto indicators = indicatorsFromJson(schemeJson());
  ASSERT_TRUE(assessments_.setScheme(province_, 2026, *indicators).ok());
  ASSERT_TRUE(
      assessments_.setPopulations(province_, 2026, {{"440300", 17'660'000, "统计公报", "", {}}})
          .ok());
  auto refused = assessments_.compute(province_, 2026);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "populations.440100");  // Guangzhou has none
  // Populations are checked on entry too.
  EXPECT_EQ(
      assessments_.setPopulations(province_, 2026, {{"440305", 1, "x", "", {}}}).error().field,
      "populations[0].region");  // a district, not a city
  EXPECT_EQ(
      assessments_.setPopulations(province_, 2026, {{"440300", 0, "x", "", {}}}).error().field,
      "populations[0].residents");
  EXPECT_EQ(assessments_.setPopulations(province_, 2026, {{"440300", 5, "", "", {}}}).error().field,
            "populations[0].source");
  // Without that indicator, no population is needed.
  auto without = schemeJson();
  without[3]["key"] = "merchants";
  without.erase(4);
  without[3]["weight"] = 25;
  auto fewer = indicatorsFromJson(without);
  ASSERT_TRUE(fewer.ok()) << fewer.error().field << fewer.error().message;
  ASSERT_TRUE(assessments_.setScheme(province_, 2026, *fewer).ok());
  EXPECT_TRUE(assessments_.compute(province_, 2026).ok());
  // A year with no day ended yet cannot be computed.
  EXPECT_EQ(assessments_.compute(province_, 2027).error().field, "year");
}

TEST_F(AssessmentTest, OnlyTheProvinceSetsAndComputesAndACityAdminSeesItsOwnPublishedDetail) {
  seed();
  auto indicators = indicatorsFromJson(schemeJson());
  EXPECT_EQ(assessments_.setScheme(sz_admin_, 2026, *indicators).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(assessments_.setPopulations(sz_admin_, 2026, {{"440300", 5, "x", "", {}}}).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(assessments_.compute(sz_admin_, 2026).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(assessments_.scheme(sz_admin_, 2026).error().code, ErrorCode::kForbidden);
  auto run = assessments_.compute(province_, 2026);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(assessments_.publish(sz_admin_, run->id).error().code, ErrorCode::kForbidden);
  // Before publication, only the province sees the run.
  EXPECT_EQ(assessments_.city(sz_admin_, run->id, "440300").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(assessments_.run(nullptr, run->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(assessments_.reportPdf(nullptr, run->id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(assessments_.published(2026).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(assessments_.publish(province_, run->id).ok());
  auto own = assessments_.city(sz_admin_, run->id, "440300");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->total_milli, 80'109);
  EXPECT_EQ(assessments_.city(sz_admin_, run->id, "440100").error().code, ErrorCode::kForbidden);
  EXPECT_EQ(assessments_.city(gz_admin_, run->id, "440300").error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(assessments_.run(nullptr, run->id).ok());
}

TEST_F(AssessmentTest, PublishingFreezesTheYear) {
  seed();
  auto first = assessments_.compute(province_, 2026);
  auto second = assessments_.compute(province_, 2026);
  ASSERT_TRUE(first.ok() && second.ok());
  auto published = assessments_.publish(province_, second->id);
  ASSERT_TRUE(published.ok()) << published.error().message;
  EXPECT_EQ(published->state, "published");
  EXPECT_EQ(published->published_by, province_.auditActor());
  EXPECT_EQ(assessments_.publish(province_, second->id).error().code, ErrorCode::kConflict);
  EXPECT_EQ(assessments_.publish(province_, first->id).error().field, "year");
  auto indicators = indicatorsFromJson(schemeJson());
  EXPECT_EQ(assessments_.setScheme(province_, 2026, *indicators).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(assessments_.setPopulations(province_, 2026, {{"440300", 5, "x", "", {}}}).error().code,
            ErrorCode::kConflict);
  // New data after publication changes nothing published, and no new run is taken.
  issue("440300", 1000, "2026-07-02T03:00:00Z");
  EXPECT_EQ(assessments_.compute(province_, 2026).error().code, ErrorCode::kConflict);
  auto again = assessments_.published(2026);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, second->id);
  EXPECT_EQ(again->content_sha256, second->content_sha256);
  EXPECT_EQ(city(*again, "440300").total_milli, 80'109);
  EXPECT_TRUE(assessments_.scheme(province_, 2026)->published);
  // Every step is in the audit chain.
  std::int64_t events = 0;
  t_.db().read([&](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'assessment.%'", soci::into(n);
    events = n;
    return 0;
  });
  EXPECT_EQ(events, 5);  // scheme, populations, two computations, publication
}

TEST_F(AssessmentTest, TwoRunsPublishedAtOnceLeaveOnePublished) {
  seed();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(assessments_.compute(province_, 2026)->id);
  std::atomic<int> published{0}, refused{0};
  std::vector<std::thread> threads;
  for (auto id : ids) {
    threads.emplace_back([&, id] {
      auto r = assessments_.publish(province_, id);
      if (r.ok()) {
        ++published;
      } else if (r.error().code == ErrorCode::kConflict) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(published.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  auto runs = assessments_.runs(province_, 2026);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(std::count_if(runs->begin(), runs->end(),
                          [](const auto& r) { return r.state == "published"; }),
            1);
}

TEST_F(AssessmentTest, TheWorkbookAndThePdfCarryTheRanking) {
  seed();
  auto run = assessments_.compute(province_, 2026);
  ASSERT_TRUE(run.ok());
  auto xlsx = assessments_.reportXlsx(&province_, run->id);
  ASSERT_TRUE(xlsx.ok()) << xlsx.error().message;
  EXPECT_EQ(xlsx->substr(0, 2), "PK");
  auto files = unzip(*xlsx);
  ASSERT_TRUE(files.count("xl/worksheets/sheet1.xml"));
  std::string strings = files["xl/sharedStrings.xml"];
  EXPECT_NE(strings.find("深圳市"), std::string::npos);
  EXPECT_NE(strings.find("广州市"), std::string::npos);
  EXPECT_NE(strings.find("registry.issued_units"), std::string::npos);  // the source query
  EXPECT_NE(strings.find("80.109"), std::string::npos);                 // Shenzhen's total
  auto pdf = assessments_.reportPdf(&province_, run->id);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(pdf->substr(0, 4), "%PDF");
  std::string streams = pdfStreams(*pdf);
  for (const char* name : {"深圳市", "广州市", "韶关市", "潮州市", "云浮市", "目标责任考核"}) {
    EXPECT_TRUE(pdfHasText(streams, name)) << name;
  }
  EXPECT_NE(streams.find(" re"), std::string::npos);  // the chart's bars are rectangles
}

}  // namespace
}  // namespace tph::assessment
