#pragma once
// A narrow read of what the registry issued, for modules that report on it (the cities' yearly
// assessment) without reading the registry's tables themselves.

#include <cstdint>
#include <string>

namespace tph::store {
class Database;
}

namespace tph::registry {

//! The query issuedUnitsIn() runs, so a report can cite it and an auditor rerun it. :region is
//! the region's code prefix followed by '%', :from and :until epoch milliseconds (until exclusive).
inline constexpr const char* kIssuedUnitsSql =
    "SELECT COUNT(*), SUM(units) FROM registry_issuances WHERE region_code LIKE :region "
    "AND issued_at_ms >= :from AND issued_at_ms < :until";

struct IssuedUnits {
  std::int64_t batches = 0;
  std::int64_t units = 0;  //!< PHCER, buffer units included
};

//! Units issued for the batches of a region and everything below it in [from_ms, until_ms).
IssuedUnits issuedUnitsIn(store::Database& db, const std::string& region_code, std::int64_t from_ms,
                          std::int64_t until_ms);

}  // namespace tph::registry
