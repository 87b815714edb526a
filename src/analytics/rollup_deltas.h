#pragma once
// What one crediting transaction changed in the reductions, summed per account and cell as they
// are added, and written to the analytics rollups by apply() inside the same transaction, so the
// rollups never drift from the detail (`tanpuhui analytics check` proves it).

#include <compare>
#include <cstdint>
#include <map>
#include <string>

namespace soci {
class session;
}

namespace tph::analytics {

//! One account's share of a rollup cell.
struct AccountCell {
  std::string day;
  std::string region_code;
  std::string domain;
  std::string methodology_id;
  std::int64_t account_id = 0;
  auto operator<=>(const AccountCell&) const = default;
};

struct CellSums {
  std::int64_t records = 0;
  std::int64_t grams = 0;
  std::int64_t points = 0;
};

//! For benchmarks only: whether RollupDeltas::apply writes the rollups (on unless turned off).
//! Off, the rollups drift from the detail and `tanpuhui analytics check` says where;
//! `tanpuhui ingest --without-rollups` turns it off to measure what keeping them costs ingest.
void setRollupMaintenance(bool on);
bool rollupMaintenance();

//! Moves an enterprise's industry rollup cells (stats_industry_daily and _monthly) from the
//! industry it had to the one it now has ('' and '' for none), inside the caller's transaction
//! that changes the account's industry, so the rollups keep following the detail.
void moveIndustryCells(soci::session& sql, std::int64_t account_id, const std::string& from_section,
                       const std::string& from_division, const std::string& to_section,
                       const std::string& to_division);

//! Not shared between threads: one per crediting transaction.
class RollupDeltas {
 public:
  //! A reduction stored (records = 1) or recomputed (records = 0, grams and points the change).
  void add(const std::string& day, const std::string& region_code, const std::string& domain,
           const std::string& methodology_id, std::int64_t account_id, std::int64_t records,
           std::int64_t grams, std::int64_t points);
  bool empty() const { return cells_.empty(); }
  //! Adds the changes to the rollups (cells, participation, enterprise cells), then forgets them.
  void apply(soci::session& sql);

 private:
  std::map<AccountCell, CellSums> cells_;
  std::map<std::int64_t, std::string> first_day_;  //!< per account, its earliest day here
};

}  // namespace tph::analytics
