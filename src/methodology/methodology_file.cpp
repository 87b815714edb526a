#include "methodology/methodology_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "core/region_code.h"
#include "methodology/compiled_methodology.h"
#include "methodology/units.h"

namespace tph::methodology {

std::string LintIssue::toString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!field.empty()) out += ": " + field;
  return out + ": " + message;
}

bool isIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  int y = std::stoi(std::string(text.substr(0, 4)));
  unsigned m = std::stoul(std::string(text.substr(5, 2)));
  unsigned d = std::stoul(std::string(text.substr(8, 2)));
  return std::chrono::year_month_day{std::chrono::year(y), std::chrono::month(m),
                                     std::chrono::day(d)}
      .ok();
}

namespace {

bool isIdentifier(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_';
  });
}

bool isMethodologyId(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto dot = s.find('.', start);
    auto part =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!isIdentifier(part)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

template <class T>
bool contains(const T& list, std::string_view value) {
  return std::any_of(std::begin(list), std::end(list), [&](const auto& x) { return value == x; });
}

int lineOf(const toml::node* node) {
  return node ? static_cast<int>(node->source().begin.line) : 0;
}

std::string number(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

//! Reads fields of one TOML table, recording problems with the line they sit on.
class Reader {
 public:
  Reader(const toml::table& table, std::string prefix, std::string file,
         std::vector<LintIssue>& issues, std::map<std::string, int>* lines)
      : table_(table),
        prefix_(std::move(prefix)),
        file_(std::move(file)),
        issues_(issues),
        lines_(lines) {}

  std::string path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

  void problem(const std::string& key, const std::string& message,
               const toml::node* node = nullptr) {
    // Without a node, the line of the field itself, else of its table.
    if (!node) node = table_.get(key);
    issues_.push_back({file_, node ? lineOf(node) : lineOf(&table_), path(key), message});
  }

  const toml::node* node(const std::string& key) {
    const toml::node* n = table_.get(key);
    if (n && lines_) (*lines_)[path(key)] = lineOf(n);
    return n;
  }

  std::optional<std::string> string(const std::string& key, bool required) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) problem(key, "is required");
      return std::nullopt;
    }
    if (auto v = n->value<std::string>()) return *v;
    problem(key, "must be a string", n);
    return std::nullopt;
  }

  std::optional<double> number(const std::string& key, bool required) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) problem(key, "is required");
      return std::nullopt;
    }
    if (n->is_integer()) return static_cast<double>(*n->value<std::int64_t>());
    if (n->is_floating_point()) return *n->value<double>();
    problem(key, "must be a number", n);
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const std::string& key, bool required) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) problem(key, "is required");
      return std::nullopt;
    }
    if (auto v = n->value_exact<std::int64_t>()) return *v;
    problem(key, "must be an integer", n);
    return std::nullopt;
  }

  std::optional<bool> boolean(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (auto v = n->value_exact<bool>()) return *v;
    problem(key, "must be true or false", n);
    return std::nullopt;
  }

  //! Reports keys this reader does not know, which are usually typos.
  void refuseUnknown(std::initializer_list<const char*> known) {
    for (const auto& [key, value] : table_) {
      if (!contains(known, key.str()))
        problem(std::string(key.str()), "is not a known field", &value);
    }
  }

  int line() const { return lineOf(&table_); }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::string file_;
  std::vector<LintIssue>& issues_;
  std::map<std::string, int>* lines_;
};

