// The methodology file format, lint, units and evaluation, without a database.

#include <gtest/gtest.h>

#include "methodology/catalog.h"
#include "methodology/compiled_methodology.h"
#include "methodology/methodology_file.h"
#include "methodology/units.h"

namespace tph::methodology {
namespace {

const char* kFactors = R"toml(
[factors."travel.metro.reduction_per_pkm"]
value = 46.7
unit = "g/km"
year = 2021
region = "440300"
source = "Shenzhen low-carbon public travel methodology (2021)"
source_kind = "chinese_published"

[factors."grid.southern.2023"]
value = 404.2
unit = "g/kWh"
year = 2023
region = "000000"
source = "MEE and NBS electricity CO2 emission factors, 2023"
source_kind = "chinese_published"

[factors."unsourced"]
value = 1.0
unit = "g/km"
year = 2020
region = "000000"
source = ""
source_kind = "chinese_published"
)toml";

std::string metro(
    const std::string& overrides = "", const std::string& formula = "distance_km * EF_metro",
    const std::string& examples = "[[examples]]\ninputs = { distance_km = 10 }\ngrams = 467\n") {
  return R"toml(id = "travel.metro"
version = 1
name_zh = "地铁出行"
name_en = "Metro travel"
domain = "travel"
subjects = ["person"]
scope = "440000"
effective_from = "2022-05-06"
points_per_kg = 10
formula = ")toml" +
         formula + R"toml("
)toml" + overrides +
         R"toml(
[[inputs]]
name = "distance_km"
unit = "km"
type = "number"
min = 0
max = 200
description = "Distance by metro."

[factors]
EF_metro = { ref = "travel.metro.reduction_per_pkm", unit = "g/km" }

[caps]
per_day_grams = 3000
input_caps = [ { input = "distance_km", per_day = 120 } ]

)toml" + examples;
}

FactorLibrary library() {
  auto parsed = parseFactorLibrary(kFactors, "factors.toml");
  EXPECT_EQ(parsed.issues.size(), 1u);  // the unsourced one
  return parsed.factors;
}

std::vector<LintIssue> lintText(const std::string& text) {
  auto parsed = parseMethodology(text, "m.toml");
  if (!parsed.definition) return parsed.issues;
  auto issues = lintMethodology(*parsed.definition, library(), "m.toml");
  parsed.issues.insert(parsed.issues.end(), issues.begin(), issues.end());
  return parsed.issues;
}

bool mentions(const std::vector<LintIssue>& issues, const std::string& field,
              const std::string& words) {
  for (const auto& i : issues) {
    if (i.field == field && i.message.find(words) != std::string::npos && i.line > 0 &&
        i.file == "m.toml")
      return true;
  }
  return false;
}

std::string dump(const std::vector<LintIssue>& issues) {
  std::string out;
  for (const auto& i : issues) out += i.toString() + "\n";
  return out;
}

TEST(Units, ParseAndCombine) {
  EXPECT_EQ(*parseUnit("g/km"), (Unit{{"g", 1}, {"km", -1}}));
  EXPECT_EQ(*parseUnit("g/(trees*year)"), (Unit{{"g", 1}, {"trees", -1}, {"year", -1}}));
  EXPECT_FALSE(parseUnit("furlongs").ok());
  std::map<std::string, Unit> vars = {
      {"b", {{"kWh", 1}}}, {"a", {{"kWh", 1}}}, {"ef", *parseUnit("g/kWh")}, {"d", {{"km", 1}}}};
  EXPECT_EQ(*formulaUnit("max(0, b - a) * ef", vars), (Unit{{"g", 1}}));
  auto mixed = formulaUnit("b + d", vars);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("mixes kWh with km"), std::string::npos);
  EXPECT_FALSE(formulaUnit("b * ", vars).ok());
  EXPECT_FALSE(formulaUnit("nope(b)", vars).ok());
}

TEST(Lint, ACorrectFileHasNoIssues) {
  auto issues = lintText(metro());
  EXPECT_TRUE(issues.empty()) << dump(issues);
}

TEST(Lint, UnknownVariable) {
  EXPECT_TRUE(mentions(lintText(metro("", "distance_km * EF_metro * bonus")), "formula",
                       "unknown variable 'bonus'"));
}

