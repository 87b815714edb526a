#pragma once
// Analytics: rollups of the credited reductions (kept by ingest in the crediting transaction, see
// rollup_deltas.h), their check against the detail, stats queries for the portal and the consoles,
// and the open dataset.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::analytics {

//! The outcome of recomputing every rollup from the detail rows.
struct CheckReport {
  std::int64_t cells_checked = 0;
  bool consistent = true;
  std::string first_difference;  //!< names the first cell that differs, when not consistent
};

//! Which reductions a query covers. Empty fields cover everything.
struct StatsFilter {
  std::string from_day, to_day;  //!< inclusive, YYYY-MM-DD (Asia/Shanghai days)
  std::string region;            //!< GB/T 2260 code: the province, a city or a county
  std::string domain;
  std::string methodology;
  std::string subject_kind;  //!< person, household, enterprise
  std::string industry;      //!< GB/T 4754 section ('C') or section+division ('C26')
};

enum class Interval { kDay, kWeek, kMonth, kYear };
std::optional<Interval> parseInterval(const std::string& text);

struct StatsFigures {
  std::int64_t records = 0;
  std::int64_t grams = 0;
  std::int64_t points = 0;
  //! Distinct subjects, for a single day; over longer spans the sum of each day's subjects.
  std::int64_t subject_days = 0;
  //! Withheld from a caller who does not administer the region: a city-level figure not known to
  //! cover kPublicMinSubjects distinct subjects (the figures above are then zero; the API shows
  //! them as null). See docs/analytics.md.
  bool suppressed = false;
};

struct SeriesPoint {
  std::string bucket;  //!< 2026-03-01, 2026-W09, 2026-03 or 2026
  StatsFigures figures;
};

struct RankedRow {
  std::string key;  //!< region code, methodology id or industry
  std::string name;
  StatsFigures figures;
};

struct ParticipationPoint {
  std::string period;  //!< 2026-03-01 or 2026-03
  std::int64_t subjects = 0, new_subjects = 0, returning_subjects = 0;
};

//! Beside reductions: what the registry issued and what was retired in the span.
struct IssuanceFigures {
  std::int64_t units_issued = 0;
  std::int64_t units_retired = 0;
  std::int64_t batches_issued = 0;
};

//! One cell of the open dataset; figures are absent when the cell is suppressed.
struct OpenDataCell {
  std::string day, city, domain, methodology;
  bool suppressed = false;
  std::int64_t records = 0, subjects = 0, grams = 0;
};

//! Cells covering fewer distinct subjects than this are suppressed in the open dataset.
inline constexpr std::int64_t kOpenDataMinSubjects = 10;
//! Public city-level figures whose largest county cell has fewer distinct subjects are suppressed.
inline constexpr std::int64_t kPublicMinSubjects = 10;
//! The most days one open-data request may span, and the most ranked rows.
inline constexpr int kOpenDataMaxDays = 92;
inline constexpr int kTopMax = 100;

//! Shared between threads; holds no mutable state.
class AnalyticsService {
 public:
  explicit AnalyticsService(store::Database& db) : db_(db) {}

  //! Recomputes every rollup from the reductions and names the first cell that differs.
  Result<CheckReport> check();

  //! Whether the caller (none for the public) may see this filter: the public sees the province
  //! and cities; region admins their region down to county and industry; the province everything.
  Status authorize(const std::optional<auth::Principal>& caller, const StatsFilter& filter) const;

  Result<StatsFigures> totals(const std::optional<auth::Principal>& caller,
                              const StatsFilter& filter);
  Result<std::vector<SeriesPoint>> series(const std::optional<auth::Principal>& caller,
                                          const StatsFilter& filter, Interval interval);
  //! Top n by grams: by "region" (the children of the filter's region), "methodology",
  //! "domain" or "industry".
  Result<std::vector<RankedRow>> top(const std::optional<auth::Principal>& caller,
                                     const StatsFilter& filter, const std::string& by, int n);
  //! Province-wide subjects credited per day or month, new and returning.
  Result<std::vector<ParticipationPoint>> participation(const StatsFilter& filter,
                                                        Interval interval);
  Result<IssuanceFigures> issuance(const StatsFilter& filter);
  //! Accounts first credited on or before the filter's `to` day (ever, not only in the span): the
  //! province from the participation rollup, a city or county by the accounts' home region.
  Result<std::int64_t> participants(const std::optional<auth::Principal>& caller,
                                    const StatsFilter& filter);
  //! Points residents spent in the span (vouchers, benefit claims, card conversions) less the
  //! points given back in the span (cancelled or expired vouchers, failed claims, rejected
  //! conversions), by the spending account's home region.
  Result<std::int64_t> pointsRedeemed(const std::optional<auth::Principal>& caller,
                                      const StatsFilter& filter);
  //! Daily reductions by city, domain and methodology, small cells suppressed.
  Result<std::vector<OpenDataCell>> openData(const StatsFilter& filter);

 private:
  store::Database& db_;
};

}  // namespace tph::analytics
