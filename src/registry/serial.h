#pragma once
// PHCER serial numbers (docs/registry.md): a block of units of one issuance is
// CN-GD-PHCER-{region}-{methodology}-{vintage year}-{batch no}-{first}-{last}, and one unit is the
// block whose first and last are equal. Batch numbers are written with at least 6 digits and unit
// numbers with at least 8, so serials of one batch sort in unit order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tph::registry {

inline constexpr const char* kSerialPrefix = "CN-GD-PHCER-";

//! A contiguous range of units of one issuance, as its serial names it.
struct SerialRange {
  std::string region;
  std::string methodology;
  int vintage_year = 0;
  std::int64_t batch_no = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;

  std::int64_t units() const { return last - first + 1; }
  bool operator==(const SerialRange&) const = default;
};

//! The block serial of a range.
std::string formatSerial(const SerialRange& range);

//! Reads a block serial, or a single unit's serial ending in one unit number instead of two
//! (first = last). Methodology ids in serials never contain '-', so the fields split on it.
//! nullopt when malformed.
std::optional<SerialRange> parseSerial(std::string_view text);

//! True when a methodology id can appear in a serial: 1-64 of [a-z0-9._] (no '-').
bool isSerialSafeMethodology(std::string_view id);

}  // namespace tph::registry
