#include "incentive/merchant_stats.h"

#include "core/region_code.h"
#include "store/database.h"

namespace tph::incentive {

std::int64_t approvedMerchantsBefore(store::Database& db, const std::string& region_code,
                                     Instant until) {
  std::string pattern = regionPrefix(region_code) + "%";
  return db.read([&](soci::session& sql) {
    long long n = 0, before = toEpochMs(until);
    sql << "SELECT COUNT(*) FROM merchants WHERE region_code LIKE :r AND status = 'approved' "
           "AND decided_at_ms < :t",
        soci::use(pattern), soci::use(before), soci::into(n);
    return static_cast<std::int64_t>(n);
  });
}

}  // namespace tph::incentive
