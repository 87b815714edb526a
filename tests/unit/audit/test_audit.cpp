#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tph::audit
