#include "link/link_stats.h"

#include "core/region_code.h"
#include "store/database.h"

namespace tph::link {

LinkageDays linkageDays(store::Database& db, const std::string& region_code,
                        const std::string& from_day, const std::string& until_day) {
  std::string pattern = regionPrefix(region_code) + "%";
  return db.read([&](soci::session& sql) {
    long long platforms = 0, delivered = 0, mismatched = 0;
    sql << kLinkedPlatformsSql, soci::use(pattern), soci::into(platforms);
    sql << kDeliveredDaysSql, soci::use(pattern), soci::use(from_day), soci::use(until_day),
        soci::into(delivered);
    sql << kMismatchedDaysSql, soci::use(pattern), soci::use(from_day), soci::use(until_day),
        soci::into(mismatched);
    return LinkageDays{platforms, delivered, mismatched};
  });
}

}  // namespace tph::link
