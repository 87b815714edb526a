#pragma once
// SQL of the analytics module. Internal to src/analytics.

#include <soci/soci.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analytics/analytics_service.h"
#include "analytics/rollup_deltas.h"

namespace tph::analytics::detail {

//! Adds one transaction's changes to the rollups; first_day is each account's earliest day among
//! them.
void applyRollups(soci::session& sql, const std::map<AccountCell, CellSums>& changes,
                  const std::map<std::int64_t, std::string>& first_day);

//! One rollup cell: its key parts and its figures, as text and integers for comparison.
struct CellRow {
  std::string key;
  std::vector<std::int64_t> figures;
};
//! The stored rollups and the same recomputed from the detail, each ordered by key.
std::vector<CellRow> storedDailyCells(soci::session& sql);
std::vector<CellRow> detailDailyCells(soci::session& sql);
std::vector<CellRow> storedEnterpriseCells(soci::session& sql);
std::vector<CellRow> detailEnterpriseCells(soci::session& sql);
std::vector<CellRow> storedParticipation(soci::session& sql);
std::vector<CellRow> detailParticipation(soci::session& sql);

}  // namespace tph::analytics::detail

namespace tph::analytics::detail {

//! A WHERE clause over a rollup aliased `t` and its binds, in bind order.
struct Where {
  std::string clause;
  std::vector<std::string> binds;
};
//! The filter as conditions on stats_daily (or, with an industry, stats_enterprise_daily joined to
//! carbon_accounts as `a`).
Where whereOf(const StatsFilter& filter);

//! Rows of (key, name, records, grams, points, subjects summed) from a query built on whereOf.
struct GroupRow {
  std::string key, name;
  StatsFigures figures;
};
std::vector<GroupRow> grouped(soci::session& sql, const StatsFilter& filter,
                              const std::string& key_expr, const std::string& name_join,
                              const std::string& order, int limit);
std::vector<ParticipationPoint> participationRows(soci::session& sql, const std::string& from,
                                                  const std::string& to);
IssuanceFigures issuanceFigures(soci::session& sql, const std::string& region, std::int64_t from_ms,
                                std::int64_t to_ms);
//! Accounts whose first credited day is on or before `to_day`; for a region below the province,
//! those whose home region lies within it.
std::int64_t participantsUpTo(soci::session& sql, const std::string& region,
                              const std::string& to_day);
//! Net points residents' accounts of the region spent in [from_ms, to_ms): redemptions made less
//! refunds given back in the window.
std::int64_t pointsRedeemed(soci::session& sql, const std::string& region, std::int64_t from_ms,
                            std::int64_t to_ms);
//! Per (day, city, methodology) of the filter: domain, records, grams, distinct subjects.
std::vector<OpenDataCell> openDataCells(soci::session& sql, const StatsFilter& filter);

}  // namespace tph::analytics::detail
