#pragma once
// The cities' yearly target-responsibility assessment (目标责任考核): the province sets a year's
// scheme (indicators from a fixed catalogue, weights summing to 100, scoring rules) and each city's
// resident population with its source; a run measures every prefecture-level city from platform
// data through the other modules' stats interfaces, keeps each figure with its score and the query
// that produced it, and ranks the cities; the province publishes one run a year, which freezes it.
// Domain rules: docs/assessment.md.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::assessment {

inline constexpr std::size_t kMaxBands = 10;
inline constexpr std::int64_t kMaxRuleValueMilli = 1'000'000'000'000'000;  //!< 10^12 in units
inline constexpr std::int64_t kMaxResidents = 1'000'000'000;
inline constexpr std::size_t kMaxSourceBytes = 500;
inline constexpr int kMaxRunsListed = 100;

//! One indicator of the fixed catalogue the province chooses from.
struct IndicatorInfo {
  std::string key;  //!< "tonnes_certified", ...
  std::string name_zh;
  std::string name_en;
  std::string unit;  //!< what a figure counts: "days", "percent", "tCO2e", ...
};
const std::vector<IndicatorInfo>& indicatorCatalogue();
const IndicatorInfo* findIndicator(const std::string& key);

//! Part of the weight a band earns when the figure reaches its minimum.
struct Band {
  std::int64_t min_milli = 0;
  int percent = 0;
  bool operator==(const Band&) const = default;
};

//! "linear": 0 at or below floor, the full weight at or above full, proportionally between;
//! "bands": the percent of the highest band whose minimum the figure reaches, else 0.
struct ScoringRule {
  std::string kind;
  std::int64_t floor_milli = 0;
  std::int64_t full_milli = 0;
  std::vector<Band> bands;
  bool operator==(const ScoringRule&) const = default;
};

struct SchemeIndicator {
  std::string key;
  int weight = 0;  //!< the most points it contributes; a scheme's weights sum to 100
  ScoringRule rule;
  bool operator==(const SchemeIndicator&) const = default;
};

struct Scheme {
  int year = 0;
  std::vector<SchemeIndicator> indicators;
  std::string updated_by;
  Instant updated_at;
  bool published = false;  //!< a run of the year is published: the scheme is frozen
};

//! Validates a scheme's indicators given as JSON; errors name the field
//! ("indicators[2].rule.full").
Result<std::vector<SchemeIndicator>> indicatorsFromJson(const nlohmann::json& json);
nlohmann::json indicatorsToJson(const std::vector<SchemeIndicator>& indicators);

//! The score of a figure under a rule, in thousandths of a point out of `weight`, rounded down.
std::int64_t scoreMilli(const ScoringRule& rule, int weight, std::int64_t figure_milli);

struct Population {
  std::string region_code;
  std::int64_t residents = 0;
  std::string source;  //!< "广东省2023年国民经济和社会发展统计公报"
  std::string entered_by;
  Instant entered_at;
};

struct CityResult {
  std::string indicator_key;
  std::int64_t figure_milli = 0;  //!< the raw figure in thousandths of its unit
  std::int64_t score_milli = 0;
  std::string note;       //!< how the figure came about, in words
  nlohmann::json source;  //!< query id, function, parameters, SQL: enough to rerun it
};

struct CityAssessment {
  std::string region_code;
  std::string name_zh, name_en;
  int rank = 0;
  std::int64_t total_milli = 0;     //!< out of 100 000
  std::vector<CityResult> results;  //!< in the scheme's order
};

struct Run {
  std::int64_t id = 0;
  int year = 0;
  std::string state;  //!< computed, published
  std::vector<SchemeIndicator> scheme;
  std::vector<Population> populations;
  std::string period_from, period_until;  //!< Shanghai days, inclusive
  std::string content_sha256;             //!< over the scheme, populations and results
  std::string computed_by;
  Instant computed_at;
  std::string published_by;
  std::optional<Instant> published_at;
  std::vector<CityAssessment> cities;  //!< by rank, then region code
};

//! Ranks totals: higher first; equal totals share the better rank and the next rank skips
//! (1, 2, 2, 4); within a tie, cities are listed by region code.
void rankCities(std::vector<CityAssessment>& cities);

//! Shared between threads: holds no state of its own beyond references.
class AssessmentService {
 public:
  AssessmentService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<Scheme> scheme(const auth::Principal& caller, int year);
  //! Sets the year's scheme; refused once a run of the year is published.
  Result<Scheme> setScheme(const auth::Principal& caller, int year,
                           const std::vector<SchemeIndicator>& indicators);

  Result<std::vector<Population>> populations(const auth::Principal& caller, int year);
  //! Sets the residents of the cities given (others keep theirs); each must be a
  //! prefecture-level city. Refused once a run of the year is published.
  Result<std::vector<Population>> setPopulations(const auth::Principal& caller, int year,
                                                 const std::vector<Population>& entries);

  //! Measures every city for the year (up to yesterday while it runs) and stores the run.
  Result<Run> compute(const auth::Principal& caller, int year);
  Result<std::vector<Run>> runs(const auth::Principal& caller, int year);
  //! The province sees every run; others only a published one.
  Result<Run> run(const auth::Principal* caller, std::int64_t id);
  Result<Run> publish(const auth::Principal& caller, std::int64_t id);
  //! The year's published run; not found before one is published.
  Result<Run> published(int year);
  //! One city of a run: the province any; the city's admins only in a published run.
  Result<CityAssessment> city(const auth::Principal& caller, std::int64_t run_id,
                              const std::string& region_code);

  //! The report of a run (the province any; anyone the published one): XLSX and PDF bytes.
  Result<std::string> reportXlsx(const auth::Principal* caller, std::int64_t run_id);
  Result<std::string> reportPdf(const auth::Principal* caller, std::int64_t run_id);

 private:
  Result<Run> computeOnce(const auth::Principal& caller, int year);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::assessment
