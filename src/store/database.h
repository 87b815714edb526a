#pragma once
// Database: a pool of SOCI sessions over SQLite (embedded, the default) or PostgreSQL (for scale),
// and the one way to open a transaction. Every use case runs in one transaction(fn): committed
// when fn returns a successful Result, rolled back when it returns an error or throws.

#include <soci/soci.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/result.h"

namespace tph::store {

enum class Backend { kSqlite, kPostgresql };

struct DatabaseOptions {
  std::size_t pool_size = 8;
  int busy_timeout_ms = 10'000;  //!< SQLite: how long a writer waits for the lock
};

//! What the pool is doing, for /metrics.
struct PoolStats {
  std::size_t size = 0;
  std::size_t in_use = 0;
  std::uint64_t leases_total = 0;
};

//! Shared between threads: each transaction leases its own session from the pool.
class Database {
 public:
  //! Opens "sqlite:PATH" or "postgresql://..." (also "postgres://..."). The SQLite file is put in
  //! WAL mode with foreign keys on and a busy timeout.
  static Result<std::unique_ptr<Database>> open(const std::string& url,
                                                DatabaseOptions options = {});
  ~Database();

  Backend backend() const { return backend_; }
  const std::string& url() const { return url_; }
  PoolStats stats() const;

  //! Runs fn(soci::session&) inside one transaction. fn returns Result<T>; an error result rolls
  //! back and is returned, an exception rolls back and propagates. SQLite takes the write lock up
  //! front (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read lock.
  template <class Fn>
  auto transaction(Fn&& fn) -> std::invoke_result_t<Fn, soci::session&> {
    Lease lease(*this);
    begin(lease.session());
    try {
      auto result = std::forward<Fn>(fn)(lease.session());
      if (result.ok()) {
        commit(lease.session());
      } else {
        rollback(lease.session());
      }
      return result;
    } catch (...) {
      rollback(lease.session());
      throw;
    }
  }

  //! Runs fn(soci::session&) outside an explicit transaction, for reads that need one snapshot
  //! only per statement.
  template <class Fn>
  auto read(Fn&& fn) -> std::invoke_result_t<Fn, soci::session&> {
    Lease lease(*this);
    return std::forward<Fn>(fn)(lease.session());
  }

  //! Holds one pooled session for its lifetime.
  class Lease {
   public:
    explicit Lease(Database& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session() { return *session_; }

   private:
    Database& db_;
    std::unique_ptr<soci::session> session_;
  };

 private:
  Database(Backend backend, std::string url, std::size_t pool_size);
  void begin(soci::session& sql);
  void commit(soci::session& sql);
  void rollback(soci::session& sql) noexcept;

  Backend backend_;
  std::string url_;
  soci::connection_pool pool_;
  std::size_t pool_size_;
  std::atomic<std::size_t> in_use_{0};
  std::atomic<std::uint64_t> leases_total_{0};
};

//! Parses a database URL into its backend and SOCI connection string, or an error naming "db".
struct ConnectionTarget {
  Backend backend;
  std::string connect_string;
  std::string sqlite_path;  //!< the file, for SQLite
  //! SQLite's synchronous setting: NORMAL (the default) keeps every commit through a crash of the
  //! process; FULL (sqlite:PATH?synchronous=full) also through a power loss, one fsync a commit.
  std::string sqlite_synchronous = "NORMAL";
};
Result<ConnectionTarget> parseDatabaseUrl(const std::string& url);

//! The backend a session of the pool talks to, for the few statements that differ.
Backend backendOf(soci::session& sql);

//! An integer column of a dynamic row, whichever integer type the backend reports for it
//! (SQLite's INTEGER PRIMARY KEY is a 32-bit type to SOCI, PostgreSQL's BIGINT a 64-bit one).
std::int64_t rowInt64(const soci::row& row, std::size_t column);
//! A floating-point column of a dynamic row; integers are converted.
double rowDouble(const soci::row& row, std::size_t column);
//! A nullable integer column of a dynamic row.
std::optional<std::int64_t> rowOptionalInt64(const soci::row& row, std::size_t column);
//! A text column of a dynamic row; NULL reads as "".
std::string rowText(const soci::row& row, std::size_t column);

//! True when the exception is a uniqueness violation on either backend.
bool isUniqueViolation(const std::exception& e);

}  // namespace tph::store
