#pragma once
// A narrow read of what linked platforms delivered, for modules that report on it (the cities'
// yearly assessment: data linkage completeness) without reading link's tables themselves.

#include <cstdint>
#include <string>

namespace tph::store {
class Database;
}

namespace tph::link {

//! The queries linkageDays() runs, so a report can cite them and an auditor rerun them. :region is
//! the region's code prefix followed by '%', :from and :until Shanghai days (inclusive).
inline constexpr const char* kLinkedPlatformsSql =
    "SELECT COUNT(*) FROM link_platforms WHERE region_code LIKE :region";
inline constexpr const char* kDeliveredDaysSql =
    "SELECT COUNT(DISTINCT a.day) FROM link_aggregates a JOIN link_platforms p ON p.id = "
    "a.platform_id WHERE p.region_code LIKE :region AND a.day >= :from AND a.day <= :until";
inline constexpr const char* kMismatchedDaysSql =
    "SELECT COUNT(DISTINCT s.day) FROM link_spot_checks s JOIN link_platforms p ON p.id = "
    "s.platform_id WHERE p.region_code LIKE :region AND s.state = 'mismatched' AND s.day >= :from "
    "AND s.day <= :until";

struct LinkageDays {
  std::int64_t platforms = 0;        //!< platforms registered for the region or below it
  std::int64_t delivered_days = 0;   //!< days for which any of them delivered aggregates
  std::int64_t mismatched_days = 0;  //!< of those, days a spot check found not to match
};

LinkageDays linkageDays(store::Database& db, const std::string& region_code,
                        const std::string& from_day, const std::string& until_day);

}  // namespace tph::link
