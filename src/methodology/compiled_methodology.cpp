#include "methodology/compiled_methodology.h"

#include <muParser.h>

#include <atomic>
#include <sstream>

#include "core/canonical_json.h"

namespace tph::methodology {

namespace {

std::atomic<std::uint64_t> next_serial{1};

std::string formatNumber(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

}  // namespace

const char* toString(CapApplied cap) {
  switch (cap) {
    case CapApplied::kNone:
      return "none";
    case CapApplied::kInput:
      return "input_per_day";
    case CapApplied::kPerDay:
      return "per_day_grams";
    case CapApplied::kPerMonth:
      return "per_month_grams";
    case CapApplied::kPerYear:
      return "per_year_grams";
  }
  return "none";
}

// One muParser instance bound to its own variable storage: inputs first, then factors.
struct Evaluator::Slot {
  mu::Parser parser;
  std::array<double, kMaxInputs + kMaxFactors> vars{};
};

Result<std::shared_ptr<const CompiledMethodology>> CompiledMethodology::compile(
    MethodologyDefinition definition, std::vector<ResolvedFactor> factors) {
  if (definition.inputs.size() > kMaxInputs || factors.size() > kMaxFactors) {
    return Error::invalid("inputs", "too many inputs or factors");
  }
  std::shared_ptr<CompiledMethodology> compiled(new CompiledMethodology());
  compiled->definition_ = std::move(definition);
  compiled->factors_ = std::move(factors);
  compiled->serial_ = next_serial.fetch_add(1);
  compiled->effective_from = compiled->definition_.effective_from;
  compiled->effective_until = compiled->definition_.effective_until;
  // Parse once here so that a broken formula is an error now, not on the first record.
  try {
    mu::Parser parser;
    std::array<double, kMaxInputs + kMaxFactors> vars{};
    std::size_t i = 0;
    for (const auto& in : compiled->definition_.inputs) parser.DefineVar(in.name, &vars[i++]);
    for (const auto& f : compiled->factors_) parser.DefineVar(f.name, &vars[i++]);
    parser.SetExpr(compiled->definition_.formula);
    parser.Eval();
  } catch (const mu::Parser::exception_type& e) {
    return Error::invalid("formula",
                          e.GetMsg() + " (at character " + std::to_string(e.GetPos() + 1) + ")");
  }
  return std::shared_ptr<const CompiledMethodology>(std::move(compiled));
}

std::optional<std::size_t> CompiledMethodology::inputIndex(std::string_view name) const {
  for (std::size_t i = 0; i < definition_.inputs.size(); ++i) {
    if (definition_.inputs[i].name == name) return i;
  }
  return std::nullopt;
}

Evaluator::Evaluator() = default;
Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

Evaluator::Slot& Evaluator::slotFor(const CompiledMethodology& m) {
  auto it = slots_.find(m.serial());
  if (it != slots_.end()) return *it->second;
  auto slot = std::make_unique<Slot>();
  std::size_t i = 0;
  for (const auto& in : m.definition().inputs) slot->parser.DefineVar(in.name, &slot->vars[i++]);
  // Factors are constants of a compiled version, so muParser may fold them into the bytecode.
  for (const auto& f : m.factors()) slot->parser.DefineConst(f.name, f.value);
  slot->parser.SetExpr(m.definition().formula);
  return *slots_.emplace(m.serial(), std::move(slot)).first->second;
}

Result<Quantification> Evaluator::quantify(const CompiledMethodology& m,
                                           std::span<const double> inputs, const CapUsage& usage) {
  const auto& def = m.definition();
  if (inputs.size() != def.inputs.size()) {
    return Error::invalid("inputs", "expected " + std::to_string(def.inputs.size()) + " inputs");
  }
  Quantification q;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const InputSpec& spec = def.inputs[i];
    double v = inputs[i];
    if (std::isnan(v)) {
      if (spec.required) return Error::invalid("inputs." + spec.name, spec.name + " is required");
      v = spec.default_value;
    }
    if (!std::isfinite(v))
      return Error::invalid("inputs." + spec.name, spec.name + " must be a finite number");
    if (v < spec.min || v > spec.max) {
      return Error::invalid("inputs." + spec.name, spec.name + " must be within " +
                                                       formatNumber(spec.min) + ".." +
                                                       formatNumber(spec.max) + " " + spec.unit);
    }
    if (spec.integer && v != std::floor(v)) {
      return Error::invalid("inputs." + spec.name, spec.name + " must be a whole number");
    }
    q.used_inputs[i] = v;
  }
  for (const auto& cap : def.caps.input_caps) {
    auto index = m.inputIndex(cap.input);
    if (!index) continue;
    double allowed = std::max(0.0, cap.per_day - usage.input_day[*index]);
    if (q.used_inputs[*index] > allowed) {
      q.used_inputs[*index] = allowed;
      q.cap = CapApplied::kInput;
      q.capped_input = *index;
    }
  }
  Slot& slot = slotFor(m);
  std::copy(q.used_inputs.begin(),
            q.used_inputs.begin() + static_cast<std::ptrdiff_t>(inputs.size()), slot.vars.begin());
  try {
    q.raw = slot.parser.Eval();
  } catch (const mu::Parser::exception_type& e) {
    return Error::invalid("formula", e.GetMsg());
  }
  if (!std::isfinite(q.raw))
    return Error::invalid("formula", "the formula's result is not a finite number");
  if (q.raw < 0)
    return Error::invalid("formula", "the formula's result is negative; a reduction cannot be");
  q.rounded = roundHalfEvenToGrams(q.raw);
  q.grams = q.rounded;
  auto limit = [&](const std::optional<std::int64_t>& cap, Grams used, CapApplied which) {
    if (!cap) return;
    Grams room = std::max(Grams(0), Grams(*cap) - used);
    if (q.grams > room) {
      q.grams = room;
      q.cap = which;
    }
  };
  limit(def.caps.per_day_grams, usage.day, CapApplied::kPerDay);
  limit(def.caps.per_month_grams, usage.month, CapApplied::kPerMonth);
  limit(def.caps.per_year_grams, usage.year, CapApplied::kPerYear);
  return q;
}

std::string CompiledMethodology::compactResult(const Quantification& q) const {
  // 17 significant digits read back as the same double.
  auto exact = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf);
  };
  std::string out = "{\"cap\":\"";
  out += toString(q.cap);
  out += "\",\"capped_input\":" + std::to_string(q.capped_input) +
         ",\"grams\":" + std::to_string(q.grams.value()) + ",\"raw\":" + exact(q.raw) +
         ",\"rounded\":" + std::to_string(q.rounded.value()) + ",\"used\":[";
  for (std::size_t i = 0; i < definition_.inputs.size(); ++i) {
    if (i) out += ',';
    out += exact(q.used_inputs[i]);
  }
  return out + "]}";
}

