#include "incentive/incentive_common.h"

#include <algorithm>
#include <cstdio>

#include "core/region_code.h"

namespace tph::incentive::detail {

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes,
                 bool required) {
  if (required && text.empty()) return Error::invalid(field, field + " is required");
  if (text.size() > max_bytes)
    return Error::invalid(field, field + " is at most " + std::to_string(max_bytes) + " bytes");
  return {};
}

Status checkRequestKey(const std::string& key) {
  if (key.empty() || key.size() > kRequestKeyMaxBytes)
    return Error::invalid("idempotency_key", "an idempotency key is 1-100 bytes");
  return {};
}

Status checkLimit(int limit, int offset) {
  if (limit < 1 || limit > 500) return Error::invalid("limit", "limit must be 1-500");
  if (offset < 0) return Error::invalid("offset", "offset must not be negative");
  return {};
}

std::string shanghaiMonth(Instant t) {
  return shanghaiDay(t).substr(0, 7);
}

Result<std::pair<Instant, Instant>> shanghaiMonthRange(const std::string& month) {
  int year = 0, mon = 0;
  char tail = 0;
  if (month.size() != 7 || std::sscanf(month.c_str(), "%4d-%2d%c", &year, &mon, &tail) != 2 ||
      month[4] != '-' || year < 2000 || year > 2999 || mon < 1 || mon > 12) {
    return Error::invalid("month", "month is YYYY-MM");
  }
  char start[40], end[40];
  std::snprintf(start, sizeof start, "%04d-%02d-01T00:00:00+08:00", year, mon);
  std::snprintf(end, sizeof end, "%04d-%02d-01T00:00:00+08:00", mon == 12 ? year + 1 : year,
                mon == 12 ? 1 : mon + 1);
  return std::pair{*parseIso8601(start), *parseIso8601(end)};
}

account::JournalEntry transferEntry(const std::string& key, const std::string& kind,
                                    const std::string& memo, account::LedgerAccountId from,
                                    account::LedgerAccountId to, Points points) {
  account::JournalEntry entry{key, kind, memo, {{from, -points}, {to, points}}};
  std::sort(entry.legs.begin(), entry.legs.end(),
            [](const account::Leg& a, const account::Leg& b) { return a.account < b.account; });
  return entry;
}

}  // namespace tph::incentive::detail
