#pragma once
// A fresh, migrated database for one test: a temporary SQLite file, or — when
// TPH_TEST_DATABASE_URL names a PostgreSQL server — a new schema there, dropped afterwards.

#include <memory>
#include <string>

#include "core/clock.h"
#include "store/database.h"

namespace tph::testing {

class TestDatabase {
 public:
  //! Creates and migrates; `migrate` false leaves it empty.
  explicit TestDatabase(bool migrate = true);
  ~TestDatabase();

  store::Database& db() { return *db_; }
  //! The URL this database opens with (for a server or a CLI run in the same test).
  const std::string& url() const { return url_; }
  bool isPostgres() const;
  //! Runs one statement outside any service, as an attacker or an operator with SQL access would.
  void exec(const std::string& sql);

  //! The URL of the PostgreSQL server under test, or "" when tests run on SQLite.
  static std::string postgresBaseUrl();

 private:
  std::string url_;
  std::string sqlite_path_;
  std::string pg_schema_;
  std::unique_ptr<store::Database> db_;
};

//! A fixed start instant for tests' manual clocks: 2026-03-01T00:00:00Z.
Instant testEpoch();

}  // namespace tph::testing