void readInputs(const toml::table& root, Reader& top, MethodologyDefinition& def,
                std::vector<LintIssue>& issues, const std::string& file) {
  const toml::node* node = top.node("inputs");
  const toml::array* inputs = node ? node->as_array() : nullptr;
  if (!inputs || inputs->empty()) {
    top.problem("inputs", "needs at least one [[inputs]] entry", node);
    return;
  }
  if (inputs->size() > kMaxInputs)
    top.problem("inputs", "at most " + std::to_string(kMaxInputs) + " inputs", node);
  (void)root;
  for (std::size_t i = 0; i < inputs->size(); ++i) {
    const toml::table* t = (*inputs)[i].as_table();
    std::string prefix = "inputs[" + std::to_string(i) + "]";
    if (!t) {
      issues.push_back({file, lineOf(&(*inputs)[i]), prefix, "must be a table"});
      continue;
    }
    Reader r(*t, prefix, file, issues, &def.lines);
    r.refuseUnknown({"name", "unit", "type", "min", "max", "required", "default", "description"});
    InputSpec in;
    in.name = r.string("name", true).value_or("");
    if (!in.name.empty() && !isIdentifier(in.name)) r.problem("name", "must be [a-z][a-z0-9_]*");
    in.unit = r.string("unit", true).value_or("");
    if (!in.unit.empty()) {
      if (auto u = parseUnit(in.unit); !u) r.problem("unit", u.error().message);
    }
    auto type = r.string("type", true).value_or("number");
    if (type != "number" && type != "integer") r.problem("type", "must be number or integer");
    in.integer = type == "integer";
    auto min = r.number("min", true), max = r.number("max", true);
    in.min = min.value_or(0);
    in.max = max.value_or(0);
    if (min && max && *min > *max)
      r.problem("min", "min " + number(*min) + " is above max " + number(*max));
    if (in.integer && ((min && std::floor(*min) != *min) || (max && std::floor(*max) != *max))) {
      r.problem("min", "an integer input needs integer bounds");
    }
    in.required = r.boolean("required").value_or(true);
    auto def_value = r.number("default", false);
    if (!in.required) {
      if (!def_value) {
        r.problem("default", "an optional input needs a default");
      } else if (*def_value < in.min || *def_value > in.max) {
        r.problem("default", "the default lies outside min..max");
      }
      in.default_value = def_value.value_or(0);
    }
    in.description = r.string("description", true).value_or("");
    for (const auto& other : def.inputs) {
      if (other.name == in.name) r.problem("name", "input '" + in.name + "' is declared twice");
    }
    def.inputs.push_back(std::move(in));
  }
}

void readFactors(Reader& top, MethodologyDefinition& def, std::vector<LintIssue>& issues,
                 const std::string& file) {
  const toml::node* node = top.node("factors");
  if (!node) return;  // a formula may need no factor (rare, but e.g. a direct measurement)
  const toml::table* table = node->as_table();
  if (!table) {
    top.problem("factors", "must be a table of name = { ref, unit }", node);
    return;
  }
  for (const auto& [key, value] : *table) {
    std::string name(key.str());
    std::string prefix = "factors." + name;
    const toml::table* t = value.as_table();
    if (!t) {
      issues.push_back({file, lineOf(&value), prefix, "must be { ref = \"...\", unit = \"...\" }"});
      continue;
    }
    Reader r(*t, prefix, file, issues, &def.lines);
    r.refuseUnknown({"ref", "unit"});
    def.lines[prefix] = lineOf(&value);
    FactorUse use{name, r.string("ref", true).value_or(""), r.string("unit", true).value_or("")};
    if (!isIdentifier(std::string(1, static_cast<char>(std::tolower(name[0])))) ||
        !std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; })) {
      issues.push_back({file, lineOf(&value), prefix, "factor names are letters, digits and '_'"});
    }
    if (!use.unit.empty()) {
      if (auto u = parseUnit(use.unit); !u) r.problem("unit", u.error().message);
    }
    def.factors.push_back(std::move(use));
  }
  if (def.factors.size() > kMaxFactors)
    top.problem("factors", "at most " + std::to_string(kMaxFactors) + " factors", node);
}

