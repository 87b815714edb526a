#pragma once
// A narrow, read-only view of credited reductions for modules that report on them (pilot
// progress, the province–city link, assessment) without reading ingest's tables themselves.

#include <cstdint>
#include <string>
#include <vector>

#include "core/quantity.h"

namespace tph::store {
class Database;
}

namespace tph::ingest {

//! What one methodology version credited in one region on one Shanghai day.
struct DailyReductionAggregate {
  std::string day;  //!< "2026-03-05", Asia/Shanghai
  std::string region_code;
  std::string methodology_id;
  int methodology_version = 0;
  std::int64_t records = 0;
  std::int64_t subjects = 0;  //!< distinct carbon accounts
  Grams grams;
  //! SHA-256 hex over "record_id:grams\n" of each reduction in record id order, so a spot check
  //! can ask for exactly the records behind the aggregate.
  std::string records_digest;
  bool operator==(const DailyReductionAggregate&) const = default;
};

//! One credited record behind an aggregate, as a spot check sees it: no person, only the
//! provider's pseudonymous reference.
struct AggregateRecord {
  std::int64_t record_id = 0;
  std::string subject_ref;
  std::int64_t occurred_at_ms = 0;
  Grams grams;
  bool operator==(const AggregateRecord&) const = default;
};

//! Totals over a period for a region and everything below it.
struct RegionReductionTotals {
  std::int64_t records = 0;
  std::int64_t participants = 0;  //!< distinct carbon accounts credited
  Grams grams;
  std::int64_t methodologies = 0;  //!< distinct methodologies that credited anything
  std::int64_t providers = 0;      //!< distinct providers whose records were credited
};

//! What records in a campaign's window earned: totals and, per Shanghai day, the same.
struct CampaignReductionDay {
  std::string day;
  std::int64_t records = 0;
  std::int64_t subjects = 0;
  Grams grams;
  std::int64_t points = 0;        //!< including the bonus
  std::int64_t bonus_points = 0;  //!< what the multiplier added
};
struct CampaignReductionFigures {
  std::int64_t records = 0;
  std::int64_t subjects = 0;  //!< distinct carbon accounts
  Grams grams;
  std::int64_t points = 0;
  std::int64_t bonus_points = 0;
  std::vector<CampaignReductionDay> days;
};

//! Reads only; safe from many threads (each call leases its own session).
class ReductionStats {
 public:
  explicit ReductionStats(store::Database& db) : db_(db) {}

  //! Aggregates of `day` for `region_code` and its descendants, ordered by region, methodology,
  //! version.
  std::vector<DailyReductionAggregate> daily(const std::string& region_code,
                                             const std::string& day);
  //! The records behind one aggregate of daily(), in record id order (the records digest's
  //! order); at most `limit` of them.
  std::vector<AggregateRecord> records(const std::string& region_code, const std::string& day,
                                       const std::string& methodology_id, int methodology_version,
                                       std::size_t limit);
  //! Days (inclusive, "YYYY-MM-DD") on which anything was credited in the region, ascending.
  std::vector<std::string> activeDays(const std::string& region_code, const std::string& from_day,
                                      const std::string& until_day);
  RegionReductionTotals totals(const std::string& region_code, const std::string& from_day,
                               const std::string& until_day);
  //! The reductions a campaign raised (region::Campaign ids).
  CampaignReductionFigures campaign(std::int64_t campaign_id);

 private:
  store::Database& db_;
};

}  // namespace tph::ingest
