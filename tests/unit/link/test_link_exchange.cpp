// The link beyond daily aggregates, with a province and a city node on two databases: spot
// checks of the records behind an aggregate (matched, and a mismatch named), methodology
// versions submitted into the province's review flow and the catalogue flowing back, a city's
// certification batch issued by the province with its registry status flowing back, and the
// city refusing tampered, unsigned, foreign and out-of-order province messages.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "account/carbon_accounts.h"
#include "auth/auth_service.h"
#include "certify/certify_service.h"
#include "core/crypto.h"
#include "credited_reductions.h"
#include "incentive/merchant_service.h"
#include "link/link_city.h"
#include "link/link_hub.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::link {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

//! Calls the province's hub directly.
class HubTransport : public LinkTransport {
 public:
  explicit HubTransport(LinkHub& hub) : hub_(hub) {}
  Result<json> post(const std::string& path, const json& body) override {
    if (down) return Error{ErrorCode::kUnavailable, "", "connection refused"};
    if (path == "/api/link/v1/messages") return hub_.receive(body);
    if (path == "/api/link/v1/reconcile") return hub_.reconcile(body);
    if (path == "/api/link/v1/feed") return hub_.pull(body);
    if (path == "/api/link/v1/whoami") return hub_.whoami(body);
    return Error::notFound(path);
  }
  bool down = false;

 private:
  LinkHub& hub_;
};

certify::CertifyOptions noNotice() {
  certify::CertifyOptions o;
  o.notice_days_working = 0;
  return o;
}