void readCaps(Reader& top, MethodologyDefinition& def, std::vector<LintIssue>& issues,
              const std::string& file) {
  const toml::node* node = top.node("caps");
  if (!node) return;
  const toml::table* table = node->as_table();
  if (!table) {
    top.problem("caps", "must be a table", node);
    return;
  }
  Reader r(*table, "caps", file, issues, &def.lines);
  r.refuseUnknown({"per_day_grams", "per_month_grams", "per_year_grams", "keep", "input_caps"});
  auto positive = [&](const char* key) -> std::optional<std::int64_t> {
    auto v = r.integer(key, false);
    if (v && *v <= 0) {
      r.problem(key, "must be a positive number of grams");
      return std::nullopt;
    }
    return v;
  };
  def.caps.per_day_grams = positive("per_day_grams");
  def.caps.per_month_grams = positive("per_month_grams");
  def.caps.per_year_grams = positive("per_year_grams");
  def.caps.keep = r.string("keep", false).value_or("earliest");
  if (def.caps.keep != "earliest")
    r.problem("keep", "only \"earliest\" is supported: caps keep the earliest records");
  if (const toml::node* caps_node = r.node("input_caps")) {
    const toml::array* list = caps_node->as_array();
    if (!list) {
      r.problem("input_caps", "must be an array of { input, per_day }", caps_node);
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      std::string prefix = "caps.input_caps[" + std::to_string(i) + "]";
      if (!t) {
        issues.push_back({file, lineOf(&(*list)[i]), prefix, "must be { input, per_day }"});
        continue;
      }
      Reader c(*t, prefix, file, issues, &def.lines);
      c.refuseUnknown({"input", "per_day"});
      InputCap cap{c.string("input", true).value_or(""), c.number("per_day", true).value_or(0)};
      if (cap.per_day <= 0) c.problem("per_day", "must be positive");
      def.caps.input_caps.push_back(std::move(cap));
    }
  }
}

void readExamples(Reader& top, MethodologyDefinition& def, std::vector<LintIssue>& issues,
                  const std::string& file) {
  const toml::node* node = top.node("examples");
  const toml::array* list = node ? node->as_array() : nullptr;
  if (!list || list->empty()) {
    top.problem("examples", "needs at least one [[examples]] worked example", node);
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const toml::table* t = (*list)[i].as_table();
    std::string prefix = "examples[" + std::to_string(i) + "]";
    if (!t) {
      issues.push_back({file, lineOf(&(*list)[i]), prefix, "must be a table"});
      continue;
    }
    Reader r(*t, prefix, file, issues, &def.lines);
    r.refuseUnknown({"inputs", "grams", "note"});
    WorkedExample ex;
    ex.line = r.line();
    ex.grams = r.integer("grams", true).value_or(-1);
    ex.note = r.string("note", false).value_or("");
    const toml::node* in = r.node("inputs");
    const toml::table* inputs = in ? in->as_table() : nullptr;
    if (!inputs) {
      r.problem("inputs", "must be a table of input = value", in);
      continue;
    }
    for (const auto& [key, value] : *inputs) {
      if (value.is_integer()) {
        ex.inputs[std::string(key.str())] = static_cast<double>(*value.value<std::int64_t>());
      } else if (value.is_floating_point()) {
        ex.inputs[std::string(key.str())] = *value.value<double>();
      } else {
        issues.push_back({file, lineOf(&value), prefix + ".inputs." + std::string(key.str()),
                          "must be a number"});
      }
    }
    def.examples.push_back(std::move(ex));
  }
}

}  // namespace

