#pragma once
// The event footprint calculator: a methodology-style TOML file (data/footprints/) with cited
// factors from data/emission_factors.toml, linted and compiled like any methodology and evaluated
// by the same engine. Its inputs are grouped here into what an organiser knows: attendees by
// travel mode and distance band, hotel nights, venue electricity, meals by type, printed
// materials.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/quantity.h"
#include "core/result.h"

namespace tph::methodology {
class CompiledMethodology;
}

namespace tph::neutral {

//! The shipped calculator and factor library, embedded at build time from data/.
extern const char* const kShippedCalculatorFile;
extern const char* const kShippedCalculator;
extern const char* const kShippedFactors;

inline constexpr std::int64_t kGramsPerUnit = 1'000'000;  //!< 1 PHCER = 1 t CO2e
inline constexpr std::size_t kTravelGroupsMax = 64;
inline constexpr const char* kTravelModes[] = {"car", "rail", "air"};
inline constexpr const char* kDistanceBands[] = {"local", "regional", "national"};

//! Attendees who travel one way (mode) from one distance band.
struct TravelGroup {
  std::string mode;  //!< car, rail, air
  std::string band;  //!< local, regional, national
  std::int64_t attendees = 0;
};

//! What an organiser enters.
struct FootprintInputs {
  std::vector<TravelGroup> travel;
  std::map<std::string, double> round_trip_km;  //!< by band; absent: the calculator's default
  std::int64_t hotel_nights = 0;
  double electricity_kwh = 0;
  double printed_kg = 0;
  std::int64_t meals_meat = 0;        //!< meals with meat or fish (calculator version 2 on)
  std::int64_t meals_vegetarian = 0;  //!< vegetarian or vegan meals (version 2 on)

  nlohmann::json toJson() const;
  //! Reads the JSON form back; errors name the field ("travel[2].mode").
  static Result<FootprintInputs> fromJson(const nlohmann::json& j);
};

struct Footprint {
  Grams grams{0};
  std::int64_t units_required = 0;  //!< whole PHCER units: grams rounded up to tonnes
  std::string calculator;           //!< "footprint.event@2"
  nlohmann::json explanation;       //!< inputs, factors with sources, formula, rounding
};

//! Whole units that cover `grams` (ceil(grams / 1 t)).
std::int64_t unitsCovering(Grams grams);

//! Immutable once loaded; shared between threads (each compute uses its own evaluator).
class FootprintCalculator {
 public:
  //! Parses, lints and compiles a calculator against a factor library; every lint problem is
  //! reported in the error's message.
  static Result<std::shared_ptr<const FootprintCalculator>> load(std::string_view calculator_toml,
                                                                 std::string_view factors_toml,
                                                                 const std::string& file);
  //! The embedded calculator; a broken embedded file is a build bug and throws.
  static std::shared_ptr<const FootprintCalculator> shipped();

  Result<Footprint> compute(const FootprintInputs& inputs) const;
  //! Its inputs, factors with sources, formula: what the public calculator page shows.
  nlohmann::json describe() const;
  std::string id() const;  //!< "footprint.event@2"

 private:
  std::shared_ptr<const methodology::CompiledMethodology> compiled_;
};

}  // namespace tph::neutral