TEST(Lint, SyntaxError) {
  auto issues = lintText(metro("", "distance_km * (EF_metro"));
  EXPECT_TRUE(mentions(issues, "formula", "missing ')'")) << dump(issues);
}

TEST(Lint, MissingFactorAndMissingSource) {
  auto missing = metro();
  missing.replace(missing.find("travel.metro.reduction_per_pkm"), 30,
                  "travel.metro.nonexistent_factor");
  EXPECT_TRUE(
      mentions(lintText(missing), "factors.EF_metro", "not in the emission factor library"));
  auto unsourced = metro();
  unsourced.replace(unsourced.find("travel.metro.reduction_per_pkm"), 30, "unsourced");
  EXPECT_TRUE(mentions(lintText(unsourced), "factors.EF_metro", "no source"));
  auto factors = parseFactorLibrary(kFactors, "factors.toml");
  ASSERT_EQ(factors.issues.size(), 1u);
  EXPECT_EQ(factors.issues[0].field, "factors.unsourced.source");
}

TEST(Lint, InconsistentUnits) {
  auto wrong_expectation = metro();
  wrong_expectation.replace(wrong_expectation.find("unit = \"g/km\" }"), 15, "unit = \"g/kWh\" }");
  auto issues = lintText(wrong_expectation);
  EXPECT_TRUE(mentions(issues, "factors.EF_metro", "but the library's")) << dump(issues);
  EXPECT_TRUE(
      mentions(lintText(metro("", "distance_km * EF_metro / distance_km")), "formula", "not g"));
  EXPECT_TRUE(mentions(lintText(metro("", "distance_km + EF_metro")), "formula", "mixes"));
}

TEST(Lint, MinAboveMax) {
  auto text = metro();
  text.replace(text.find("max = 200"), 9, "max = -1");
  EXPECT_TRUE(mentions(lintText(text), "inputs[0].min", "above max"));
}

TEST(Lint, FailingWorkedExample) {
  auto issues = lintText(metro("", "distance_km * EF_metro",
                               "[[examples]]\ninputs = { distance_km = 10 }\ngrams = 466\n"));
  EXPECT_TRUE(mentions(issues, "examples[0]", "gives 467 g, the file says 466 g")) << dump(issues);
  EXPECT_TRUE(
      mentions(lintText(metro("", "distance_km * EF_metro", "")), "examples", "at least one"));
}

TEST(Lint, UnknownFieldsAndBadValues) {
  auto issues = lintText(metro("colour = \"green\"\n"));
  EXPECT_TRUE(mentions(issues, "colour", "not a known field"));
  auto bad_domain = metro();
  bad_domain.replace(bad_domain.find("\"travel\""), 8, "\"magic\"");
  EXPECT_TRUE(mentions(lintText(bad_domain), "domain", "unknown domain"));
  auto broken = lintText("id = [");
  ASSERT_FALSE(broken.empty());
  EXPECT_EQ(broken[0].line, 1);
}

TEST(Lint, OverlappingVersions) {
  std::vector<VersionWindow> windows = {{"travel.metro", 1, "440000", "2022-01-01", "", "a.toml"},
                                        {"travel.metro", 2, "440000", "2024-01-01", "", "b.toml"},
                                        {"travel.metro", 3, "440300", "2024-01-01", "", "c.toml"}};
  auto issues = lintOverlaps(windows);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("versions 1 and 2 overlap"), std::string::npos);
  windows[0].effective_until = "2023-12-31";
  EXPECT_TRUE(lintOverlaps(windows).empty());
}

std::shared_ptr<const CompiledMethodology> compileText(const std::string& text) {
  auto parsed = parseMethodology(text, "m.toml");
  EXPECT_TRUE(parsed.definition);
  std::vector<ResolvedFactor> factors;
  auto lib = library();
  for (const auto& use : parsed.definition->factors) {
    const auto& f = lib.at(use.ref);
    factors.push_back({use.name, use.ref, f.value, f.unit, f.source, f.year, f.region});
  }
  auto compiled = CompiledMethodology::compile(*parsed.definition, factors);
  EXPECT_TRUE(compiled.ok());
  return *compiled;
}

