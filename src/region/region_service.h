#pragma once
// The region tree (GB/T 2260): loaded from data/regions.toml into every database, listed publicly.

#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::region {

struct Region {
  std::string code;
  std::string parent_code;  //!< "" for the province
  std::string level;        //!< "province", "city", "county"
  std::string name_zh;
  std::string name_en;
  bool operator==(const Region&) const = default;
};

struct RegionLoadReport {
  int inserted = 0;
  int updated = 0;
  int unchanged = 0;
};

//! Parses a regions file; errors name the entry and field at fault.
Result<std::vector<Region>> parseRegionsFile(const std::filesystem::path& file);

class RegionService {
 public:
  RegionService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! Inserts new regions and updates changed names, in one audited transaction. Parents come first.
  Result<RegionLoadReport> load(const std::vector<Region>& regions, const std::string& actor);
  std::vector<Region> list();

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::region