auth::AuthOptions fastPasswords() {
  auth::AuthOptions o;
  o.password_cost = auth::PasswordCost::kMinimum;
  return o;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LinkExchangeTest : public ::testing::Test {
 protected:
  LinkExchangeTest()
      : clock_(*parseIso8601("2026-03-08T02:00:00Z")),
        province_key_(generateKeyPair()),
        city_key_(generateKeyPair()),
        province_auth_(province_db_.db(), clock_, fastPasswords()),
        city_auth_(city_db_.db(), clock_, fastPasswords()),
        province_methodologies_(province_db_.db(), clock_),
        city_methodologies_(city_db_.db(), clock_),
        province_registry_(province_db_.db(), clock_),
        province_certify_(province_db_.db(), clock_, province_auth_, province_methodologies_,
                          noNotice()),
        city_certify_(city_db_.db(), clock_, city_auth_, city_methodologies_, noNotice()),
        province_accounts_(province_db_.db(), clock_),
        province_merchants_(province_db_.db(), clock_, province_accounts_),
        hub_(province_db_.db(), clock_, province_key_,
             {&province_methodologies_, &province_certify_, &province_registry_,
              &province_merchants_}),
        city_(city_db_.db(), clock_, city_key_, {"440300", "http://127.0.0.1:1", "", {}},
              {&city_methodologies_, &city_certify_}),
        transport_(hub_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    for (auto* db : {&province_db_, &city_db_}) {
      EXPECT_TRUE(region::RegionService(db->db(), clock_).load(*regions, "test").ok());
    }
    EXPECT_TRUE(province_methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    EXPECT_TRUE(city_methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    province_admin_ = user(province_auth_, "gd_admin", {{Role::kProvinceAdmin, "440000"}});
    sz_reviewer_ = user(province_auth_, "sz_admin", {{Role::kRegionAdmin, "440300"}});
    city_admin_ = user(city_auth_, "sz_node_admin", {{Role::kProvinceAdmin, "440000"}});
    auto p =
        hub_.registerPlatform(province_admin_, "深圳碳普惠", "440300", city_key_.public_key_hex);
    EXPECT_TRUE(p.ok()) << p.error().message;
    platform_ = *p;
    seed_ =
        std::make_unique<testing::CreditedReductions>(city_db_.db(), clock_, city_methodologies_);
  }

  static Principal user(auth::AuthService& auth, const std::string& name,
                        std::vector<auth::RoleGrant> grants) {
    auto u = auth.createUserAsSystem("test", {name, "green-travel-42", name, grants}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  void creditWeek() {
    for (int d = 1; d <= 7; ++d) {
      std::string day = "2026-03-0" + std::to_string(d);
      for (int i = 0; i < d; ++i) seed_->trees(i % 2 ? "440305" : "440304", day, 10 + i, 1);
    }
  }

  SyncReport sync() {
    auto r = city_.syncOnce(transport_);
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.drained.last_error.empty()) << r.drained.last_error;
    return r;
  }

  //! A province message to this platform, signed with `key`.
  json provinceMessage(const std::string& id, const std::string& stream, std::int64_t seq,
                       const std::string& kind, json body, const LinkKeyPair& key) {
    Envelope e{platform_.id, id, stream, seq, kind, formatIso8601(clock_.now()), std::move(body)};
    return signMessage(envelopeToJson(e), key);
  }

  //! The metro methodology renumbered and scoped to `scope`: a city's own version.
  static std::string cityVersion(int version, const std::string& scope) {
    auto text = readFile(TPH_SOURCE_DIR "/data/methodologies/travel.metro@1.toml");
    text = std::regex_replace(text, std::regex("\nversion = 1\n"),
                              "\nversion = " + std::to_string(version) + "\n");
    text =
        std::regex_replace(text, std::regex("\nscope = \"440000\""), "\nscope = \"" + scope + "\"");
    return text;
  }

  std::int64_t approvedCityVersion(int version, const std::string& scope) {
    auto draft = city_methodologies_.createDraft(city_admin_, cityVersion(version, scope), {});
    EXPECT_TRUE(draft.ok()) << draft.error().message;
    auto id = draft->summary.row_id;
    EXPECT_TRUE(city_methodologies_.submit(city_admin_, id).ok());
    EXPECT_TRUE(city_methodologies_.startReview(city_admin_, id).ok());
    auto approved = city_methodologies_.approve(city_admin_, id, "checked by the city");
    EXPECT_TRUE(approved.ok()) << approved.error().message;
    return id;
  }

  static json itemOf(const std::vector<json>& items, const std::string& key) {
    for (const auto& i : items) {
      if (i.value("key", "") == key) return i;
    }
    return nullptr;
  }

  testing::TestDatabase province_db_, city_db_;
  ManualClock clock_;
  LinkKeyPair province_key_, city_key_;
  auth::AuthService province_auth_, city_auth_;
  methodology::MethodologyService province_methodologies_, city_methodologies_;
  registry::RegistryService province_registry_;
  certify::CertifyService province_certify_, city_certify_;
  account::CarbonAccountService province_accounts_;
  incentive::MerchantService province_merchants_;
  LinkHub hub_;
  CityNode city_;
  HubTransport transport_;
  Principal province_admin_, sz_reviewer_, city_admin_;
  LinkedPlatform platform_;
  std::unique_ptr<testing::CreditedReductions> seed_;
};

TEST_F(LinkExchangeTest, TheCityLearnsItsPlatformAndPinsTheProvincesKey) {
  EXPECT_FALSE(city_.config());
  auto first = sync();
  EXPECT_TRUE(first.connected);
  auto cfg = city_.config();
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->platform_id, platform_.id);
  EXPECT_EQ(cfg->province_public_key_hex, province_key_.public_key_hex);
  // The first pull brings the catalogue: the province-wide versions in force.
  auto catalogue = city_.provinceItems("catalogue");
  ASSERT_TRUE(catalogue.ok());
  EXPECT_FALSE(itemOf(*catalogue, "travel.metro@1").is_null());
  EXPECT_EQ(itemOf(*catalogue, "travel.metro@1")["state"], "active");
  EXPECT_EQ(city_.provinceItems("elsewhere").error().field, "stream");

  // Another province key answering later is refused: the key is pinned.
  LinkHub impostor(province_db_.db(), clock_, generateKeyPair());
  HubTransport wrong(impostor);
  auto refused = city_.connect(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(LinkExchangeTest, ASpotCheckMatchesTheRecordsAndNamesAMismatch) {
  creditWeek();
  auto first = sync();
  EXPECT_EQ(first.days_queued, 7);
  EXPECT_EQ(first.drained.sent, 7);
  auto rows = hub_.aggregates(platform_.id, "2026-03-05");
  ASSERT_EQ(rows.size(), 2u);
  SpotCheckRequest r{platform_.id, "2026-03-05", rows[0].region_code, rows[0].methodology_id,
                     rows[0].methodology_version};

  EXPECT_EQ(hub_.requestSpotCheck(sz_reviewer_, r).error().code, ErrorCode::kForbidden);
  auto missing = r;
  missing.methodology_version = 9;
  EXPECT_EQ(hub_.requestSpotCheck(province_admin_, missing).error().code, ErrorCode::kNotFound);

  auto check = hub_.requestSpotCheck(province_admin_, r);
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_EQ(check->state, "requested");
  EXPECT_EQ(check->records, rows[0].records);
  auto answered = sync();
  EXPECT_GE(answered.pulled.applied, 1);
  auto checks = hub_.spotChecks(province_admin_, platform_.id);
  ASSERT_TRUE(checks.ok());
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ((*checks)[0].state, "matched");
  EXPECT_TRUE((*checks)[0].findings.empty());

  // A record the city credits later is not in the aggregate the province holds: the next spot
  // check of it is a mismatch that names the count, the grams and the digest.
  seed_->trees(rows[0].region_code, "2026-03-05", 3, 1);
  auto second = hub_.requestSpotCheck(province_admin_, r);
  ASSERT_TRUE(second.ok());
  sync();
  checks = hub_.spotChecks(province_admin_, platform_.id);
  ASSERT_EQ(checks->size(), 2u);
  const auto& mismatch = (*checks)[0];
  EXPECT_EQ(mismatch.id, second->id);
  EXPECT_EQ(mismatch.state, "mismatched");
  std::set<std::string> fields;
  for (const auto& f : mismatch.findings) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"records", "grams", "records_digest"}));
  // Answered once: a second answer is an outcome "refused", the verdict stays.
  EXPECT_EQ(hub_.spotChecks(sz_reviewer_, platform_.id).error().code, ErrorCode::kForbidden);
}

TEST_F(LinkExchangeTest, AMethodologyVersionGoesThroughTheProvincesReviewAndComesBackActive) {
  sync();
  auto draft = city_methodologies_.createDraft(city_admin_, cityVersion(2, "440300"), {});
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  auto not_approved = city_.submitMethodology(city_admin_, draft->summary.row_id);
  EXPECT_EQ(not_approved.error().code, ErrorCode::kConflict);

  auto local = approvedCityVersion(3, "440300");
  auto queued = city_.submitMethodology(city_admin_, local);
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  EXPECT_EQ(city_.submitMethodology(city_admin_, local).error().code, ErrorCode::kConflict);
  // A Guangzhou version is not Shenzhen's to submit: the province refuses it, the stream goes on.
  auto foreign = approvedCityVersion(4, "440100");
  ASSERT_TRUE(city_.submitMethodology(city_admin_, foreign).ok());
  auto sent = sync();
  EXPECT_EQ(sent.drained.sent, 2);

  auto submissions = hub_.submissions(province_admin_, platform_.id);
  ASSERT_TRUE(submissions.ok());
  ASSERT_EQ(submissions->size(), 2u);
  std::optional<std::int64_t> row;
  for (const auto& s : *submissions) {
    if (s.reference == "travel.metro v3") {
      EXPECT_EQ(s.outcome, "submitted");
      row = s.province_id;
    } else {
      EXPECT_EQ(s.reference, "travel.metro v4");
      EXPECT_EQ(s.outcome, "refused");
      EXPECT_NE(s.reason.find("outside the platform's region"), std::string::npos) << s.reason;
    }
  }
  ASSERT_TRUE(row);
  auto at_province = province_methodologies_.version(province_admin_, *row);
  ASSERT_TRUE(at_province.ok());
  EXPECT_EQ(at_province->summary.state, "submitted");
  EXPECT_EQ(at_province->summary.created_by, "link_platform:" + std::to_string(platform_.id));
  EXPECT_EQ(at_province->summary.scope, "440300");
  auto status = city_.outboxStatus(10);
  bool refused_seen = false;
  for (const auto& m : status["messages"]) {
    if (m["outcome"].is_object() && m["outcome"]["outcome"] == "refused") refused_seen = true;
  }
  EXPECT_TRUE(refused_seen) << status.dump();

  // The province reviews, approves and activates; the next pull tells the city.
  auto catalogue = city_.provinceItems("catalogue");
  EXPECT_EQ(itemOf(*catalogue, "travel.metro@3")["state"], "submitted");
  ASSERT_TRUE(province_methodologies_.startReview(province_admin_, *row).ok());
  auto approved = province_methodologies_.approve(province_admin_, *row, "sound");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  auto active = province_methodologies_.activate(province_admin_, *row, "2026-03-09");
  ASSERT_TRUE(active.ok()) << active.error().message;
  auto pulled = sync();
  EXPECT_GE(pulled.pulled.applied, 1);
  catalogue = city_.provinceItems("catalogue");
  auto item = itemOf(*catalogue, "travel.metro@3");
  EXPECT_EQ(item["state"], "active");
  EXPECT_EQ(item["effective_from"], "2026-03-09");
  EXPECT_EQ(item["definition_sha256"], sha256Hex(cityVersion(3, "440300")));
  // Nothing changed since: a pull applies nothing new.
  EXPECT_EQ(sync().pulled.applied, 0);
}

TEST_F(LinkExchangeTest, ACityBatchIsIssuedByTheProvinceAndItsRegistryStatusComesBack) {
  creditWeek();
  auto local = city_certify_.open(city_admin_,
                                  {"sink.tree_planting", "440300", "2026-03-01", "2026-03-07", 0});
  ASSERT_TRUE(local.ok()) << local.error().message;
  auto queued = city_.submitBatch(city_admin_, local->id);
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  sync();

  auto submissions = hub_.submissions(province_admin_, platform_.id);
  ASSERT_EQ(submissions->size(), 1u);
  EXPECT_EQ((*submissions)[0].outcome, "submitted") << (*submissions)[0].reason;
  auto batch_no = *(*submissions)[0].province_id;
  auto batch = province_certify_.get(batch_no);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->state, certify::BatchState::kOpen);
  EXPECT_EQ(batch->records_locked, local->records_locked);
  EXPECT_EQ(batch->grams_locked, local->grams_locked);
  EXPECT_EQ(batch->opened_by, "link_platform:" + std::to_string(platform_.id));
  auto report = province_certify_.report(province_admin_, batch_no);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->records, local->records_locked);

  // The province's own review: a verifier, approval, issuance into the registry.
  auto verifier = user(province_auth_, "cqc", {{Role::kVerifier, ""}});
  ASSERT_TRUE(province_certify_.assignVerifier(province_admin_, batch_no, verifier.user_id).ok());
  clock_.advance(std::chrono::hours(24 * 3));
  auto approved = province_certify_.approve(verifier, batch_no, batch->grams_locked, "ok");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  auto issued = province_certify_.issue(province_admin_, batch_no, std::nullopt);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  auto units = issued->batch.units_issued->value();
  EXPECT_GT(units, 0);

  sync();
  auto registry = city_.provinceItems("registry");
  ASSERT_TRUE(registry.ok());
  auto item = itemOf(*registry, "batch:" + std::to_string(local->id));
  ASSERT_FALSE(item.is_null());
  EXPECT_EQ(item["state"], "issued");
  EXPECT_EQ(item["batch_no"], batch_no);
  EXPECT_EQ(item["units_issued"], units);
  EXPECT_EQ(item["held"].get<std::int64_t>() + item["retired"].get<std::int64_t>() +
                item["cancelled"].get<std::int64_t>(),
            units);
  EXPECT_FALSE(item["serials"].empty());

  // The same batch twice is refused by the outbox; a rejected local batch is not submitted.
  EXPECT_EQ(city_.submitBatch(city_admin_, local->id).error().code, ErrorCode::kConflict);
}

