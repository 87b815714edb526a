#pragma once
// What one crediting transaction changed in the reductions, gathered per reduction and written to
// the analytics rollups by apply() in a few set-based statements, inside the same transaction, so
// the rollups never drift from the detail (`tanpuhui analytics check` proves it).

#include <cstdint>
#include <map>
#include <string>

#include "store/json_rows.h"

namespace soci {
class session;
}

namespace tph::analytics {

//! Not shared between threads: one per crediting transaction.
class RollupDeltas {
 public:
  //! A reduction stored (records = 1) or recomputed (records = 0, grams and points the change).
  void add(const std::string& day, const std::string& region_code, const std::string& domain,
           const std::string& methodology_id, std::int64_t account_id, std::int64_t records,
           std::int64_t grams, std::int64_t points);
  bool empty() const { return rows_.empty(); }
  //! Adds the changes to the rollups (cells, participation, enterprise cells), then forgets them.
  void apply(soci::session& sql);

 private:
  store::JsonRows rows_;
  std::map<std::int64_t, std::string> first_day_;  //!< per account, its earliest day here
};

}  // namespace tph::analytics
