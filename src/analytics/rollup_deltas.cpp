#include "analytics/rollup_deltas.h"

#include "analytics/analytics_store.h"

namespace tph::analytics {

void RollupDeltas::add(const std::string& day, const std::string& region_code,
                       const std::string& domain, const std::string& methodology_id,
                       std::int64_t account_id, std::int64_t records, std::int64_t grams,
                       std::int64_t points) {
  rows_.row()
      .add(day)
      .add(region_code)
      .add(domain)
      .add(methodology_id)
      .add(account_id)
      .add(records)
      .add(grams)
      .add(points);
  auto [it, inserted] = first_day_.try_emplace(account_id, day);
  if (!inserted && day < it->second) it->second = day;
}

void RollupDeltas::apply(soci::session& sql) {
  if (rows_.empty()) return;
  detail::applyRollupRows(sql, rows_.text(), first_day_);
  rows_.clear();
  first_day_.clear();
}

}  // namespace tph::analytics