TEST_F(LinkExchangeTest, TheCityRefusesTamperedUnsignedForeignAndOutOfOrderMessages) {
  ASSERT_TRUE(city_.connect(transport_).ok());
  json body = {{"full", true},
               {"items", {{{"key", "offer:1"}, {"offer_id", 1}, {"title_zh", "地铁券"}}}},
               {"removed", json::array()}};
  auto good = provinceMessage("p-1", kOffersStream, 1, kMerchantOffers, body, province_key_);

  auto tampered = good;
  tampered["body"]["items"][0]["title_zh"] = "免费";
  EXPECT_EQ(city_.applyMessage(tampered).error().code, ErrorCode::kUnauthenticated);
  auto unsigned_message = good;
  unsigned_message.erase("signature");
  EXPECT_EQ(city_.applyMessage(unsigned_message).error().code, ErrorCode::kUnauthenticated);
  auto by_city = provinceMessage("p-1", kOffersStream, 1, kMerchantOffers, body, city_key_);
  EXPECT_EQ(city_.applyMessage(by_city).error().code, ErrorCode::kUnauthenticated);
  Envelope other{platform_.id + 1, "p-1", kOffersStream, 1, kMerchantOffers, "", body};
  EXPECT_EQ(city_.applyMessage(signMessage(envelopeToJson(other), province_key_)).error().code,
            ErrorCode::kForbidden);
  auto wrong_kind = provinceMessage("p-1", kOffersStream, 1, kRegistryStatus, body, province_key_);
  EXPECT_EQ(city_.applyMessage(wrong_kind).error().field, "kind");
  auto gap = provinceMessage("p-2", kOffersStream, 2, kMerchantOffers, body, province_key_);
  EXPECT_EQ(city_.applyMessage(gap).error().field, "seq");
  EXPECT_TRUE(city_.provinceItems("offers")->empty());

  EXPECT_EQ(*city_.applyMessage(good), "applied");
  EXPECT_EQ(*city_.applyMessage(good), "duplicate");
  auto other_content =
      provinceMessage("p-1b", kOffersStream, 1, kMerchantOffers, body, province_key_);
  EXPECT_EQ(city_.applyMessage(other_content).error().code, ErrorCode::kConflict);
  EXPECT_EQ(*city_.applyMessage(gap), "applied");
  ASSERT_EQ(city_.provinceItems("offers")->size(), 1u);
  EXPECT_EQ((*city_.provinceItems("offers"))[0]["title_zh"], "地铁券");

  // A removal in order takes the item away.
  json removal = {{"full", false}, {"items", json::array()}, {"removed", {"offer:1"}}};
  EXPECT_EQ(*city_.applyMessage(
                provinceMessage("p-3", kOffersStream, 3, kMerchantOffers, removal, province_key_)),
            "applied");
  EXPECT_TRUE(city_.provinceItems("offers")->empty());
}

