#pragma once
// The versions in force: an immutable snapshot of compiled methodology versions and the rule that
// picks the one that applies to a record (its day and its region).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "methodology/compiled_methodology.h"

namespace tph::methodology {

class Catalog {
 public:
  explicit Catalog(std::vector<std::shared_ptr<const CompiledMethodology>> versions);

  //! The version of `id` that applies on `day` (YYYY-MM-DD, Asia/Shanghai) in `region`: among
  //! active and retired versions whose window holds the day and whose scope covers the region, the
  //! most local scope wins, then the latest effective_from, then the highest version.
  const CompiledMethodology* select(std::string_view id, std::string_view day,
                                    std::string_view region) const;
  //! One exact version, whatever its window (for audit and re-quantification).
  const CompiledMethodology* find(std::string_view id, int version) const;

  const std::vector<std::shared_ptr<const CompiledMethodology>>& versions() const {
    return versions_;
  }

 private:
  std::vector<std::shared_ptr<const CompiledMethodology>> versions_;
  std::map<std::string, std::vector<const CompiledMethodology*>, std::less<>> by_id_;
};

}  // namespace tph::methodology