TEST(Evaluate, RoundsOnceHalfToEven) {
  auto m = compileText(metro());
  Evaluator e;
  double km = 10;
  auto q = e.quantify(*m, {&km, 1});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->grams, Grams(467));
  EXPECT_DOUBLE_EQ(q->raw, 467.0);
  auto halves = compileText(metro("", "distance_km * 0.5 + EF_metro * 0"));
  for (auto [in, out] : {std::pair{1.0, 0}, {3.0, 2}, {5.0, 2}, {7.0, 4}}) {
    EXPECT_EQ(e.quantify(*halves, {&in, 1})->grams, Grams(out)) << in;
  }
}

TEST(Evaluate, NegativeNanAndOutOfRangeAreErrors) {
  auto negative = compileText(metro("", "(0 - distance_km) * EF_metro"));
  Evaluator e;
  double km = 5;
  auto q = e.quantify(*negative, {&km, 1});
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("negative"), std::string::npos);
  auto nan = compileText(metro("", "sqrt(0 - distance_km) * EF_metro"));
  EXPECT_FALSE(e.quantify(*nan, {&km, 1}).ok());
  auto m = compileText(metro());
  double too_far = 201;
  auto range = e.quantify(*m, {&too_far, 1});
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.error().field, "inputs.distance_km");
  double missing = kMissingInput;
  EXPECT_EQ(e.quantify(*m, {&missing, 1}).error().field, "inputs.distance_km");
}

TEST(Evaluate, CapsCutAndSayWhich) {
  auto m = compileText(metro());
  Evaluator e;
  double km = 100;  // 4670 g, above the 3000 g day cap
  auto q = e.quantify(*m, {&km, 1});
  EXPECT_EQ(q->grams, Grams(3000));
  EXPECT_EQ(q->rounded, Grams(4670));
  EXPECT_EQ(q->cap, CapApplied::kPerDay);
  CapUsage used;
  used.day = Grams(2900);
  EXPECT_EQ(e.quantify(*m, {&km, 1}, used)->grams, Grams(100));
  CapUsage distance;
  distance.input_day[0] = 110;  // 10 km left of the 120 km a day
  auto cut = e.quantify(*m, {&km, 1}, distance);
  EXPECT_EQ(cut->grams, Grams(467));
  EXPECT_EQ(cut->cap, CapApplied::kInput);
  auto explanation = m->explain({&km, 1}, *cut);
  EXPECT_EQ(explanation["caps"]["applied"], "input_per_day");
  EXPECT_EQ(explanation["caps"]["input"], "distance_km");
  EXPECT_EQ(explanation["factors"][0]["source"],
            "Shenzhen low-carbon public travel methodology (2021)");
  EXPECT_EQ(explanation["inputs"][0]["used"], 10.0);
  EXPECT_EQ(explanation["grams"], 467);
}

TEST(Catalog, PicksTheVersionInForceLocalBeforeProvincial) {
  auto v1 = std::const_pointer_cast<CompiledMethodology>(
      compileText(metro("effective_until = \"2023-12-31\"\n")));
  auto v2text = metro();
  v2text.replace(v2text.find("version = 1"), 11, "version = 2");
  v2text.replace(v2text.find("2022-05-06"), 10, "2024-01-01");
  auto v2 = compileText(v2text);
  auto local_text = metro();
  local_text.replace(local_text.find("version = 1"), 11, "version = 3");
  local_text.replace(local_text.find("scope = \"440000\""), 16, "scope = \"440300\"");
  auto local = compileText(local_text);
  Catalog catalog({v1, v2, local});
  EXPECT_EQ(catalog.select("travel.metro", "2023-06-01", "440100")->definition().version, 1);
  EXPECT_EQ(catalog.select("travel.metro", "2024-06-01", "440100")->definition().version, 2);
  EXPECT_EQ(catalog.select("travel.metro", "2024-06-01", "440305")->definition().version, 3);
  EXPECT_EQ(catalog.select("travel.metro", "2022-01-01", "440100"), nullptr);
  EXPECT_EQ(catalog.select("travel.bus", "2024-06-01", "440100"), nullptr);
  EXPECT_EQ(catalog.find("travel.metro", 1)->definition().version, 1);
}

}  // namespace
}  // namespace tph::methodology
