#pragma once
// A narrow read of methodology review events, for modules that report on them (the cities' yearly
// assessment: methodologies submitted and approved) without reading methodology's tables.

#include <cstdint>
#include <string>

namespace tph::store {
class Database;
}

namespace tph::methodology {

//! The query versionsWithEvent() runs, so a report can cite it and an auditor rerun it. :region is
//! the region's code prefix followed by '%' (versions whose scope lies in the region), :kind a
//! review step ("submit", "approve"), :from and :until epoch milliseconds (until exclusive).
inline constexpr const char* kVersionsWithEventSql =
    "SELECT COUNT(DISTINCT v.id) FROM methodology_versions v JOIN methodology_comments c ON "
    "c.version_id = v.id WHERE v.scope LIKE :region AND c.kind = :kind AND c.at_ms >= :from AND "
    "c.at_ms < :until";

//! Versions scoped to a region or below it that took review step `kind` in [from_ms, until_ms).
std::int64_t versionsWithEvent(store::Database& db, const std::string& region_code,
                               const std::string& kind, std::int64_t from_ms,
                               std::int64_t until_ms);

}  // namespace tph::methodology
