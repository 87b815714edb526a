#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/commands.h"
#include "core/crypto.h"
#include "methodology/methodology_file.h"

namespace tph::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct GenOptions {
  long long residents = 1000;
  int days = 30;
  unsigned long long seed = 1;
  std::string out;
  std::optional<std::string> start;
  double bad_share = 0.01;
  double duplicate_share = 0.005;
};

//! A city with its share of residents, its districts and whether it has a metro.
struct City {
  const char* code;
  const char* key;
  double weight;  // roughly the resident population, millions
  bool metro;
  std::vector<const char*> districts;
};

const std::vector<City>& cities() {
  static const std::vector<City> list = {
      {"440100",
       "gz",
       18.8,
       true,
       {"440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114"}},
      {"440300", "sz", 17.7, true, {"440303", "440304", "440305", "440306", "440307", "440309"}},
      {"441900", "dg", 10.5, true, {}},
      {"440600", "fs", 9.6, true, {"440604", "440605", "440606"}},
      {"441300", "hz", 6.1, false, {}},
      {"442000", "zs", 4.4, false, {}},
      {"440700", "jm", 4.8, false, {}},
      {"440800", "zj", 7.0, false, {}},
      {"440900", "mm", 6.2, false, {}},
      {"445200", "jy", 5.6, false, {}},
      {"440500", "st", 5.5, false, {}},
      {"441200", "zq", 4.1, false, {}},
      {"441400", "mz", 3.9, false, {}},
      {"441800", "qy", 4.0, false, {}},
      {"441700", "yj", 2.6, false, {}},
      {"440200", "sg", 2.9, false, {}},
      {"441600", "hy", 2.8, false, {}},
      {"441500", "sw", 2.7, false, {}},
      {"445100", "cz", 2.6, false, {}},
      {"440400", "zh", 2.5, false, {}},
      {"445300", "yf", 2.4, false, {}},
  };
  return list;
}

struct Resident {
  std::size_t city;
  std::string region;
  bool commuter, bikes, walks, drives, recycles;
  int household;
};

//! Writes the records of one provider to its file, numbering them.
class ProviderFile {
 public:
  ProviderFile(const fs::path& dir, std::string key)
      : key_(std::move(key)), out_(dir / (key_ + ".ndjson")) {}
  std::string nextId() { return fmt::format("{}-{:08d}", key_, ++count_); }
  void write(const std::string& line) {
    out_ << line << '\n';
    ++lines_;
  }
  const std::string& key() const { return key_; }
  long long lines() const { return lines_; }
  bool ok() const { return static_cast<bool>(out_); }

 private:
  std::string key_;
  std::ofstream out_;
  long long count_ = 0, lines_ = 0;
};

