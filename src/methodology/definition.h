#pragma once
// A methodology version as data: what the TOML file says, before it is compiled.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tph::methodology {

inline constexpr const char* kDomains[] = {"electricity", "water",  "gas",
                                           "travel",      "nev",    "waste",
                                           "carbon_sink", "energy", "consumption"};
inline constexpr const char* kSubjects[] = {"person", "household", "enterprise"};
inline constexpr std::size_t kMaxInputs = 16;
inline constexpr std::size_t kMaxFactors = 16;
inline constexpr std::size_t kMaxFormulaBytes = 2000;

struct InputSpec {
  std::string name;
  std::string unit;
  bool integer = false;
  double min = 0;
  double max = 0;
  bool required = true;
  double default_value = 0;  //!< for optional inputs
  std::string description;
};

//! A factor as the formula names it, pointing into the factor library.
struct FactorUse {
  std::string name;  //!< the variable in the formula
  std::string ref;   //!< the key in emission_factors.toml
  std::string unit;  //!< the unit the methodology expects
};

struct InputCap {
  std::string input;
  double per_day = 0;
};

struct Caps {
  std::optional<std::int64_t> per_day_grams;
  std::optional<std::int64_t> per_month_grams;
  std::optional<std::int64_t> per_year_grams;
  std::vector<InputCap> input_caps;
  std::string keep = "earliest";
};

struct WorkedExample {
  std::map<std::string, double> inputs;
  std::int64_t grams = 0;
  std::string note;
  int line = 0;
};

struct MethodologyDefinition {
  std::string id;
  int version = 0;
  std::string name_zh, name_en;
  std::string description_zh, description_en;
  std::string domain;
  std::vector<std::string> subjects;
  std::string scope;            //!< 440000 or a region code
  std::string effective_from;   //!< YYYY-MM-DD, Asia/Shanghai, inclusive
  std::string effective_until;  //!< YYYY-MM-DD inclusive, or "" for open-ended
  std::int64_t points_per_kg = 0;
  std::string formula;
  std::vector<InputSpec> inputs;
  std::vector<FactorUse> factors;
  Caps caps;
  std::vector<WorkedExample> examples;
  std::map<std::string, int> lines;  //!< field path → line in the source text, for messages
};

struct EmissionFactor {
  std::string key;
  double value = 0;
  std::string unit;
  int year = 0;
  std::string region;
  std::string source;
  std::string source_kind;
  std::string note;
  int line = 0;
};

using FactorLibrary = std::map<std::string, EmissionFactor>;

//! One problem found in a methodology or factor file.
struct LintIssue {
  std::string file;
  int line = 0;  //!< 0 when the problem has no single line
  std::string field;
  std::string message;
  std::string toString() const;
};

}  // namespace tph::methodology
