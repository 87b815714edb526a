// The province–city link with two databases: a city node credits reductions in its own database
// and sends daily aggregates through its outbox to the province's hub; the province goes down in
// the middle of the sync and comes back; afterwards both sides agree exactly and reconciliation
// names no day. Signatures, idempotence, order and region checks are tested on the hub.

#include <gtest/gtest.h>

#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "link/link_hub.h"
#include "link/link_outbox.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::link {
namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

//! Calls the hub directly; while `down` it fails as an unreachable server would.
class DirectTransport : public LinkTransport {
 public:
  explicit DirectTransport(LinkHub& hub) : hub_(hub) {}
  Result<json> post(const std::string& path, const json& body) override {
    ++calls;
    if (down || (fail_after >= 0 && calls > fail_after)) {
      return Error{ErrorCode::kUnavailable, "", "connection refused"};
    }
    if (path == "/api/link/v1/messages") return hub_.receive(body);
    if (path == "/api/link/v1/reconcile") return hub_.reconcile(body);
    return Error::notFound(path);
  }
  bool down = false;
  int fail_after = -1;  //!< the province dies after this many calls
  int calls = 0;

 private:
  LinkHub& hub_;
};

class LinkTest : public ::testing::Test {
 protected:
  LinkTest()
      : clock_(*parseIso8601("2026-03-08T02:00:00Z")),
        province_key_(generateKeyPair()),
        city_key_(generateKeyPair()),
        hub_(province_db_.db(), clock_, province_key_),
        city_methodologies_(city_db_.db(), clock_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    for (auto* db : {&province_db_, &city_db_}) {
      EXPECT_TRUE(region::RegionService(db->db(), clock_).load(*regions, "test").ok());
    }
    EXPECT_TRUE(city_methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(province_db_.db(), clock_, options);
    auto u = auth.createUserAsSystem(
        "test", {"gd_admin", "green-travel-42", "gd", {{Role::kProvinceAdmin, "440000"}}}, false);
    province_admin_ = Principal{u->id, u->username, u->display_name, u->grants, {}};
    auto p =
        hub_.registerPlatform(province_admin_, "深圳碳普惠", "440300", city_key_.public_key_hex);
    EXPECT_TRUE(p.ok()) << p.error().message;
    platform_ = *p;
    seed_ =
        std::make_unique<testing::CreditedReductions>(city_db_.db(), clock_, city_methodologies_);
    outbox_ = std::make_unique<LinkOutbox>(
        city_db_.db(), clock_,
        CityNodeConfig{platform_.id, "440300", city_key_, province_key_.public_key_hex});
  }

  //! A generated week in Shenzhen: several districts, two methodologies, some days empty.
  void creditWeek() {
    auto& seed = *seed_;
    for (int d = 1; d <= 7; ++d) {
      std::string day = "2026-03-0" + std::to_string(d);
      if (d == 4) continue;
      for (int i = 0; i < d; ++i) {
        seed.trees(i % 2 ? "440305" : "440304", day, 10 + i, 1);
        if (i % 3 == 0) seed.saving("440306", day, 1000 + 10 * i, 900);
      }
    }
  }

  json signedAggregates(const std::string& id, std::int64_t seq, const std::string& day,
                        const std::vector<ingest::DailyReductionAggregate>& rows,
                        const LinkKeyPair& key) {
    json list = json::array();
    for (const auto& r : rows) list.push_back(aggregateToJson(r));
    Envelope e{platform_.id,
               id,
               kAggregatesStream,
               seq,
               kDailyAggregates,
               "2026-03-08T10:00:00+08:00",
               {{"day", day}, {"rows", list}, {"day_digest", dayDigest(rows)}}};
    return signMessage(envelopeToJson(e), key);
  }

  static ingest::DailyReductionAggregate row(const std::string& region, std::int64_t grams) {
    return {"2026-03-01",        region, "sink.tree_planting", 1, 1, 1, Grams(grams),
            std::string(64, 'a')};
  }

  testing::TestDatabase province_db_, city_db_;
  ManualClock clock_;
  LinkKeyPair province_key_, city_key_;
  LinkHub hub_;
  methodology::MethodologyService city_methodologies_;
  Principal province_admin_;
  LinkedPlatform platform_;
  std::unique_ptr<testing::CreditedReductions> seed_;
  std::unique_ptr<LinkOutbox> outbox_;
};

TEST_F(LinkTest, TheProvinceGoesDownMidSyncAndBothSidesAgreeAfterwards) {
  creditWeek();
  for (int d = 1; d <= 7; ++d)
    ASSERT_TRUE(outbox_->enqueueDay("2026-03-0" + std::to_string(d)).ok());
  DirectTransport transport(hub_);
  transport.fail_after = 3;  // three days arrive, then the province dies
  auto first = outbox_->drain(transport);
  EXPECT_EQ(first.sent, 3) << first.last_error;
  EXPECT_EQ(first.failed, 1);
  EXPECT_EQ(first.pending, 4);
  // Still down, and the back-off holds the retry until its time.
  auto early = outbox_->drain(transport);
  EXPECT_EQ(early.sent + early.failed, 0);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(outbox_->drain(transport).failed, 1);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(outbox_->drain(transport).sent, 0);  // second retry waits 2 s
  // The province comes back.
  transport.fail_after = -1;
  clock_.advance(std::chrono::seconds(2));
  auto rest = outbox_->drain(transport);
  EXPECT_EQ(rest.sent, 4);
  EXPECT_EQ(rest.pending, 0);

  ingest::ReductionStats city(city_db_.db());
  for (int d = 1; d <= 7; ++d) {
    std::string day = "2026-03-0" + std::to_string(d);
    EXPECT_EQ(hub_.aggregates(platform_.id, day), city.daily("440300", day)) << day;
  }
  auto diff = outbox_->reconcile(transport, "2026-03-01", "2026-03-07");
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  EXPECT_TRUE(diff->empty());
}

TEST_F(LinkTest, ReconciliationNamesTheDayThatDiffers) {
  creditWeek();
  DirectTransport transport(hub_);
  ASSERT_TRUE(outbox_->enqueueDay("2026-03-02").ok());
  ASSERT_EQ(outbox_->drain(transport).sent, 1);
  // A late record on the 2nd, and the 3rd never sent.
  seed_->trees("440305", "2026-03-02", 1, 1);
  auto diff = outbox_->reconcile(transport, "2026-03-02", "2026-03-03");
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  ASSERT_EQ(diff->size(), 2u);
  EXPECT_EQ((*diff)[0].day, "2026-03-02");
  ASSERT_TRUE((*diff)[0].province);
  EXPECT_EQ((*diff)[0].city.records, (*diff)[0].province->records + 1);
  EXPECT_EQ((*diff)[1].day, "2026-03-03");
  EXPECT_FALSE((*diff)[1].province);
  // Resending the day settles it: the later report of a day replaces the earlier.
  ASSERT_TRUE(outbox_->enqueueDay("2026-03-02").ok());
  ASSERT_TRUE(outbox_->enqueueDay("2026-03-03").ok());
  EXPECT_EQ(outbox_->drain(transport).sent, 2);
  EXPECT_TRUE(outbox_->reconcile(transport, "2026-03-02", "2026-03-03")->empty());
}

TEST_F(LinkTest, MessagesAreIdempotentAndInOrder) {
  auto m1 = signedAggregates("m-1", 1, "2026-03-01", {row("440305", 100)}, city_key_);
  auto r1 = hub_.receive(m1);
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ((*r1)["status"], "accepted");
  EXPECT_TRUE(verifyMessage(*r1, province_key_.public_key_hex));
  auto again = hub_.receive(m1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["status"], "duplicate");
  EXPECT_EQ(hub_.aggregates(platform_.id, "2026-03-01").size(), 1u);
  // Same id, other content: refused.
  auto changed = signedAggregates("m-1", 1, "2026-03-01", {row("440305", 101)}, city_key_);
  EXPECT_EQ(hub_.receive(changed).error().code, ErrorCode::kConflict);
  // A gap in the stream: refused, naming the seq expected.
  auto gap = hub_.receive(signedAggregates("m-3", 3, "2026-03-03", {}, city_key_));
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().field, "seq");
  EXPECT_NE(gap.error().message.find("expects seq 2"), std::string::npos);
}

