#include "analytics/rollup_deltas.h"

#include <atomic>

#include "analytics/analytics_store.h"

namespace tph::analytics {

namespace {
std::atomic<bool> maintain_rollups{true};
}

void setRollupMaintenance(bool on) {
  maintain_rollups = on;
}
bool rollupMaintenance() {
  return maintain_rollups;
}

void RollupDeltas::add(const std::string& day, const std::string& region_code,
                       const std::string& domain, const std::string& methodology_id,
                       std::int64_t account_id, std::int64_t records, std::int64_t grams,
                       std::int64_t points) {
  auto& sums = cells_[{day, region_code, domain, methodology_id, account_id}];
  sums.records += records;
  sums.grams += grams;
  sums.points += points;
  auto [it, inserted] = first_day_.try_emplace(account_id, day);
  if (!inserted && day < it->second) it->second = day;
}

void RollupDeltas::apply(soci::session& sql) {
  if (!cells_.empty() && rollupMaintenance()) detail::applyRollups(sql, cells_, first_day_);
  cells_.clear();
  first_day_.clear();
}

void moveIndustryCells(soci::session& sql, std::int64_t account_id, const std::string& from_section,
                       const std::string& from_division, const std::string& to_section,
                       const std::string& to_division) {
  detail::moveIndustryCells(sql, account_id, from_section, from_division, to_section, to_division);
}

}  // namespace tph::analytics