int runGen(const GenOptions& o) {
  if (o.residents < 1 || o.residents > 10'000'000)
    return fail(Error::invalid("residents", "--residents is 1-10000000"));
  if (o.days < 1 || o.days > 400) return fail(Error::invalid("days", "--days is 1-400"));
  if (o.bad_share < 0 || o.bad_share > 0.5)
    return fail(Error::invalid("bad-share", "--bad-share is 0-0.5"));
  if (o.duplicate_share < 0 || o.duplicate_share > 0.5) {
    return fail(Error::invalid("duplicate-share", "--duplicate-share is 0-0.5"));
  }
  if (o.start && !methodology::isIsoDate(*o.start))
    return fail(Error::invalid("start", "--start is YYYY-MM-DD"));
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) return fail(Error::invalid("out", "cannot create " + o.out));

  using namespace std::chrono;
  SystemClock clock;
  sys_days first;
  if (o.start) {
    first = sys_days(year_month_day{year(std::stoi(o.start->substr(0, 4))),
                                    month(std::stoul(o.start->substr(5, 2))),
                                    day(std::stoul(o.start->substr(8, 2)))});
  } else {
    first = floor<days>(clock.now() + hours(8)) - days(o.days);
  }

  std::mt19937_64 rng(o.seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };

  // Providers, each with a pseudonym key derived from the seed.
  struct ProviderSpec {
    std::string key, name, kind;
    std::vector<std::string> regions, methodologies;
  };
  std::vector<ProviderSpec> specs;
  for (const auto& c : cities()) {
    if (c.metro) {
      std::vector<std::string> methods = {"travel.metro"};
      if (std::string(c.code) == "440100") methods.push_back("travel.metro_trip");
      specs.push_back({std::string(c.key) + "-metro",
                       std::string(c.key) + " metro",
                       "transit_operator",
                       {c.code},
                       methods});
    }
  }
  specs.push_back(
      {"gd-bus", "Guangdong bus operators", "transit_operator", {"440000"}, {"travel.bus"}});
  specs.push_back(
      {"gd-bikeshare", "Guangdong bike share", "bike_share", {"440000"}, {"travel.bike"}});
  specs.push_back({"gd-steps", "Guangdong health app steps", "other", {"440000"}, {"travel.walk"}});
  specs.push_back(
      {"gd-nev", "Guangdong NEV charging network", "nev_charging", {"440000"}, {"nev.driving"}});
  specs.push_back({"gd-recycler",
                   "Guangdong recyclers",
                   "recycler",
                   {"440000"},
                   {"waste.recycling.paper", "waste.recycling.plastic", "waste.recycling.metal",
                    "waste.recycling.glass", "waste.recycling.textile"}});
  specs.push_back({"gd-power",
                   "Guangdong Power Grid",
                   "power_utility",
                   {"440000"},
                   {"electricity.household_saving"}});
  specs.push_back({"gd-water",
                   "Guangdong water utilities",
                   "water_utility",
                   {"440000"},
                   {"water.household_saving"}});
  specs.push_back(
      {"gd-gas", "Guangdong gas utilities", "gas_utility", {"440000"}, {"gas.household_saving"}});
  std::map<std::string, std::string> keys;
  std::map<std::string, std::unique_ptr<ProviderFile>> files;
  json setup = {{"providers", json::array()},
                {"residents", json::array()},
                {"households", json::array()},
                {"bindings", json::array()}};
  for (const auto& p : specs) {
    keys[p.key] = hmacSha256Hex("tanpuhui-gen-" + std::to_string(o.seed), p.key);
    files[p.key] = std::make_unique<ProviderFile>(o.out, p.key);
    if (!files[p.key]->ok()) return fail(Error::invalid("out", "cannot write in " + o.out));
    setup["providers"].push_back({{"key", p.key},
                                  {"name", p.name},
                                  {"kind", p.kind},
                                  {"regions", p.regions},
                                  {"methodologies", p.methodologies},
                                  {"pseudonym_key", keys[p.key]}});
  }
  auto ref = [&](const std::string& provider, const std::string& raw) {
    return hmacSha256Hex(keys[provider], raw);
  };

  // Residents by city weight, households of one to four neighbours.
  std::vector<double> weights;
  for (const auto& c : cities()) weights.push_back(c.weight);
  std::discrete_distribution<std::size_t> city_of(weights.begin(), weights.end());
  std::vector<Resident> residents;
  residents.reserve(static_cast<std::size_t>(o.residents));
  int households = 0;
  while (static_cast<long long>(residents.size()) < o.residents) {
    // A household: one to four residents of one city.
    std::size_t city = city_of(rng);
    std::size_t size = 1 + pick(4);
    for (std::size_t k = 0; k < size && static_cast<long long>(residents.size()) < o.residents;
         ++k) {
      Resident r;
      r.city = city;
      const City& c = cities()[city];
      r.region = c.districts.empty() ? c.code : c.districts[pick(c.districts.size())];
      r.commuter = chance(0.6);
      r.bikes = chance(0.2);
      r.walks = chance(0.3);
      r.drives = chance(0.05);
      r.recycles = chance(0.2);
      r.household = households;
      residents.push_back(r);
    }
    ++households;
  }
  std::vector<std::vector<long long>> members(static_cast<std::size_t>(households));
  for (long long i = 0; i < o.residents; ++i)
    members[static_cast<std::size_t>(residents[i].household)].push_back(i);
  auto username = [](long long i) { return fmt::format("gen_r{:06d}", i + 1); };
  for (long long i = 0; i < o.residents; ++i) {
    const auto& r = residents[i];
    setup["residents"].push_back({{"username", username(i)},
                                  {"display_name", fmt::format("居民{:06d}", i + 1)},
                                  {"region", r.region}});
    const City& c = cities()[r.city];
    std::vector<std::string> bound = {"gd-bus", "gd-bikeshare", "gd-steps", "gd-nev",
                                      "gd-recycler"};
    if (c.metro) bound.push_back(std::string(c.key) + "-metro");
    for (const auto& p : bound) {
      setup["bindings"].push_back({{"provider", p},
                                   {"subject_ref", ref(p, fmt::format("person:{}", i))},
                                   {"username", username(i)}});
    }
  }
  for (int h = 0; h < households; ++h) {
    const auto& m = members[static_cast<std::size_t>(h)];
    json others = json::array();
    for (std::size_t k = 1; k < m.size() && k < 4; ++k) others.push_back(username(m[k]));
    std::string name = fmt::format("gen_h{:06d}", h + 1);
    setup["households"].push_back({{"name", name},
                                   {"admin", username(m[0])},
                                   {"members", others},
                                   {"region", residents[static_cast<std::size_t>(m[0])].region}});
    for (const char* p : {"gd-power", "gd-water", "gd-gas"}) {
      setup["bindings"].push_back({{"provider", p},
                                   {"subject_ref", ref(p, fmt::format("meter:{}", h))},
                                   {"household", name}});
    }
  }

  long long records = 0, bad = 0, duplicates = 0;
  std::vector<std::pair<ProviderFile*, std::string>> repeat_later;
  // One record: usually as it should be, sometimes broken in one of the ways providers break them.
  auto emit = [&](const std::string& provider, const std::string& subject,
                  const std::string& methodology, const std::string& at, const std::string& region,
                  const std::string& inputs) {
    ProviderFile& f = *files[provider];
    std::string m = methodology, when = at, where = region, in = inputs;
    if (chance(o.bad_share)) {
      ++bad;
      switch (pick(5)) {
        case 0:
          m = "travel.teleport";
          break;
        case 1:
          in = "{\"distance_km\":-5,\"steps\":-1,\"weight_kg\":-1,\"baseline_kwh\":-1}";
          break;
        case 2:
          when = "2099-01-01T08:00:00+08:00";
          break;
        case 3:
          where = "449999";
          break;
        default:
          in = "{}";
          break;
      }
    }
    std::string line =
        fmt::format(R"({{"provider_record_id":"{}","subject_ref":"{}","methodology":"{}",)"
                    R"("occurred_at":"{}","region":"{}","inputs":{}}})",
                    f.nextId(), subject, m, when, where, in);
    f.write(line);
    ++records;
    if (chance(o.duplicate_share)) repeat_later.emplace_back(&f, line);
  };
  auto clock_time = [&](sys_days d, int hour, int minute) {
    year_month_day ymd{d};
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:00+08:00", int(ymd.year()),
                       unsigned(ymd.month()), unsigned(ymd.day()), hour, minute);
  };
  const char* categories[] = {"paper", "plastic", "metal", "glass", "textile"};
  for (int dnum = 0; dnum < o.days; ++dnum) {
    sys_days d = first + days(dnum);
    bool is_weekday = std::chrono::weekday(d).iso_encoding() <= 5;
    bool first_of_month = year_month_day{d}.day() == std::chrono::day(1);
    for (long long i = 0; i < o.residents; ++i) {
      const auto& r = residents[static_cast<std::size_t>(i)];
      const City& c = cities()[r.city];
      std::string person = fmt::format("person:{}", i);
      if (r.commuter && is_weekday) {
        for (int hour : {8, 18}) {
          int minute = static_cast<int>(pick(50));
          if (c.metro) {
            std::string p = std::string(c.key) + "-metro";
            emit(p, ref(p, person), "travel.metro", clock_time(d, hour, minute), r.region,
                 fmt::format(R"({{"distance_km":{:.1f}}})", uniform(3, 30)));
          } else {
            emit("gd-bus", ref("gd-bus", person), "travel.bus", clock_time(d, hour, minute),
                 r.region, fmt::format(R"({{"distance_km":{:.1f}}})", uniform(2, 15)));
          }
        }
      }
      if (r.bikes) {
        emit("gd-bikeshare", ref("gd-bikeshare", person), "travel.bike",
             clock_time(d, 12, static_cast<int>(pick(50))), r.region,
             fmt::format(R"({{"distance_km":{:.1f}}})", uniform(1, 6)));
      }
      if (r.walks) {
        emit("gd-steps", ref("gd-steps", person), "travel.walk", clock_time(d, 22, 0), r.region,
             fmt::format(R"({{"steps":{}}})", 2000 + pick(12000)));
      }
      if (r.drives) {
        emit("gd-nev", ref("gd-nev", person), "nev.driving",
             clock_time(d, 9, static_cast<int>(pick(50))), r.region,
             fmt::format(R"({{"distance_km":{:.1f}}})", uniform(10, 60)));
      }
      if (r.recycles && (i + dnum) % 7 == 0) {
        emit("gd-recycler", ref("gd-recycler", person),
             std::string("waste.recycling.") + categories[pick(5)],
             clock_time(d, 10, static_cast<int>(pick(50))), r.region,
             fmt::format(R"({{"weight_kg":{:.1f}}})", uniform(0.5, 10)));
      }
    }
    if (first_of_month) {
      for (int h = 0; h < households; ++h) {
        const auto& region =
            residents[static_cast<std::size_t>(members[static_cast<std::size_t>(h)][0])].region;
        std::string meter = fmt::format("meter:{}", h);
        double kwh = uniform(150, 400), t = uniform(8, 20), m3 = uniform(10, 40);
        emit("gd-power", ref("gd-power", meter), "electricity.household_saving",
             clock_time(d, 0, 0), region,
             fmt::format(R"({{"baseline_kwh":{:.1f},"actual_kwh":{:.1f}}})", kwh,
                         kwh * uniform(0.8, 1.05)));
        emit(
            "gd-water", ref("gd-water", meter), "water.household_saving", clock_time(d, 0, 0),
            region,
            fmt::format(R"({{"baseline_t":{:.1f},"actual_t":{:.1f}}})", t, t * uniform(0.8, 1.05)));
        emit("gd-gas", ref("gd-gas", meter), "gas.household_saving", clock_time(d, 0, 0), region,
             fmt::format(R"({{"baseline_m3":{:.1f},"actual_m3":{:.1f}}})", m3,
                         m3 * uniform(0.8, 1.05)));
      }
    }
    for (auto& [file, line] : repeat_later) {
      file->write(line);
      ++duplicates;
    }
    repeat_later.clear();
  }
  std::ofstream(fs::path(o.out) / "setup.json") << setup.dump(1);
  std::printf(
      "%zu files, %lld records (%lld bad, %lld duplicates) for %lld residents in %d households\n",
      files.size(), records + duplicates, bad, duplicates, o.residents, households);
  return 0;
}

}  // namespace

void addGenCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<GenOptions>();
  auto* cmd = app.add_subcommand(
      "gen", "Write realistic provider files and their setup.json, for tests and benchmarks");
  cmd->add_option("--residents", options->residents, "residents to generate (1-10000000)")
      ->required();
  cmd->add_option("--days", options->days, "days of behaviour (1-400)")->required();
  cmd->add_option("--seed", options->seed, "random seed: the same seed writes the same files");
  cmd->add_option("--out", options->out, "folder to write into")->required();
  cmd->add_option("--start", options->start, "first day YYYY-MM-DD (default: --days before today)");
  cmd->add_option("--bad-share", options->bad_share, "share of broken records (default 0.01)");
  cmd->add_option("--duplicate-share", options->duplicate_share,
                  "share of records sent twice (default 0.005)");
  cmd->callback([options, &exit_code] { exit_code = runGen(*options); });
}

}  // namespace tph::cli