TEST_F(LinkTest, TamperedUnsignedAndForeignMessagesAreRefused) {
  auto m = signedAggregates("m-1", 1, "2026-03-01", {row("440305", 100)}, city_key_);
  auto tampered = m;
  tampered["body"]["rows"][0]["grams"] = 1'000'000;
  tampered["body"]["day_digest"] = dayDigest({row("440305", 1'000'000)});
  EXPECT_EQ(hub_.receive(tampered).error().code, ErrorCode::kUnauthenticated);
  auto unsigned_message = m;
  unsigned_message.erase("signature");
  EXPECT_EQ(hub_.receive(unsigned_message).error().code, ErrorCode::kUnauthenticated);
  auto stranger = signedAggregates("m-1", 1, "2026-03-01", {row("440305", 100)}, generateKeyPair());
  EXPECT_EQ(hub_.receive(stranger).error().code, ErrorCode::kUnauthenticated);
  // Signed by Shenzhen, but about Guangzhou.
  auto outside = signedAggregates("m-1", 1, "2026-03-01", {row("440106", 100)}, city_key_);
  EXPECT_EQ(hub_.receive(outside).error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(hub_.aggregates(platform_.id, "2026-03-01").empty());
  // A receipt signed by someone else than the province is not taken as delivery.
  LinkKeyPair impostor = generateKeyPair();
  LinkHub fake(province_db_.db(), clock_, impostor);
  DirectTransport transport(fake);
  ASSERT_TRUE(outbox_->enqueueDay("2026-03-01").ok());
  auto report = outbox_->drain(transport);
  EXPECT_EQ(report.sent, 0);
  EXPECT_EQ(report.pending, 1);
}

TEST_F(LinkTest, OnlyTheProvinceRegistersPlatforms) {
  Principal city_admin{99, "sz", "sz", {{Role::kRegionAdmin, "440300"}}, {}};
  EXPECT_EQ(hub_.registerPlatform(city_admin, "x", "440300", generateKeyPair().public_key_hex)
                .error()
                .code,
            ErrorCode::kForbidden);
  EXPECT_EQ(hub_.registerPlatform(province_admin_, "x", "440300", "abcd").error().field,
            "public_key");
  EXPECT_EQ(
      hub_.registerPlatform(province_admin_, "x", "440300", city_key_.public_key_hex).error().code,
      ErrorCode::kConflict);
}

}  // namespace
}  // namespace tph::link
