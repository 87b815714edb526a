#include "neutral/footprint_calculator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "methodology/compiled_methodology.h"
#include "methodology/methodology_file.h"

namespace tph::neutral {

namespace {

using nlohmann::json;

constexpr std::int64_t kAttendeesMax = 1'000'000;
constexpr std::int64_t kMealsMax = 10'000'000;

bool oneOf(const std::string& value, const auto& options) {
  return std::any_of(std::begin(options), std::end(options),
                     [&](const char* o) { return value == o; });
}

Result<double> number(const json& j, const std::string& key, const std::string& field) {
  if (!j.contains(key) || j[key].is_null()) return 0.0;
  if (!j[key].is_number()) return Error::invalid(field, field + " must be a number");
  double v = j[key].get<double>();
  if (!std::isfinite(v) || v < 0) return Error::invalid(field, field + " must be 0 or more");
  return v;
}

Result<std::int64_t> count(const json& j, const std::string& key, const std::string& field) {
  if (!j.contains(key) || j[key].is_null()) return std::int64_t{0};
  if (!j[key].is_number_integer()) return Error::invalid(field, field + " must be an integer");
  auto v = j[key].get<std::int64_t>();
  if (v < 0) return Error::invalid(field, field + " must be 0 or more");
  return v;
}

}  // namespace

std::int64_t unitsCovering(Grams grams) {
  if (grams.value() <= 0) return 0;
  return (grams.value() + kGramsPerUnit - 1) / kGramsPerUnit;
}

json FootprintInputs::toJson() const {
  json groups = json::array();
  for (const auto& g : travel)
    groups.push_back({{"mode", g.mode}, {"band", g.band}, {"attendees", g.attendees}});
  json out = {{"travel", groups},
              {"hotel_nights", hotel_nights},
              {"electricity_kwh", electricity_kwh},
              {"printed_kg", printed_kg},
              {"meals", {{"meat", meals_meat}, {"vegetarian", meals_vegetarian}}}};
  if (!round_trip_km.empty()) out["round_trip_km"] = round_trip_km;
  return out;
}

Result<FootprintInputs> FootprintInputs::fromJson(const json& j) {
  if (!j.is_object()) return Error::invalid("footprint", "footprint must be an object");
  for (const auto& [key, value] : j.items()) {
    if (key != "travel" && key != "round_trip_km" && key != "hotel_nights" &&
        key != "electricity_kwh" && key != "printed_kg" && key != "meals")
      return Error::invalid(key, key +
                                     " is not a footprint input (travel, round_trip_km, "
                                     "hotel_nights, electricity_kwh, meals, printed_kg)");
  }
  FootprintInputs in;
  if (j.contains("travel") && !j["travel"].is_null()) {
    const auto& travel = j["travel"];
    if (!travel.is_array() || travel.size() > kTravelGroupsMax)
      return Error::invalid("travel", "travel is an array of at most " +
                                          std::to_string(kTravelGroupsMax) +
                                          " {mode, band, attendees}");
    for (std::size_t i = 0; i < travel.size(); ++i) {
      std::string field = "travel[" + std::to_string(i) + "]";
      const auto& g = travel[i];
      if (!g.is_object()) return Error::invalid(field, field + " must be an object");
      TravelGroup group;
      group.mode = g.value("mode", "");
      group.band = g.value("band", "");
      if (!oneOf(group.mode, kTravelModes))
        return Error::invalid(field + ".mode", "mode is car, rail or air");
      if (!oneOf(group.band, kDistanceBands))
        return Error::invalid(field + ".band", "band is local, regional or national");
      TPH_TRY_ASSIGN(attendees, count(g, "attendees", field + ".attendees"));
      if (attendees > kAttendeesMax)
        return Error::invalid(field + ".attendees",
                              "at most " + std::to_string(kAttendeesMax) + " attendees");
      group.attendees = attendees;
      in.travel.push_back(group);
    }
  }
  if (j.contains("round_trip_km") && !j["round_trip_km"].is_null()) {
    const auto& km = j["round_trip_km"];
    if (!km.is_object())
      return Error::invalid("round_trip_km", "round_trip_km maps a band to kilometres");
    for (const auto& [band, value] : km.items()) {
      if (!oneOf(band, kDistanceBands))
        return Error::invalid("round_trip_km." + band, "band is local, regional or national");
      TPH_TRY_ASSIGN(v, number(km, band, "round_trip_km." + band));
      in.round_trip_km[band] = v;
    }
  }
  TPH_TRY_ASSIGN(nights, count(j, "hotel_nights", "hotel_nights"));
  in.hotel_nights = nights;
  TPH_TRY_ASSIGN(kwh, number(j, "electricity_kwh", "electricity_kwh"));
  in.electricity_kwh = kwh;
  TPH_TRY_ASSIGN(kg, number(j, "printed_kg", "printed_kg"));
  in.printed_kg = kg;
  if (j.contains("meals") && !j["meals"].is_null()) {
    const auto& meals = j["meals"];
    if (!meals.is_object())
      return Error::invalid("meals", "meals is an object {meat, vegetarian} of meal counts");
    for (const auto& [type, value] : meals.items()) {
      if (type != "meat" && type != "vegetarian")
        return Error::invalid("meals." + type, "a meal is meat or vegetarian");
      TPH_TRY_ASSIGN(n, count(meals, type, "meals." + type));
      if (n > kMealsMax)
        return Error::invalid("meals." + type, "at most " + std::to_string(kMealsMax) + " meals");
      (type == "meat" ? in.meals_meat : in.meals_vegetarian) = n;
    }
  }
  return in;
}

Result<std::shared_ptr<const FootprintCalculator>> FootprintCalculator::load(
    std::string_view calculator_toml, std::string_view factors_toml, const std::string& file) {
  auto factors = methodology::parseFactorLibrary(factors_toml, "emission_factors.toml");
  auto parsed = methodology::parseMethodology(calculator_toml, file);
  std::vector<methodology::LintIssue> issues = factors.issues;
  issues.insert(issues.end(), parsed.issues.begin(), parsed.issues.end());
  if (parsed.definition) {
    auto lint = methodology::lintMethodology(*parsed.definition, factors.factors, file);
    issues.insert(issues.end(), lint.begin(), lint.end());
  }
  if (!issues.empty() || !parsed.definition) {
    std::string message = "the footprint calculator does not lint:";
    for (const auto& issue : issues) message += "\n" + issue.toString();
    return Error::invalid("calculator", message);
  }
  std::vector<methodology::ResolvedFactor> resolved;
  for (const auto& use : parsed.definition->factors) {
    const auto& f = factors.factors.at(use.ref);
    resolved.push_back({use.name, use.ref, f.value, f.unit, f.source, f.year, f.region});
  }
  TPH_TRY_ASSIGN(compiled, methodology::CompiledMethodology::compile(*parsed.definition, resolved));
  auto calculator = std::shared_ptr<FootprintCalculator>(new FootprintCalculator());
  calculator->compiled_ = compiled;
  return std::shared_ptr<const FootprintCalculator>(calculator);
}

std::shared_ptr<const FootprintCalculator> FootprintCalculator::shipped() {
  static const auto calculator = [] {
    auto loaded = load(kShippedCalculator, kShippedFactors, kShippedCalculatorFile);
    if (!loaded) throw std::logic_error(loaded.error().message);
    return *loaded;
  }();
  return calculator;
}

std::string FootprintCalculator::id() const {
  const auto& d = compiled_->definition();
  return d.id + "@" + std::to_string(d.version);
}

Result<Footprint> FootprintCalculator::compute(const FootprintInputs& in) const {
  const auto& definition = compiled_->definition();
  std::vector<double> values(definition.inputs.size(), methodology::kMissingInput);
  auto set = [&](const std::string& name, double value, const std::string& field,
                 bool add) -> Status {
    auto index = compiled_->inputIndex(name);
    if (!index) return Error::invalid(field, "the calculator " + id() + " has no input " + name);
    double& slot = values[*index];
    slot = add && !std::isnan(slot) ? slot + value : value;
    return {};
  };
  for (std::size_t i = 0; i < in.travel.size(); ++i) {
    const auto& g = in.travel[i];
    TPH_TRY(set("attendees_" + g.band + "_" + g.mode, static_cast<double>(g.attendees),
                "travel[" + std::to_string(i) + "].mode", true));
  }
  for (const auto& [band, km] : in.round_trip_km)
    TPH_TRY(set("round_trip_km_" + band, km, "round_trip_km." + band, false));
  TPH_TRY(set("hotel_nights", static_cast<double>(in.hotel_nights), "hotel_nights", false));
  TPH_TRY(set("electricity_kwh", in.electricity_kwh, "electricity_kwh", false));
  TPH_TRY(set("printed_kg", in.printed_kg, "printed_kg", false));
  // Version 1 has no meals: it still computes what it computed when nothing is entered for them.
  if (in.meals_meat > 0)
    TPH_TRY(set("meals_meat", static_cast<double>(in.meals_meat), "meals.meat", false));
  if (in.meals_vegetarian > 0)
    TPH_TRY(set("meals_vegetarian", static_cast<double>(in.meals_vegetarian), "meals.vegetarian",
                false));

  methodology::Evaluator evaluator;
  auto q = evaluator.quantify(*compiled_, values);
  if (!q) {
    Error e = q.error();
    // The engine names its own input; say which of the organiser's fields that is.
    if (e.field.rfind("attendees_", 0) == 0) e.field = "travel";
    if (e.field.rfind("meals_", 0) == 0) e.field = "meals." + e.field.substr(6);
    return e;
  }
  Footprint out;
  out.grams = q->grams;
  out.units_required = unitsCovering(q->grams);
  out.calculator = id();
  out.explanation = compiled_->explain(values, *q);
  out.explanation["tonnes"] = static_cast<double>(q->grams.value()) / kGramsPerUnit;
  out.explanation["units_required"] = out.units_required;
  out.explanation["units_rule"] = "whole PHCER units covering the footprint: grams rounded up to t";
  out.explanation.erase("points_per_kg");
  out.explanation.erase("caps");
  return out;
}

json FootprintCalculator::describe() const {
  const auto& d = compiled_->definition();
  json inputs = json::array();
  for (const auto& i : d.inputs) {
    json one = {{"name", i.name}, {"unit", i.unit}, {"integer", i.integer},
                {"min", i.min},   {"max", i.max},   {"description", i.description}};
    if (!i.required) one["default"] = i.default_value;
    inputs.push_back(one);
  }
  json factors = json::array();
  for (const auto& f : compiled_->factors()) {
    factors.push_back({{"name", f.name},
                       {"ref", f.ref},
                       {"value", f.value},
                       {"unit", f.unit},
                       {"year", f.year},
                       {"region", f.region},
                       {"source", f.source}});
  }
  return {{"calculator", id()},
          {"name_zh", d.name_zh},
          {"name_en", d.name_en},
          {"description_zh", d.description_zh},
          {"description_en", d.description_en},
          {"formula", d.formula},
          {"unit", "g CO2e"},
          {"modes", kTravelModes},
          {"bands", kDistanceBands},
          {"meal_types",
           compiled_->inputIndex("meals_meat") ? json{"meat", "vegetarian"} : json::array()},
          {"inputs", inputs},
          {"factors", factors}};
}

}  // namespace tph::neutral
