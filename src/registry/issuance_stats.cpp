#include "registry/issuance_stats.h"

#include "core/region_code.h"
#include "store/database.h"

namespace tph::registry {

IssuedUnits issuedUnitsIn(store::Database& db, const std::string& region_code, std::int64_t from_ms,
                          std::int64_t until_ms) {
  std::string pattern = regionPrefix(region_code) + "%";
  return db.read([&](soci::session& sql) {
    long long batches = 0, units = 0, from = from_ms, until = until_ms;
    soci::indicator units_ind = soci::i_ok;
    sql << kIssuedUnitsSql, soci::use(pattern), soci::use(from), soci::use(until),
        soci::into(batches), soci::into(units, units_ind);
    return IssuedUnits{batches, units_ind == soci::i_ok ? static_cast<std::int64_t>(units) : 0};
  });
}

}  // namespace tph::registry