TEST_F(LinkExchangeTest, TheProvinceRefusesMalformedSubmissionsAndTamperedOnes) {
  auto toml = cityVersion(5, "440300");
  auto message = [&](const std::string& id, json body) {
    Envelope e{platform_.id,           id,
               kMethodologiesStream,   1,
               kMethodologySubmission, formatIso8601(clock_.now()),
               std::move(body)};
    return signMessage(envelopeToJson(e), city_key_);
  };
  json body = {{"methodology_id", "travel.metro"},
               {"version", 5},
               {"definition_toml", toml},
               {"definition_sha256", sha256Hex(toml + " ")}};
  EXPECT_EQ(hub_.receive(message("m-1", body)).error().field, "body.definition_sha256");
  body["definition_sha256"] = sha256Hex(toml);
  auto tampered = message("m-1", body);
  tampered["body"]["definition_toml"] = toml + "\n# changed";
  tampered["body"]["definition_sha256"] = sha256Hex(toml + "\n# changed");
  EXPECT_EQ(hub_.receive(tampered).error().code, ErrorCode::kUnauthenticated);
  auto wrong_stream = message("m-1", body);
  wrong_stream["stream"] = kAggregatesStream;
  EXPECT_EQ(hub_.receive(signMessage(wrong_stream, city_key_)).error().field, "kind");
  EXPECT_TRUE(hub_.submissions(province_admin_, platform_.id)->empty());

  auto receipt = hub_.receive(message("m-1", body));
  ASSERT_TRUE(receipt.ok()) << receipt.error().message;
  EXPECT_TRUE(verifyMessage(*receipt, province_key_.public_key_hex));
  EXPECT_EQ((*receipt)["outcome"]["outcome"], "submitted");
  auto again = hub_.receive(message("m-1", body));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["status"], "duplicate");
  EXPECT_EQ((*again)["outcome"], (*receipt)["outcome"]);
  EXPECT_EQ(hub_.submissions(province_admin_, platform_.id)->size(), 1u);
}

TEST_F(LinkExchangeTest, TheSchemaDescribesEveryMessageKind) {
  auto schema = protocolSchema();
  for (const char* kind :
       {kDailyAggregates, kMethodologySubmission, kCertificationBatch, kSpotCheckAnswer, kReconcile,
        kPull, kMethodologyCatalogue, kMerchantOffers, kRegistryStatus, kSpotCheckRequest,
        "receipt", "reconciliation", "feed", "whoami", "whoami_reply"}) {
    EXPECT_TRUE(schema["messages"].contains(kind)) << kind;
  }
  EXPECT_EQ(schema["messages"][kSpotCheckRequest]["properties"]["kind"]["const"],
            kSpotCheckRequest);
}

}  // namespace
}  // namespace tph::link
