#include "store/bulk_insert.h"

#include <soci/sqlite3/soci-sqlite3.h>

#include <stdexcept>

#include "store/json_rows.h"

namespace tph::store {

// SOCI declares SQLite's C API inside this namespace.
using namespace sqlite_api;

namespace {

//! Finalizes the statement however the insert ends.
struct SqliteStatement {
  sqlite3_stmt* st = nullptr;
  ~SqliteStatement() { sqlite3_finalize(st); }
};

[[noreturn]] void fail(sqlite3* db, const std::string& table) {
  throw soci::soci_error(std::string(sqlite3_errmsg(db)) + " (bulk insert into " + table + ")");
}

}  // namespace

BulkInsert::BulkInsert(std::string table, std::vector<BulkColumn> columns, std::string suffix)
    : table_(std::move(table)), columns_(std::move(columns)), suffix_(std::move(suffix)) {}

BulkInsert& BulkInsert::row() {
  if (values_.size() != rows_ * columns_.size())
    throw std::logic_error("BulkInsert: the previous row of " + table_ + " is incomplete");
  ++rows_;
  return *this;
}

BulkInsert& BulkInsert::add(std::int64_t value) {
  values_.emplace_back(value);
  return *this;
}

BulkInsert& BulkInsert::add(std::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}

BulkInsert& BulkInsert::add(const std::optional<std::int64_t>& value) {
  return value ? add(*value) : addNull();
}

BulkInsert& BulkInsert::addNull() {
  values_.emplace_back(std::monostate{});
  return *this;
}

void BulkInsert::execute(soci::session& sql) {
  run(sql, false);
}

std::vector<bool> BulkInsert::executeReportingNew(soci::session& sql) {
  return run(sql, true);
}

std::vector<bool> BulkInsert::run(soci::session& sql, bool report) {
  if (values_.size() != rows_ * columns_.size())
    throw std::logic_error("BulkInsert: the last row of " + table_ + " is incomplete");
  std::vector<bool> fresh;
  if (rows_ > 0) {
    fresh =
        backendOf(sql) == Backend::kSqlite ? runSqlite(sql, report) : runPostgresql(sql, report);
  }
  values_.clear();
  rows_ = 0;
  return fresh;
}

std::vector<bool> BulkInsert::runSqlite(soci::session& sql, bool report) {
  sqlite3* db = static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
  std::string text = "INSERT INTO " + table_ + " (";
  std::string params;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    text += (i ? ", " : "") + columns_[i].name;
    params += i ? ", ?" : "?";
  }
  text += ") VALUES (" + params + ") " + suffix_;
  SqliteStatement statement;
  if (sqlite3_prepare_v2(db, text.c_str(), static_cast<int>(text.size()), &statement.st, nullptr) !=
      SQLITE_OK) {
    fail(db, table_);
  }
  std::vector<bool> fresh;
  if (report) fresh.reserve(rows_);
  const std::size_t width = columns_.size();
  for (std::size_t r = 0; r < rows_; ++r) {
    for (std::size_t c = 0; c < width; ++c) {
      const Value& v = values_[r * width + c];
      int index = static_cast<int>(c + 1), rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(statement.st, index, *n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // The value outlives the step: SQLite need not copy it.
        rc = sqlite3_bind_text(statement.st, index, s->data(), static_cast<int>(s->size()),
                               SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(statement.st, index);
      }
      if (rc != SQLITE_OK) fail(db, table_);
    }
    if (sqlite3_step(statement.st) != SQLITE_DONE) fail(db, table_);
    if (report) fresh.push_back(sqlite3_changes(db) > 0);
    sqlite3_reset(statement.st);
  }
  return fresh;
}

std::vector<bool> BulkInsert::runPostgresql(soci::session& sql, bool report) {
  JsonRows rows;
  const std::size_t width = columns_.size();
  for (std::size_t r = 0; r < rows_; ++r) {
    rows.row();
    for (std::size_t c = 0; c < width; ++c) {
      const Value& v = values_[r * width + c];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rows.add(*n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rows.add(std::string_view(*s));
      } else {
        rows.addNull();
      }
    }
  }
  auto field = [&](std::size_t i) {
    std::string f = "(j.value ->> " + std::to_string(i) + ")";
    return columns_[i].type == ColumnType::kInt64 ? "CAST(" + f + " AS BIGINT)" : f;
  };
  std::string names, unpacked;
  for (std::size_t i = 0; i < width; ++i) {
    names += (i ? ", " : "") + columns_[i].name;
    unpacked += (i ? ", " : "") + field(i);
  }
  std::string source = "json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS j(value, n)";
  std::string text = rows.text();
  if (!report) {
    sql << "INSERT INTO " + table_ + " (" + names + ") SELECT " + unpacked + " FROM " + source +
               " " + suffix_,
        soci::use(text, "rows");
    return {};
  }
  // The rows inserted come back by their key (every column), and are matched to their ordinals.
  std::string match;
  for (std::size_t i = 0; i < width; ++i)
    match += (i ? " AND " : "") + std::string("i.") + columns_[i].name + " = " + field(i);
  std::vector<bool> fresh(rows_, false);
  long long ordinal = 0;
  soci::statement st =
      (sql.prepare << "WITH i AS (INSERT INTO " + table_ + " (" + names + ") SELECT " + unpacked +
                          " FROM " + source + " " + suffix_ + " RETURNING " + names +
                          ") SELECT j.n FROM " + source + " JOIN i ON " + match,
       soci::use(text, "rows"), soci::into(ordinal));
  st.execute();
  while (st.fetch()) {
    if (ordinal >= 1 && static_cast<std::size_t>(ordinal) <= rows_)
      fresh[static_cast<std::size_t>(ordinal - 1)] = true;
  }
  return fresh;
}

}  // namespace tph::store