ParsedMethodology parseMethodology(std::string_view text, const std::string& file) {
  ParsedMethodology out;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    out.issues.push_back(
        {file, static_cast<int>(e.source().begin.line), "", std::string(e.description())});
    return out;
  }
  MethodologyDefinition def;
  Reader r(root, "", file, out.issues, &def.lines);
  r.refuseUnknown({"id", "version", "name_zh", "name_en", "description_zh", "description_en",
                   "domain", "subjects", "scope", "effective_from", "effective_until",
                   "points_per_kg", "formula", "inputs", "factors", "caps", "examples"});
  def.id = r.string("id", true).value_or("");
  if (!def.id.empty() && !isMethodologyId(def.id)) {
    r.problem("id", "must be lower-case words joined by '.', like travel.metro");
  }
  auto version = r.integer("version", true);
  if (version && (*version < 1 || *version > 1'000'000))
    r.problem("version", "must be a positive integer");
  def.version = static_cast<int>(version.value_or(0));
  def.name_zh = r.string("name_zh", true).value_or("");
  def.name_en = r.string("name_en", true).value_or("");
  def.description_zh = r.string("description_zh", false).value_or("");
  def.description_en = r.string("description_en", false).value_or("");
  def.domain = r.string("domain", true).value_or("");
  if (!def.domain.empty() && !contains(kDomains, def.domain)) {
    r.problem(
        "domain",
        "unknown domain '" + def.domain +
            "' (electricity, water, gas, travel, nev, waste, carbon_sink, energy, consumption)");
  }
  if (const toml::node* subjects = r.node("subjects")) {
    const toml::array* list = subjects->as_array();
    if (!list || list->empty()) {
      r.problem("subjects", "must list person, household and/or enterprise", subjects);
    } else {
      for (const auto& s : *list) {
        auto value = s.value<std::string>();
        if (!value || !contains(kSubjects, *value)) {
          r.problem("subjects", "each subject is person, household or enterprise", &s);
        } else {
          def.subjects.push_back(*value);
        }
      }
    }
  } else {
    r.problem("subjects", "is required");
  }
  def.scope = r.string("scope", true).value_or("");
  if (!def.scope.empty() && !isRegionCode(def.scope))
    r.problem("scope", "must be a six-digit GB/T 2260 code");
  def.effective_from = r.string("effective_from", true).value_or("");
  if (!def.effective_from.empty() && !isIsoDate(def.effective_from))
    r.problem("effective_from", "must be YYYY-MM-DD");
  def.effective_until = r.string("effective_until", false).value_or("");
  if (!def.effective_until.empty() && !isIsoDate(def.effective_until)) {
    r.problem("effective_until", "must be YYYY-MM-DD");
  } else if (!def.effective_until.empty() && def.effective_until < def.effective_from) {
    r.problem("effective_until", "ends before effective_from");
  }
  auto points = r.integer("points_per_kg", true);
  if (points && (*points < 0 || *points > 1'000'000))
    r.problem("points_per_kg", "must be 0-1000000");
  def.points_per_kg = points.value_or(0);
  def.formula = r.string("formula", true).value_or("");
  if (def.formula.size() > kMaxFormulaBytes) r.problem("formula", "is longer than 2000 characters");
  readInputs(root, r, def, out.issues, file);
  readFactors(r, def, out.issues, file);
  readCaps(r, def, out.issues, file);
  readExamples(r, def, out.issues, file);
  out.definition = std::move(def);
  return out;
}

