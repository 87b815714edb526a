#pragma once
// Rows for a set-based statement. Writing thousands of rows one INSERT at a time costs a statement
// execution each on SQLite and a network round trip each on PostgreSQL; JsonRows gathers them as
// one JSON array of arrays, bound as a single text parameter and unpacked by the database:
//
//   INSERT INTO t (a, b) SELECT CAST(value ->> 0 AS BIGINT), value ->> 1 FROM <jsonRowsSource>
//
// `value ->> N` reads column N on both backends (SQLite 3.38+, PostgreSQL's json operators);
// a null stays SQL NULL.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.h"

namespace tph::store {

class JsonRows {
 public:
  //! Starts the next row.
  JsonRows& row();
  JsonRows& add(std::int64_t value);
  JsonRows& add(std::string_view value);
  JsonRows& add(const std::optional<std::int64_t>& value);
  JsonRows& addNull();

  std::size_t size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  //! The JSON text of the rows so far (an empty array when there are none).
  std::string text() const;
  void clear();

 private:
  void separate();
  std::string text_;
  std::size_t rows_ = 0;
  bool first_in_row_ = true;
};

//! The FROM item that yields one `value` per row of the JSON bound as :name.
std::string jsonRowsSource(soci::session& sql, const std::string& name = "rows");

//! Appends s to out as a JSON string literal.
void appendJsonString(std::string& out, std::string_view s);

}  // namespace tph::store
