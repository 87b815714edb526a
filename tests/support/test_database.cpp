#include "test_database.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/crypto.h"
#include "store/migrations.h"

namespace tph::testing {

std::string TestDatabase::postgresBaseUrl() {
  const char* url = std::getenv("TPH_TEST_DATABASE_URL");
  return url ? url : "";
}

TestDatabase::TestDatabase(bool migrate) {
  std::string base = postgresBaseUrl();
  if (base.empty()) {
    sqlite_path_ =
        (std::filesystem::temp_directory_path() / ("tph_test_" + randomHex(8) + ".db")).string();
    url_ = "sqlite:" + sqlite_path_;
  } else {
    pg_schema_ = "t_" + randomHex(8);
    auto admin = store::Database::open(base, {.pool_size = 1});
    if (!admin) throw std::runtime_error("cannot reach test PostgreSQL: " + admin.error().message);
    (*admin)->read([&](soci::session& sql) {
      sql << "CREATE SCHEMA " + pg_schema_;
      return 0;
    });
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           pg_schema_;
  }
  auto opened = store::Database::open(url_, {.pool_size = 4});
  if (!opened) throw std::runtime_error("cannot open test database: " + opened.error().message);
  db_ = std::move(*opened);
  if (migrate) {
    SystemClock clock;
    auto report = store::migrate(*db_, clock);
    if (!report) throw std::runtime_error("migration failed: " + report.error().message);
  }
}

TestDatabase::~TestDatabase() {
  db_.reset();
  if (!sqlite_path_.empty()) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(sqlite_path_ + suffix, ec);
  } else if (!pg_schema_.empty()) {
    if (auto admin = store::Database::open(postgresBaseUrl(), {.pool_size = 1})) {
      (*admin)->read([&](soci::session& sql) {
        sql << "DROP SCHEMA " + pg_schema_ + " CASCADE";
        return 0;
      });
    }
  }
}

bool TestDatabase::isPostgres() const {
  return !pg_schema_.empty();
}

void TestDatabase::exec(const std::string& sql_text) {
  db_->read([&](soci::session& sql) {
    sql << sql_text;
    return 0;
  });
}

Instant testEpoch() {
  return *parseIso8601("2026-03-01T00:00:00Z");
}

}  // namespace tph::testing
