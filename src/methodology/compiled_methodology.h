#pragma once
// A methodology version compiled for evaluation: its formula checked once, its factors resolved
// to values, its inputs indexed. Evaluation happens in an Evaluator, one per thread, which holds
// the muParser bytecode per version, so a record costs no parsing and no allocation.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/quantity.h"
#include "core/result.h"
#include "methodology/definition.h"

namespace mu {
class Parser;
}

namespace tph::methodology {

//! Marks an input the record did not carry.
inline constexpr double kMissingInput = std::numeric_limits<double>::quiet_NaN();

//! A factor as applied: the library's value and citation at compile time.
struct ResolvedFactor {
  std::string name;  //!< variable in the formula
  std::string ref;   //!< key in the library
  double value = 0;
  std::string unit;
  std::string source;
  int year = 0;
  std::string region;
};

//! What a subject has already been credited within the cap periods of the record being quantified.
struct CapUsage {
  Grams day{0}, month{0}, year{0};
  std::array<double, kMaxInputs> input_day{};  //!< per input, in declaration order
};

//! Which limit cut a result, if any.
enum class CapApplied { kNone, kInput, kPerDay, kPerMonth, kPerYear };
const char* toString(CapApplied cap);

struct Quantification {
  Grams grams{0};    //!< credited, after caps
  Grams rounded{0};  //!< the formula's result rounded half to even, before gram caps
  double raw = 0;    //!< the formula's exact result
  CapApplied cap = CapApplied::kNone;
  std::size_t capped_input = 0;                  //!< with kInput: which input was cut
  std::array<double, kMaxInputs> used_inputs{};  //!< the values the formula saw
};

class CompiledMethodology {
 public:
  static Result<std::shared_ptr<const CompiledMethodology>> compile(
      MethodologyDefinition definition, std::vector<ResolvedFactor> factors);

  const MethodologyDefinition& definition() const { return definition_; }
  const std::vector<ResolvedFactor>& factors() const { return factors_; }
  std::optional<std::size_t> inputIndex(std::string_view name) const;
  //! Unique per compiled object, for evaluators' caches.
  std::uint64_t serial() const { return serial_; }

  //! Lifecycle facts the engine selects on; set by the catalogue from stored state.
  std::string state = "active";
  std::string effective_from;   //!< YYYY-MM-DD
  std::string effective_until;  //!< YYYY-MM-DD or ""
  std::int64_t row_id = 0;      //!< the stored version's id, 0 when not stored

  //! The explanation of one result: inputs, factors with sources, formula, raw value, rounding,
  //! caps.
  nlohmann::json explain(std::span<const double> inputs, const Quantification& q) const;

  //! What a stored result needs to be explained again later with explain(): the inputs used, raw
  //! value, rounding and cap, without the version's formula and factors (the version keeps those).
  std::string compactResult(const Quantification& q) const;
  //! Reads compactResult's text back; nullopt when it is not one.
  std::optional<Quantification> parseCompactResult(const std::string& text) const;

 private:
  CompiledMethodology() = default;
  MethodologyDefinition definition_;
  std::vector<ResolvedFactor> factors_;
  std::uint64_t serial_ = 0;
};

//! Evaluates compiled methodologies. Not shared between threads: make one per thread.
class Evaluator {
 public:
  Evaluator();
  ~Evaluator();
  Evaluator(Evaluator&&) noexcept;
  Evaluator& operator=(Evaluator&&) noexcept;

  //! Quantifies one record. `inputs` are in the methodology's declaration order, kMissingInput
  //! where absent. Validates ranges, applies input and gram caps against `usage`, rounds once.
  Result<Quantification> quantify(const CompiledMethodology& methodology,
                                  std::span<const double> inputs, const CapUsage& usage = {});

 private:
  struct Slot;
  Slot& slotFor(const CompiledMethodology& methodology);
  std::unordered_map<std::uint64_t, std::unique_ptr<Slot>> slots_;
};

}  // namespace tph::methodology
