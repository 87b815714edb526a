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
//! stats_enterprise_monthly as stored, and recomputed from stats_enterprise_daily.
std::vector<CellRow> storedEnterpriseMonths(soci::session& sql);
std::vector<CellRow> derivedEnterpriseMonths(soci::session& sql);
//! stats_daily_area and stats_monthly_area as stored, and recomputed from stats_daily.
std::vector<CellRow> storedAreaCells(soci::session& sql);
std::vector<CellRow> derivedAreaCells(soci::session& sql);
std::vector<CellRow> detailParticipation(soci::session& sql);
//! stats_industry_daily and stats_industry_monthly as stored, and recomputed from
//! stats_enterprise_daily and the accounts' current industry.
std::vector<CellRow> storedIndustryCells(soci::session& sql);
std::vector<CellRow> derivedIndustryCells(soci::session& sql);
//! See analytics::moveIndustryCells.
void moveIndustryCells(soci::session& sql, std::int64_t account_id, const std::string& from_section,
                       const std::string& from_division, const std::string& to_section,
                       const std::string& to_division);

}  // namespace tph::analytics::detail

namespace tph::analytics::detail {

//! A WHERE clause over a rollup aliased `t` and its binds, in bind order.
struct Where {
  std::string clause;
  std::vector<std::string> binds;
};
//! The filter as conditions on stats_daily (or, with an industry, stats_enterprise_daily joined to
//! carbon_accounts as `a`).
//! With monthly, over a monthly rollup's `t.month` (the filter's span being whole months).
Where whereOf(const StatsFilter& filter, bool monthly = false);

//! What a grouped query groups by.
enum class GroupBy { kAll, kPeriod, kRegion, kMethodology, kDomain, kIndustry };

//! Rows of (key, name, figures) summed over the rollup cells of a filter. Each query reads the
//! smallest rollup that answers it: stats_enterprise_daily for industries, stats_daily for
//! counties, else stats_monthly_area when the span is whole months and no day or week is asked for,
//! else stats_daily_area. With GroupBy::kPeriod the key is a day, or a month when months_ok allowed
//! the monthly rollup.
struct GroupRow {
  std::string key, name;
  StatsFigures figures;
  //! The largest single county cell's distinct subjects among the cells summed: a lower bound on
  //! the distinct subjects the row covers (0 for industry rows).
  std::int64_t subjects_lower_bound = 0;
};
std::vector<GroupRow> grouped(soci::session& sql, const StatsFilter& filter, GroupBy by,
                              bool months_ok, const std::string& order, int limit);
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
