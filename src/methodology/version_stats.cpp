#include "methodology/version_stats.h"

#include "core/region_code.h"
#include "store/database.h"

namespace tph::methodology {

std::int64_t versionsWithEvent(store::Database& db, const std::string& region_code,
                               const std::string& kind, std::int64_t from_ms,
                               std::int64_t until_ms) {
  std::string pattern = regionPrefix(region_code) + "%";
  return db.read([&](soci::session& sql) {
    long long n = 0, from = from_ms, until = until_ms;
    sql << kVersionsWithEventSql, soci::use(pattern), soci::use(kind), soci::use(from),
        soci::use(until), soci::into(n);
    return static_cast<std::int64_t>(n);
  });
}

}  // namespace tph::methodology
