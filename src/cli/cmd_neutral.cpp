// `tanpuhui neutral footprint --input JSON|FILE`: an event's footprint by the shipped calculator,
// with its explanation, offline (docs/neutral.md).

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "neutral/footprint_calculator.h"

namespace tph::cli {

namespace {

struct FootprintOptions {
  std::string input;
  bool json_output = false;
};

int runFootprint(const FootprintOptions& options) {
  std::string text = options.input;
  if (!text.empty() && text.front() != '{') {
    std::ifstream in(text);
    if (!in) return fail(Error::invalid("input", "neither JSON nor a readable file: " + text));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    text = bytes.str();
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return fail(Error::invalid("input", "the input is not JSON"));
  auto inputs = neutral::FootprintInputs::fromJson(parsed);
  if (!inputs) return fail(inputs.error());
  auto footprint = neutral::FootprintCalculator::shipped()->compute(*inputs);
  if (!footprint) return fail(footprint.error());
  if (options.json_output) {
    nlohmann::json out = {{"grams", footprint->grams.value()},
                          {"units_required", footprint->units_required},
                          {"calculator", footprint->calculator},
                          {"explanation", footprint->explanation}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%s: %lld g CO2e (%.6f t); neutralise with %lld PHCER\n",
              footprint->calculator.c_str(), static_cast<long long>(footprint->grams.value()),
              static_cast<double>(footprint->grams.value()) / neutral::kGramsPerUnit,
              static_cast<long long>(footprint->units_required));
  return 0;
}

}  // namespace

void addNeutralCommand(CLI::App& app, int& exit_code) {
  auto* neutral = app.add_subcommand("neutral", "Carbon-neutral events");
  neutral->require_subcommand(1);
  auto options = std::make_shared<FootprintOptions>();
  auto* footprint = neutral->add_subcommand(
      "footprint", "An event's footprint by the shipped calculator: grams, units to retire");
  footprint
      ->add_option("--input", options->input,
                   "footprint inputs as JSON {travel: [{mode, band, attendees}], round_trip_km?, "
                   "hotel_nights?, electricity_kwh?, meals?: {meat, vegetarian}, printed_kg?} or a "
                   "file holding them")
      ->required();
  footprint->add_flag("--json", options->json_output, "print the result with its explanation");
  footprint->callback([options, &exit_code] { exit_code = runFootprint(*options); });
}

}  // namespace tph::cli
