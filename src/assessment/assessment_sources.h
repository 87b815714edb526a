#pragma once
// Where each indicator's figure comes from: the other modules' public stats interfaces, never
// their tables. Each measurement answers the figure with a source an auditor can rerun. Internal
// to src/assessment.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "assessment/assessment_service.h"

namespace tph::assessment::detail {

//! The days a run covers: 1 January to 31 December, or to yesterday while the year runs.
struct Period {
  int year = 0;
  std::string from_day, until_day;         //!< Shanghai days, inclusive
  std::int64_t from_ms = 0, until_ms = 0;  //!< the same as instants, until exclusive
  std::int64_t days = 0;
};
//! Nullopt when not a single day of the year has ended by `now`.
std::optional<Period> periodOf(int year, Instant now);

struct Figure {
  std::int64_t figure_milli = 0;
  std::string note;
  nlohmann::json source;
};

//! Measures cities for one run. Not shared between threads (it caches the pilots).
class CitySources {
 public:
  CitySources(store::Database& db, const Clock& clock, const auth::Principal& caller,
              const Period& period);

  //! The figure of one indicator for one city; `residents` only for participants_per_10k.
  Figure measure(const std::string& key, const std::string& city,
                 std::optional<Population> population);

 private:
  Figure pilotStatus(const std::string& city);
  Figure targetProgress(const std::string& city);
  Figure tonnesCertified(const std::string& city);
  Figure participantsPer10k(const std::string& city, const Population& population);
  Figure merchants(const std::string& city);
  Figure methodologies(const std::string& city, const std::string& kind);
  Figure dataLinkage(const std::string& city);

  struct PilotOfCity {
    std::string region_code;
    std::int64_t application_id = 0;
    std::string pilot_from;
  };
  //! The city's own pilot, else the earliest designated pilot below it.
  std::optional<PilotOfCity> pilotOf(const std::string& city);

  store::Database& db_;
  const Clock& clock_;
  const auth::Principal& caller_;
  Period period_;
  std::optional<std::map<std::string, PilotOfCity>> pilots_;
};

}  // namespace tph::assessment::detail
