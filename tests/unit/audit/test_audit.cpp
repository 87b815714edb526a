#include <gtest/gtest.h>

#include "audit/audit_heads.h"
#include "audit/audit_log.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::audit {
namespace {

using testing::TestDatabase;

class AuditChainTest : public ::testing::Test {
 protected:
  AuditChainTest() : clock_(testing::testEpoch()) {}

  void append(int n) {
    for (int i = 0; i < n; ++i) {
      auto r = t_.db().transaction([&](soci::session& sql) -> Result<AuditEvent> {
        clock_.advance(std::chrono::seconds(1));
        return appendAuditEvent(sql, clock_,
                                {"user:1", "test.step", "thing:" + std::to_string(i), {{"i", i}}});
      });
      ASSERT_TRUE(r.ok());
    }
  }
  VerifyReport verify() {
    return t_.db().read([](soci::session& sql) { return verifyAuditChain(sql); });
  }

  TestDatabase t_;
  ManualClock clock_;
};

TEST_F(AuditChainTest, AnIntactChainVerifies) {
  append(5);
  auto report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 5);
}

TEST_F(AuditChainTest, EventsLinkAndHashAsDocumented) {
  append(2);
  t_.db().read([&](soci::session& sql) {
    std::string prev, hash, payload;
    long long at_ms = 0;
    sql << "SELECT prev_hash, hash, payload, at_ms FROM audit_events WHERE id = 2",
        soci::into(prev), soci::into(hash), soci::into(payload), soci::into(at_ms);
    std::string first_hash;
    sql << "SELECT hash FROM audit_events WHERE id = 1", soci::into(first_hash);
    EXPECT_EQ(prev, first_hash);
    EXPECT_EQ(payload, R"({"i":1})");
    EXPECT_EQ(hash, chainHash(prev, 2, fromEpochMs(at_ms), "user:1", "test.step", "thing:1",
                              nlohmann::json{{"i", 1}}));
    return 0;
  });
}

TEST_F(AuditChainTest, AnEditedPayloadIsCaught) {
  append(4);
  t_.exec(R"(UPDATE audit_events SET payload = '{"i":99}' WHERE id = 3)");
  auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_id, 3);
  EXPECT_NE(report.problem.find("hash"), std::string::npos);
}

TEST_F(AuditChainTest, ADeletedEventIsCaught) {
  append(4);
  t_.exec("DELETE FROM audit_events WHERE id = 2");
  auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_id, 2);
  EXPECT_NE(report.problem.find("missing"), std::string::npos);
}

TEST_F(AuditChainTest, DeletingTheLastEventIsCaughtByTheHead) {
  append(3);
  t_.exec("DELETE FROM audit_events WHERE id = 3");
  auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_id, 3);
}

TEST_F(AuditChainTest, ReorderedEventsAreCaught) {
  append(3);
  t_.exec("UPDATE audit_events SET id = 100 WHERE id = 2");
  t_.exec("UPDATE audit_events SET id = 2 WHERE id = 3");
  t_.exec("UPDATE audit_events SET id = 3 WHERE id = 100");
  auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_id, 2);
}

TEST_F(AuditChainTest, ARolledBackChangeLeavesNoEvent) {
  append(1);
  auto r = t_.db().transaction([&](soci::session& sql) -> Result<int> {
    appendAuditEvent(sql, clock_, {"user:1", "test.step", "x", {}});
    return Error::conflict("no");
  });
  EXPECT_FALSE(r.ok());
  auto report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 1);
}

// ------------------------------------------------------------ signed heads and public export

class PublicChainTest : public AuditChainTest {
 protected:
  void appendPersonal() {
    auto r = t_.db().transaction([&](soci::session& sql) -> Result<AuditEvent> {
      clock_.advance(std::chrono::seconds(1));
      return appendAuditEvent(sql, clock_,
                              {"user:2", "account.open", "carbon_account:7", {{"name", "张三"}}});
    });
    ASSERT_TRUE(r.ok());
  }
  nlohmann::json exportAll() {
    return t_.db().read([&](soci::session& sql) {
      long long last = 0;
      sql << "SELECT last_id FROM audit_head WHERE singleton = 1", soci::into(last);
      return *exportPublicChain(sql, 1, last);
    });
  }
  SigningKey key_ = SigningKey::generate();
};

TEST_F(PublicChainTest, SignedHeadsVerifyWithThePublicKeyOnly) {
  append(3);
  auto head = signTodaysHead(t_.db(), clock_, key_);
  EXPECT_EQ(head.events, 3);
  EXPECT_TRUE(verifySignature(key_.publicKeyHex(), head.message(), head.signature));
  // Once a day: signing again the same day answers the same head.
  append(1);
  EXPECT_EQ(signTodaysHead(t_.db(), clock_, key_).events, 3);
  clock_.advance(std::chrono::hours(24));
  EXPECT_EQ(signTodaysHead(t_.db(), clock_, key_).events, 4);
  auto other = SigningKey::generate();
  EXPECT_FALSE(verifySignature(other.publicKeyHex(), head.message(), head.signature));
  auto heads = t_.db().read([](soci::session& sql) { return listSignedHeads(sql, 10, 0); });
  ASSERT_EQ(heads.size(), 2U);
  EXPECT_EQ(heads.front().events, 4);
}

TEST_F(PublicChainTest, AnExportHidesPersonalPayloadsAndStillVerifies) {
  append(2);
  appendPersonal();
  append(2);
  signTodaysHead(t_.db(), clock_, key_);
  auto exported = exportAll();
  ASSERT_EQ(exported["events"].size(), 5U);
  EXPECT_FALSE(exported["events"][2].contains("payload"));
  EXPECT_EQ(exported.dump().find("张三"), std::string::npos);
  auto report = verifyExport(exported, key_.publicKeyHex());
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events_checked, 5);
  EXPECT_EQ(report.anchored_through, 5);
}

TEST_F(PublicChainTest, AlteredRemovedOrReorderedEventsAndForeignKeysFail) {
  append(4);
  signTodaysHead(t_.db(), clock_, key_);
  auto exported = exportAll();
  auto altered = exported;
  altered["events"][1]["subject"] = "thing:99";
  auto r = verifyExport(altered, key_.publicKeyHex());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_id, 2);
  auto removed = exported;
  removed["events"].erase(2);
  r = verifyExport(removed, key_.publicKeyHex());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_id, 3);
  auto reordered = exported;
  std::swap(reordered["events"][1], reordered["events"][2]);
  r = verifyExport(reordered, key_.publicKeyHex());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_id, 2);
  auto other = SigningKey::generate();
  r = verifyExport(exported, other.publicKeyHex());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("not signed by the given public key"), std::string::npos);
  // A head re-signed by another key but claiming the platform's key is refused too.
  auto forged = exported;
  SignedHead head = *SignedHead::fromJson(forged["heads"][0]);
  head.signature = other.signHex(head.message());
  forged["heads"][0] = head.toJson();
  EXPECT_FALSE(verifyExport(forged, key_.publicKeyHex()).ok);
}

}  // namespace
}  // namespace tph::audit
