// Records quantified per second on one core, over a mix of the shipped methodologies, as the
// ingest path runs them: version already selected, inputs in declaration order, caps applied.
// Target: at least 2 million records per second per core.
//
//   quantify_bench [--data-dir DIR] [benchmark flags]

#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "methodology/catalog.h"
#include "methodology/compiled_methodology.h"
#include "methodology/methodology_file.h"

namespace {

using namespace tph;
using namespace tph::methodology;

std::string data_dir = TPH_SOURCE_DIR "/data";

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Library {
  std::vector<std::shared_ptr<const CompiledMethodology>> versions;
  std::unique_ptr<Catalog> catalog;
};

const Library& library() {
  static Library lib = [] {
    Library l;
    auto factors = parseFactorLibrary(readFile(data_dir + "/emission_factors.toml"), "factors");
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/methodologies")) {
      auto parsed = parseMethodology(readFile(entry.path()), entry.path().string());
      if (!parsed.definition) continue;
      std::vector<ResolvedFactor> resolved;
      for (const auto& use : parsed.definition->factors) {
        const auto& f = factors.factors.at(use.ref);
        resolved.push_back({use.name, use.ref, f.value, f.unit, f.source, f.year, f.region});
      }
      auto compiled = CompiledMethodology::compile(*parsed.definition, resolved);
      if (compiled) l.versions.push_back(*compiled);
    }
    l.catalog = std::make_unique<Catalog>(l.versions);
    return l;
  }();
  return lib;
}

struct Record {
  const CompiledMethodology* methodology;
  std::array<double, kMaxInputs> inputs;
};

//! A seeded mix: every shipped methodology, inputs drawn within each input's range.
std::vector<Record> makeRecords(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Record> records;
  const auto& versions = library().versions;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& m = *versions[i % versions.size()];
    Record r{&m, {}};
    for (std::size_t k = 0; k < m.definition().inputs.size(); ++k) {
      const auto& spec = m.definition().inputs[k];
      // Stay in the lower tenth of the range, where real records are, and keep savings positive.
      std::uniform_real_distribution<double> pick(spec.min, spec.min + (spec.max - spec.min) / 10);
      double v = pick(rng);
      r.inputs[k] = spec.integer ? std::floor(v) : v;
    }
    records.push_back(r);
  }
  return records;
}

void BM_QuantifyMix(benchmark::State& state) {
  auto records = makeRecords(65536, 20261128);
  Evaluator evaluator;
  std::size_t i = 0, failures = 0;
  std::int64_t grams = 0;
  for (auto _ : state) {
    const Record& r = records[i++ & 65535];
    auto q = evaluator.quantify(*r.methodology,
                                {r.inputs.data(), r.methodology->definition().inputs.size()});
    if (q) {
      grams += q->grams.value();
    } else {
      ++failures;
    }
  }
  benchmark::DoNotOptimize(grams);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["methodologies"] = static_cast<double>(library().versions.size());
  state.counters["failed_share"] =
      static_cast<double>(failures) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_QuantifyMix);

void BM_QuantifyMixWithCapUsage(benchmark::State& state) {
  auto records = makeRecords(65536, 7);
  Evaluator evaluator;
  CapUsage usage;
  usage.day = Grams(1000);
  usage.month = Grams(20000);
  usage.input_day.fill(5);
  std::size_t i = 0;
  for (auto _ : state) {
    const Record& r = records[i++ & 65535];
    benchmark::DoNotOptimize(evaluator.quantify(
        *r.methodology, {r.inputs.data(), r.methodology->definition().inputs.size()}, usage));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_QuantifyMixWithCapUsage);

void BM_SelectVersion(benchmark::State& state) {
  const auto& catalog = *library().catalog;
  const char* ids[] = {"travel.metro", "travel.bus", "electricity.household_saving",
                       "travel.metro_trip"};
  std::size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(catalog.select(ids[i++ & 3], "2026-03-01", "440106"));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SelectVersion);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--data-dir") == 0) {
      data_dir = argv[i + 1];
      for (int k = i; k + 2 < argc + 0; ++k) argv[k] = argv[k + 2];
      argc -= 2;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (library().versions.empty()) {
    std::fprintf(stderr, "quantify_bench: no methodologies under %s\n", data_dir.c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
