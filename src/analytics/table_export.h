#pragma once
// Stats tables rendered for download: CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs
// read the Chinese names) and XLSX (libxlsxwriter).

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"

namespace tph::analytics {

//! A cell: text, a whole number, or empty (a suppressed figure).
using TableCell = std::variant<std::string, std::int64_t, std::monostate>;

struct Table {
  std::string title;  //!< the sheet's name
  std::vector<std::string> columns;
  std::vector<std::vector<TableCell>> rows;
  std::vector<std::string> notes;  //!< printed under the rows (licence, suppression rule)
};

std::string toCsv(const Table& table);
//! The workbook's bytes; an error when the temporary file cannot be written.
Result<std::string> toXlsx(const Table& table);

}  // namespace tph::analytics
