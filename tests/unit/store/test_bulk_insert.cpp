#include <gtest/gtest.h>

#include "store/bulk_insert.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::store {
namespace {

using testing::TestDatabase;

class BulkInsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.exec(
        "CREATE TABLE bulk_t (k TEXT NOT NULL, n BIGINT NOT NULL, note TEXT, "
        "total BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (k, n))");
  }
  std::int64_t scalar(const std::string& query) {
    return t_.db().read([&](soci::session& sql) {
      long long v = 0;
      sql << query, soci::into(v);
      return static_cast<std::int64_t>(v);
    });
  }
  BulkInsert keys(const std::string& suffix = "ON CONFLICT DO NOTHING") {
    return BulkInsert("bulk_t", {{"k", ColumnType::kText}, {"n", ColumnType::kInt64}}, suffix);
  }
  TestDatabase t_;
};

TEST_F(BulkInsertTest, InsertsEveryRowWithTextIntegersAndNulls) {
  auto done = t_.db().transaction([&](soci::session& sql) -> Result<int> {
    BulkInsert rows("bulk_t", {{"k", ColumnType::kText},
                               {"n", ColumnType::kInt64},
                               {"note", ColumnType::kText},
                               {"total", ColumnType::kInt64}});
    for (int i = 0; i < 3000; ++i) {
      rows.row()
          .add("quote \" back\\slash 碳 " + std::to_string(i % 7))
          .add(std::int64_t{i})
          .add(i % 2 ? std::optional<std::int64_t>() : std::optional<std::int64_t>(i))
          .add(std::int64_t{9'007'199'254'740'993} + i);
    }
    EXPECT_EQ(rows.size(), 3000u);
    rows.execute(sql);
    EXPECT_TRUE(rows.empty());
    return 0;
  });
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bulk_t"), 3000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bulk_t WHERE note IS NULL"), 1500);
  // Integers beyond a double's 53 bits keep every digit.
  EXPECT_EQ(scalar("SELECT total FROM bulk_t WHERE n = 1"), 9'007'199'254'740'994);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bulk_t WHERE k = 'quote \" back\\slash 碳 3'"),
            scalar("SELECT COUNT(*) FROM bulk_t WHERE n % 7 = 3"));
}

TEST_F(BulkInsertTest, ReportsWhichRowsWereNew) {
  t_.exec("INSERT INTO bulk_t (k, n) VALUES ('b', 2)");
  auto fresh = t_.db().transaction([&](soci::session& sql) -> Result<std::vector<bool>> {
    auto rows = keys();
    rows.row().add("a").add(std::int64_t{1});
    rows.row().add("b").add(std::int64_t{2});
    rows.row().add("c").add(std::int64_t{3});
    return rows.executeReportingNew(sql);
  });
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bulk_t"), 3);
}

TEST_F(BulkInsertTest, UpsertsAddToTheStoredRow) {
  t_.exec("INSERT INTO bulk_t (k, n, total) VALUES ('a', 1, 10)");
  auto done = t_.db().transaction([&](soci::session& sql) -> Result<int> {
    BulkInsert rows(
        "bulk_t",
        {{"k", ColumnType::kText}, {"n", ColumnType::kInt64}, {"total", ColumnType::kInt64}},
        "ON CONFLICT (k, n) DO UPDATE SET total = bulk_t.total + excluded.total");
    rows.row().add("a").add(std::int64_t{1}).add(std::int64_t{5});
    rows.row().add("z").add(std::int64_t{1}).add(std::int64_t{7});
    rows.execute(sql);
    return 0;
  });
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(scalar("SELECT total FROM bulk_t WHERE k = 'a'"), 15);
  EXPECT_EQ(scalar("SELECT total FROM bulk_t WHERE k = 'z'"), 7);
}

TEST_F(BulkInsertTest, AConstraintViolationThrowsAndTheTransactionKeepsNothing) {
  EXPECT_THROW(t_.db().transaction([&](soci::session& sql) -> Result<int> {
    auto rows = keys("");
    rows.row().add("a").add(std::int64_t{1});
    rows.row().add("a").add(std::int64_t{1});
    rows.execute(sql);
    return 0;
  }),
               std::exception);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bulk_t"), 0);
}

TEST_F(BulkInsertTest, AnIncompleteRowIsABug) {
  auto rows = keys();
  rows.row().add("a");
  EXPECT_THROW(rows.row(), std::logic_error);
}

}  // namespace
}  // namespace tph::store
