// The merchant's settlement statement as XLSX. libxlsxwriter 1.1 in Debian 12 writes only to a
// file, so the workbook goes to a private temporary file that is read back and removed.

#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "incentive/merchant_service.h"

namespace tph::incentive {

namespace {

void writeLine(lxw_worksheet* sheet, lxw_row_t row, const SettlementLine& line, lxw_format* fmt) {
  if (line.offer_id) worksheet_write_number(sheet, row, 0, static_cast<double>(line.offer_id), fmt);
  worksheet_write_string(sheet, row, 1, line.title_zh.c_str(), fmt);
  const double values[] = {
      static_cast<double>(line.issued),
      static_cast<double>(line.used),
      static_cast<double>(line.expired),
      static_cast<double>(line.cancelled),
      static_cast<double>(line.points_received.value()),
      static_cast<double>(line.points_refunded.value()),
      static_cast<double>((line.points_received - line.points_refunded).value())};
  for (lxw_col_t c = 0; c < 7; ++c) worksheet_write_number(sheet, row, c + 2, values[c], fmt);
}

}  // namespace

Result<std::string> settlementXlsx(const SettlementStatement& s) {
  char path[] = "/tmp/tph-settlement-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return Error{ErrorCode::kInternal, {}, "cannot create a temporary file"};
  close(fd);
  lxw_workbook* book = workbook_new(path);
  if (!book) {
    std::remove(path);
    return Error{ErrorCode::kInternal, {}, "cannot start the workbook"};
  }
  lxw_worksheet* sheet = workbook_add_worksheet(book, "结算 Settlement");
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  worksheet_set_column(sheet, 0, 0, 10, nullptr);
  worksheet_set_column(sheet, 1, 1, 36, nullptr);
  worksheet_set_column(sheet, 2, 8, 14, nullptr);
  worksheet_write_string(sheet, 0, 0, "商户结算单 Merchant settlement statement", bold);
  worksheet_write_string(sheet, 1, 0, "商户 Merchant", bold);
  worksheet_write_string(sheet, 1, 1, s.merchant.application.name.c_str(), nullptr);
  worksheet_write_string(sheet, 2, 0, "执照 Licence", bold);
  worksheet_write_string(sheet, 2, 1, s.merchant.application.licence_no.c_str(), nullptr);
  worksheet_write_string(sheet, 3, 0, "月份 Month", bold);
  worksheet_write_string(sheet, 3, 1, s.month.c_str(), nullptr);
  worksheet_write_string(sheet, 4, 0, "生成 Generated", bold);
  worksheet_write_string(sheet, 4, 1, formatIso8601(s.generated_at).c_str(), nullptr);
  const char* headers[] = {"优惠 Offer",
                           "标题 Title",
                           "发放 Issued",
                           "核销 Used",
                           "过期 Expired",
                           "取消 Cancelled",
                           "收入积分 Points received",
                           "退回积分 Points refunded",
                           "净额 Net points"};
  for (lxw_col_t c = 0; c < 9; ++c) worksheet_write_string(sheet, 6, c, headers[c], bold);
  lxw_row_t row = 7;
  for (const auto& line : s.lines) writeLine(sheet, row++, line, nullptr);
  writeLine(sheet, row, s.total, bold);
  lxw_error error = workbook_close(book);
  if (error != LXW_NO_ERROR) {
    std::remove(path);
    return Error{ErrorCode::kInternal, {}, std::string("xlsx: ") + lxw_strerror(error)};
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::remove(path);
  return bytes.str();
}

}  // namespace tph::incentive