ParsedFactors parseFactorLibrary(std::string_view text, const std::string& file) {
  ParsedFactors out;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    out.issues.push_back(
        {file, static_cast<int>(e.source().begin.line), "", std::string(e.description())});
    return out;
  }
  const toml::table* factors = root["factors"].as_table();
  if (!factors) {
    out.issues.push_back({file, 0, "factors", "the file has no [factors.\"key\"] tables"});
    return out;
  }
  for (const auto& [key, value] : *factors) {
    std::string name(key.str());
    const toml::table* t = value.as_table();
    std::string prefix = "factors." + name;
    if (!t) {
      out.issues.push_back({file, lineOf(&value), prefix, "must be a table"});
      continue;
    }
    Reader r(*t, prefix, file, out.issues, nullptr);
    r.refuseUnknown({"value", "unit", "year", "region", "source", "source_kind", "note"});
    EmissionFactor f;
    f.key = name;
    f.line = lineOf(&value);
    auto v = r.number("value", true);
    f.value = v.value_or(0);
    if (v && (!std::isfinite(*v) || *v < 0))
      r.problem("value", "must be a finite, non-negative number");
    f.unit = r.string("unit", true).value_or("");
    if (!f.unit.empty()) {
      if (auto u = parseUnit(f.unit); !u) r.problem("unit", u.error().message);
    }
    f.year = static_cast<int>(r.integer("year", true).value_or(0));
    f.region = r.string("region", true).value_or("");
    f.source = r.string("source", true).value_or("");
    if (t->get("source") && f.source.empty())
      r.problem("source", "must cite where the value comes from");
    f.source_kind = r.string("source_kind", true).value_or("");
    if (!f.source_kind.empty() && f.source_kind != "chinese_published" &&
        f.source_kind != "chinese_derived" && f.source_kind != "international_default") {
      r.problem("source_kind",
                "must be chinese_published, chinese_derived or international_default");
    }
    f.note = r.string("note", false).value_or("");
    out.factors[name] = std::move(f);
  }
  return out;
}

