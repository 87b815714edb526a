#include "analytics/table_export.h"

#include <unistd.h>
#include <xlsxwriter.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tph::analytics {

namespace {

void appendCsvField(std::string& out, const std::string& text) {
  // A leading = + - @ would be read as a formula by spreadsheet programs.
  bool formula = !text.empty() && std::string("=+-@").find(text[0]) != std::string::npos;
  bool quote = formula || text.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  if (formula) out += '\'';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string textOf(const TableCell& cell) {
  if (auto* s = std::get_if<std::string>(&cell)) return *s;
  if (auto* n = std::get_if<std::int64_t>(&cell)) return std::to_string(*n);
  return "";
}

}  // namespace

std::string toCsv(const Table& table) {
  std::string out = "\xEF\xBB\xBF";
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i) out += ',';
    appendCsvField(out, table.columns[i]);
  }
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) out += ',';
      if (std::holds_alternative<std::int64_t>(row[i]))
        out += textOf(row[i]);
      else
        appendCsvField(out, textOf(row[i]));
    }
    out += "\r\n";
  }
  return out;
}

Result<std::string> toXlsx(const Table& table) {
  // libxlsxwriter 1.1.4 (Debian 12) writes only to files: a private temporary one.
  static std::atomic<std::uint64_t> counter{0};
  auto path = std::filesystem::temp_directory_path() / ("tph-export-" + std::to_string(::getpid()) +
                                                        "-" + std::to_string(++counter) + ".xlsx");
  lxw_workbook* workbook = workbook_new(path.c_str());
  if (!workbook) return Error{ErrorCode::kInternal, "", "cannot create the workbook"};
  std::string sheet_name = table.title.empty() ? "stats" : table.title.substr(0, 31);
  lxw_worksheet* sheet = workbook_add_worksheet(workbook, sheet_name.c_str());
  lxw_format* bold = workbook_add_format(workbook);
  format_set_bold(bold);
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    worksheet_write_string(sheet, 0, static_cast<lxw_col_t>(c), table.columns[c].c_str(), bold);
  lxw_row_t r = 1;
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      auto col = static_cast<lxw_col_t>(c);
      if (auto* n = std::get_if<std::int64_t>(&row[c]))
        worksheet_write_number(sheet, r, col, static_cast<double>(*n), nullptr);
      else if (auto* s = std::get_if<std::string>(&row[c]))
        worksheet_write_string(sheet, r, col, s->c_str(), nullptr);
    }
    ++r;
  }
  ++r;
  for (const auto& note : table.notes) worksheet_write_string(sheet, r++, 0, note.c_str(), nullptr);
  lxw_error closed = workbook_close(workbook);
  std::string bytes;
  if (closed == LXW_NO_ERROR) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    bytes = buffer.str();
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (closed != LXW_NO_ERROR || bytes.empty())
    return Error{ErrorCode::kInternal, "", "cannot write the workbook"};
  return bytes;
}

}  // namespace tph::analytics