std::optional<Quantification> CompiledMethodology::parseCompactResult(
    const std::string& text) const {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Quantification q;
  try {
    std::string cap = j.at("cap");
    for (auto c : {CapApplied::kNone, CapApplied::kInput, CapApplied::kPerDay,
                   CapApplied::kPerMonth, CapApplied::kPerYear}) {
      if (cap == toString(c)) q.cap = c;
    }
    q.capped_input = j.at("capped_input");
    q.grams = Grams(j.at("grams").get<std::int64_t>());
    q.rounded = Grams(j.at("rounded").get<std::int64_t>());
    q.raw = j.at("raw");
    const auto& used = j.at("used");
    for (std::size_t i = 0; i < used.size() && i < q.used_inputs.size(); ++i)
      q.used_inputs[i] = used[i];
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return q;
}

nlohmann::json CompiledMethodology::explain(std::span<const double> inputs,
                                            const Quantification& q) const {
  using nlohmann::json;
  json in = json::array();
  for (std::size_t i = 0; i < definition_.inputs.size(); ++i) {
    const auto& spec = definition_.inputs[i];
    double given = i < inputs.size() ? inputs[i] : kMissingInput;
    in.push_back({{"name", spec.name},
                  {"unit", spec.unit},
                  {"value", std::isnan(given) ? json(nullptr) : json(given)},
                  {"used", q.used_inputs[i]}});
  }
  json factors = json::array();
  for (const auto& f : factors_) {
    factors.push_back({{"name", f.name},
                       {"ref", f.ref},
                       {"value", f.value},
                       {"unit", f.unit},
                       {"year", f.year},
                       {"region", f.region},
                       {"source", f.source}});
  }
  json caps = {{"applied", toString(q.cap)}};
  if (q.cap == CapApplied::kInput) caps["input"] = definition_.inputs[q.capped_input].name;
  const auto& c = definition_.caps;
  if (c.per_day_grams) caps["per_day_grams"] = *c.per_day_grams;
  if (c.per_month_grams) caps["per_month_grams"] = *c.per_month_grams;
  if (c.per_year_grams) caps["per_year_grams"] = *c.per_year_grams;
  return {{"methodology", definition_.id},
          {"version", definition_.version},
          {"scope", definition_.scope},
          {"formula", definition_.formula},
          {"unit", "g CO2e"},
          {"inputs", in},
          {"factors", factors},
          {"raw_grams", q.raw},
          {"rounded_grams", q.rounded.value()},
          {"rounding", "half to even, once"},
          {"caps", caps},
          {"grams", q.grams.value()},
          {"points_per_kg", definition_.points_per_kg}};
}

}  // namespace tph::methodology