std::vector<LintIssue> lintMethodology(const MethodologyDefinition& def,
                                       const FactorLibrary& library, const std::string& file) {
  std::vector<LintIssue> issues;
  auto line = [&](const std::string& field) {
    auto it = def.lines.find(field);
    return it == def.lines.end() ? 0 : it->second;
  };
  auto problem = [&](const std::string& field, const std::string& message) {
    issues.push_back({file, line(field), field, message});
  };

  std::map<std::string, Unit> units;
  for (std::size_t i = 0; i < def.inputs.size(); ++i) {
    if (auto u = parseUnit(def.inputs[i].unit)) units[def.inputs[i].name] = *u;
  }
  std::map<std::string, double> factor_values;
  for (const auto& use : def.factors) {
    std::string field = "factors." + use.name;
    if (units.count(use.name)) problem(field, "'" + use.name + "' is both an input and a factor");
    auto it = library.find(use.ref);
    if (it == library.end()) {
      problem(field, "factor '" + use.ref + "' is not in the emission factor library");
      continue;
    }
    const EmissionFactor& f = it->second;
    if (f.source.empty())
      problem(field, "factor '" + use.ref + "' has no source citation in the library");
    auto expected = parseUnit(use.unit), actual = parseUnit(f.unit);
    if (expected && actual && *expected != *actual) {
      problem(field,
              "expects " + use.unit + " but the library's '" + use.ref + "' is in " + f.unit);
    }
    if (expected) units[use.name] = *expected;
    factor_values[use.name] = f.value;
  }
  for (const auto& cap : def.caps.input_caps) {
    bool known = std::any_of(def.inputs.begin(), def.inputs.end(),
                             [&](const InputSpec& in) { return in.name == cap.input; });
    if (!known) problem("caps.input_caps", "caps unknown input '" + cap.input + "'");
  }
  if (def.formula.empty()) return issues;

  // Variables: every name in the formula known, every input and factor used.
  std::set<std::string> used;
  for (std::size_t i = 0; i < def.formula.size();) {
    unsigned char c = def.formula[i];
    if (std::isalpha(c) || c == '_') {
      std::size_t start = i;
      while (i < def.formula.size() &&
             (std::isalnum(static_cast<unsigned char>(def.formula[i])) || def.formula[i] == '_'))
        ++i;
      std::size_t after = i;
      while (after < def.formula.size() && def.formula[after] == ' ') ++after;
      if (after >= def.formula.size() || def.formula[after] != '(')
        used.insert(def.formula.substr(start, i - start));
    } else if (std::isdigit(c) || c == '.') {
      while (i < def.formula.size() &&
             (std::isalnum(static_cast<unsigned char>(def.formula[i])) || def.formula[i] == '.'))
        ++i;
    } else {
      ++i;
    }
  }
  bool all_known = true;
  for (const auto& name : used) {
    bool known = units.count(name) ||
                 std::any_of(def.inputs.begin(), def.inputs.end(),
                             [&](const InputSpec& in) { return in.name == name; }) ||
                 std::any_of(def.factors.begin(), def.factors.end(),
                             [&](const FactorUse& f) { return f.name == name; });
    if (!known) problem("formula", "unknown variable '" + name + "'");
    all_known = all_known && known;
  }
  for (const auto& in : def.inputs) {
    if (!used.count(in.name))
      problem("inputs", "input '" + in.name + "' is not used by the formula");
  }
  for (const auto& f : def.factors) {
    if (!used.count(f.name))
      problem("factors." + f.name, "factor '" + f.name + "' is not used by the formula");
  }

  auto unit = formulaUnit(def.formula, units);
  if (!all_known) {
    // Already reported; the unit check would only say it again.
  } else if (!unit) {
    problem("formula", unit.error().message);
  } else if (*unit != Unit{{"g", 1}}) {
    problem("formula", "the formula gives " + formatUnit(*unit) + ", not g (grams CO2e)");
  }

  if (!issues.empty()) return issues;
  std::vector<ResolvedFactor> resolved;
  for (const auto& use : def.factors) {
    const EmissionFactor& f = library.at(use.ref);
    resolved.push_back({use.name, use.ref, f.value, f.unit, f.source, f.year, f.region});
  }
  auto compiled = CompiledMethodology::compile(def, resolved);
  if (!compiled) {
    problem("formula", compiled.error().message);
    return issues;
  }
  Evaluator evaluator;
  for (std::size_t i = 0; i < def.examples.size(); ++i) {
    const auto& ex = def.examples[i];
    std::string field = "examples[" + std::to_string(i) + "]";
    std::array<double, kMaxInputs> values{};
    bool complete = true;
    for (const auto& entry : ex.inputs) {
      if (!(*compiled)->inputIndex(entry.first)) {
        issues.push_back({file, ex.line, field, "names unknown input '" + entry.first + "'"});
        complete = false;
      }
    }
    for (std::size_t k = 0; k < def.inputs.size(); ++k) {
      auto it = ex.inputs.find(def.inputs[k].name);
      values[k] = it == ex.inputs.end() ? kMissingInput : it->second;
    }
    if (!complete) continue;
    auto result =
        evaluator.quantify(**compiled, std::span<const double>(values.data(), def.inputs.size()));
    if (!result) {
      issues.push_back({file, ex.line, field, "fails: " + result.error().message});
    } else if (result->grams.value() != ex.grams) {
      issues.push_back({file, ex.line, field,
                        "gives " + std::to_string(result->grams.value()) + " g, the file says " +
                            std::to_string(ex.grams) + " g"});
    }
  }
  return issues;
}

std::vector<LintIssue> lintOverlaps(const std::vector<VersionWindow>& versions) {
  std::vector<LintIssue> issues;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    for (std::size_t j = i + 1; j < versions.size(); ++j) {
      const auto& a = versions[i];
      const auto& b = versions[j];
      if (a.id != b.id) continue;
      if (a.version == b.version) {
        issues.push_back({b.file, 0, "version",
                          a.id + " version " + std::to_string(a.version) +
                              " is defined twice (also in " + a.file + ")"});
        continue;
      }
      if (a.scope != b.scope) continue;
      bool a_before_b = !a.effective_until.empty() && a.effective_until < b.effective_from;
      bool b_before_a = !b.effective_until.empty() && b.effective_until < a.effective_from;
      if (!a_before_b && !b_before_a) {
        issues.push_back({b.file, 0, "effective_from",
                          a.id + " versions " + std::to_string(a.version) + " and " +
                              std::to_string(b.version) + " overlap in time for scope " + a.scope});
      }
    }
  }
  return issues;
}

}  // namespace tph::methodology
