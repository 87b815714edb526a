#include "registry/serial.h"

#include <charconv>
#include <vector>

#include "core/region_code.h"

namespace tph::registry {

namespace {

std::string padded(std::int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

std::optional<std::int64_t> positive(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 1) return std::nullopt;
  return value;
}

}  // namespace

std::string formatSerial(const SerialRange& r) {
  return std::string(kSerialPrefix) + r.region + "-" + r.methodology + "-" +
         std::to_string(r.vintage_year) + "-" + padded(r.batch_no, 6) + "-" + padded(r.first, 8) +
         "-" + padded(r.last, 8);
}

bool isSerialSafeMethodology(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<SerialRange> parseSerial(std::string_view text) {
  std::string_view prefix = kSerialPrefix;
  if (text.size() > 200 || text.substr(0, prefix.size()) != prefix) return std::nullopt;
  text.remove_prefix(prefix.size());
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '-') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  // region, methodology, year, batch, first[, last]
  if (parts.size() != 5 && parts.size() != 6) return std::nullopt;
  SerialRange r;
  r.region = std::string(parts[0]);
  if (!isRegionCode(r.region)) return std::nullopt;
  r.methodology = std::string(parts[1]);
  if (!isSerialSafeMethodology(r.methodology)) return std::nullopt;
  auto year = positive(parts[2]);
  auto batch = positive(parts[3]);
  auto first = positive(parts[4]);
  auto last = parts.size() == 6 ? positive(parts[5]) : first;
  if (!year || parts[2].size() != 4 || !batch || !first || !last || *last < *first) {
    return std::nullopt;
  }
  r.vintage_year = static_cast<int>(*year);
  r.batch_no = *batch;
  r.first = *first;
  r.last = *last;
  return r;
}

}  // namespace tph::registry
