#pragma once
// Many rows into one table, inside the caller's transaction, at the speed each backend allows:
// on SQLite one prepared statement stepped per row through the C API (no SQL text or JSON per
// row); on PostgreSQL one statement per call that unpacks the rows from a JSON parameter (see
// json_rows.h), so thousands of rows cost one round trip.
//
//   BulkInsert cells("stats_cell_subjects", {{"day", kText}, {"account_id", kInt64}},
//                    "ON CONFLICT DO NOTHING");
//   cells.row().add(day).add(account);
//   std::vector<bool> fresh = cells.executeReportingNew(sql);

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/database.h"

namespace tph::store {

enum class ColumnType { kInt64, kText };

struct BulkColumn {
  std::string name;
  ColumnType type = ColumnType::kText;
};

class BulkInsert {
 public:
  //! INSERT INTO table (columns) VALUES (...) suffix — the suffix is an ON CONFLICT clause or "".
  //! An upsert's SET may name the new row as `excluded.column` on both backends.
  BulkInsert(std::string table, std::vector<BulkColumn> columns, std::string suffix = {});

  //! Starts the next row; add() its values in column order.
  BulkInsert& row();
  BulkInsert& add(std::int64_t value);
  BulkInsert& add(std::string_view value);
  BulkInsert& add(const std::optional<std::int64_t>& value);
  BulkInsert& addNull();

  std::size_t size() const { return rows_; }
  bool empty() const { return rows_ == 0; }

  //! Inserts the rows gathered so far, then forgets them. Throws on a database error (the caller's
  //! transaction rolls back).
  void execute(soci::session& sql);

  //! For a suffix of ON CONFLICT DO NOTHING over a table whose key is every column given: inserts
  //! and answers, per row in the order added, whether it was new. Rows must be distinct.
  std::vector<bool> executeReportingNew(soci::session& sql);

 private:
  using Value = std::variant<std::monostate, std::int64_t, std::string>;

  std::vector<bool> run(soci::session& sql, bool report);
  std::vector<bool> runSqlite(soci::session& sql, bool report);
  std::vector<bool> runPostgresql(soci::session& sql, bool report);

  std::string table_;
  std::vector<BulkColumn> columns_;
  std::string suffix_;
  std::vector<Value> values_;
  std::size_t rows_ = 0;
};

}  // namespace tph::store
