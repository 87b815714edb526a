#pragma once
// A narrow read of the merchant alliance for modules that report on it (pilot progress) without
// reading incentive's tables themselves.

#include <cstdint>
#include <string>

#include "core/clock.h"

namespace tph::store {
class Database;
}

namespace tph::incentive {

//! Merchants of a region and everything below it that were approved before `until` (whatever
//! happened to them afterwards, as the alliance's size on that day).
std::int64_t approvedMerchantsBefore(store::Database& db, const std::string& region_code,
                                     Instant until);

}  // namespace tph::incentive
