// `tanpuhui gen`: synthetic provider files for Guangdong's 21 cities and the setup.json they need
// (docs/ingest.md), for tests, demos and the ingest benchmark.
//
// Memory stays flat whatever --residents and --days are: nothing is kept per resident or per
// record. A resident's traits (city, district, household, habits) are a pure function of the seed
// and the resident's number, so any resident can be recomputed at any time; each day is written
// in two passes over the residents (morning and daytime, then evening and night), and each pass
// hands out times in the order it visits residents, which keeps every file in time order without
// sorting. The pass starts at a random resident each day so nobody is always first on the train.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cli/commands.h"
#include "core/crypto.h"
#include "methodology/methodology_file.h"

namespace tph::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct GenOptions {
  long long residents = 0;
  int days = 0;
  std::uint64_t seed = 1;
  std::string out;
  std::optional<std::string> start;
  double bad_share = 0.01;
  double duplicate_share = 0.005;
};

// ---------------------------------------------------------------------------------------------
// Randomness. Sequential choices (what happens today, distances, broken records) come from a
// std::mt19937_64 per day and pass, seeded from --seed. Traits that must be recomputable for any
// resident at any moment come from a keyed splitmix64 hash, since seeding a Mersenne twister per
// resident would cost more than writing the resident's records.

constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double toUnit(std::uint64_t x) {
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

//! Uniform, normal and log-normal draws from any 64-bit source.
template <class Next>
class Draws {
 public:
  explicit Draws(Next next) : next_(std::move(next)) {}
  double unit() { return toUnit(next_()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  bool chance(double p) { return unit() < p; }
  std::size_t index(std::size_t n) { return std::min(static_cast<std::size_t>(unit() * n), n - 1); }
  double normal() {
    double u = 1.0 - unit();  // (0, 1], so the logarithm is finite
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * unit());
  }
  //! Log-normal around `median`, clamped to [lo, hi].
  double around(double median, double sigma, double lo, double hi) {
    return std::clamp(median * std::exp(sigma * normal()), lo, hi);
  }
  //! A weighted pick.
  template <class Weights>
  std::size_t pick(const Weights& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = unit() * total;
    std::size_t k = 0;
    for (double w : weights) {
      if (x < w) return k;
      x -= w;
      ++k;
    }
    return k - 1;
  }

 private:
  Next next_;
};

struct SplitMix {
  std::uint64_t state;
  std::uint64_t operator()() { return mix64(state += 0x9e3779b97f4a7c15ULL); }
};

struct Twister {
  std::mt19937_64* rng;
  std::uint64_t operator()() { return (*rng)(); }
};

using TraitDraws = Draws<SplitMix>;
using DayDraws = Draws<Twister>;

//! Hash streams, so different traits of the same resident are independent.
enum Stream : std::uint64_t {
  kHouseholdStart = 1,
  kHome,
  kPerson,
  kCommuteDay,
  kPassSeed,
  kPseudonymKey,
};

class Keys {
 public:
  explicit Keys(std::uint64_t seed) : base_(mix64(mix64(seed) ^ 0x7470682d67656eULL)) {}
  std::uint64_t of(Stream stream, std::uint64_t a, std::uint64_t b = 0) const {
    return mix64(mix64(mix64(base_ + stream) + a) + b);
  }

 private:
  std::uint64_t base_;
};

// ---------------------------------------------------------------------------------------------
// Guangdong. Populations are the 2020 census (millions), rounded; districts are those in
// data/regions.toml, weighted the same way. Cities without districts there use the city code.

struct District {
  const char* code;
  double population;
};

struct City {
  const char* code;
  const char* key;
  const char* name_zh;
  double population;
  const char* metro_zh;  // the metro operator, or nullptr where the city has none
  std::vector<District> districts;
  std::vector<double> district_weights = {};
};

std::vector<City> cityTable() {
  return {
      {"440100",
       "gz",
       "广州",
       18.7,
       "广州地铁",
       {{"440103", 1.12},
        {"440104", 1.04},
        {"440105", 1.82},
        {"440106", 2.24},
        {"440111", 3.74},
        {"440112", 1.26},
        {"440113", 2.66},
        {"440114", 1.64},
        {"440115", 0.85},
        {"440117", 0.72},
        {"440118", 1.47}}},
      {"440300",
       "sz",
       "深圳",
       17.6,
       "深圳地铁",
       {{"440303", 1.14},
        {"440304", 1.55},
        {"440305", 1.80},
        {"440306", 4.48},
        {"440307", 3.98},
        {"440308", 0.21},
        {"440309", 2.53},
        {"440310", 0.55},
        {"440311", 1.10}}},
      {"441900", "dg", "东莞", 10.5, "东莞轨道交通", {}},
      {"440600",
       "fs",
       "佛山",
       9.5,
       "佛山地铁",
       {{"440604", 1.34}, {"440605", 3.67}, {"440606", 3.23}, {"440607", 0.80}, {"440608", 0.48}}},
      {"440800", "zj", "湛江", 7.0, nullptr, {}},
      {"440900", "mm", "茂名", 6.2, nullptr, {}},
      {"441300", "hz", "惠州", 6.0, nullptr, {}},
      {"445200", "jy", "揭阳", 5.6, nullptr, {}},
      {"440500", "st", "汕头", 5.5, nullptr, {}},
      {"440700", "jm", "江门", 4.8, nullptr, {}},
      {"442000", "zs", "中山", 4.4, nullptr, {}},
      {"441200", "zq", "肇庆", 4.1, nullptr, {}},
      {"441800", "qy", "清远", 4.0, nullptr, {}},
      {"441400", "mz", "梅州", 3.9, nullptr, {}},
      {"440200", "sg", "韶关", 2.9, nullptr, {}},
      {"441600", "hy", "河源", 2.8, nullptr, {}},
      {"441500", "sw", "汕尾", 2.7, nullptr, {}},
      {"441700", "yj", "阳江", 2.6, nullptr, {}},
      {"445100", "cz", "潮州", 2.6, nullptr, {}},
      {"440400", "zh", "珠海", 2.4, nullptr, {}},
      {"445300", "yf", "云浮", 2.4, nullptr, {}},
  };
}

//! cities() with the district weights filled in.
const std::vector<City>& cities() {
  static const std::vector<City> list = [] {
    auto l = cityTable();
    for (auto& c : l) {
      for (const auto& d : c.districts) c.district_weights.push_back(d.population);
    }
    return l;
  }();
  return list;
}

const std::vector<double>& cityWeights() {
  static const std::vector<double> weights = [] {
    std::vector<double> w;
    for (const auto& c : cities()) w.push_back(c.population);
    return w;
  }();
  return weights;
}

constexpr std::size_t kGuangzhou = 0;

// ---------------------------------------------------------------------------------------------
// Residents and households, recomputable from (seed, number).

//! Residents are numbered in blocks of four, and each block is split into households one of
//! these ways, so anyone's household is found without looking further than their block. A bit
//! set means the resident at that place in the block starts a household. The weights give
//! households of one to four people in about the shares of Guangdong's 2020 census (roughly a
//! quarter each, 2.5 people on average).
struct BlockSplit {
  unsigned starts;
  double weight;
};
constexpr std::array<BlockSplit, 8> kBlockSplits = {{
    {0b0001, 0.40},  // 4
    {0b1001, 0.18},  // 3 + 1
    {0b0011, 0.18},  // 1 + 3
    {0b0101, 0.21},  // 2 + 2
    {0b1101, 0.01},  // 2 + 1 + 1
    {0b1011, 0.01},  // 1 + 2 + 1
    {0b0111, 0.01},  // 1 + 1 + 2
    {0b1111, 0.01},  // 1 + 1 + 1 + 1
}};
constexpr std::int64_t kBlock = 4;

const std::array<double, kBlockSplits.size()>& blockSplitWeights() {
  static const auto weights = [] {
    std::array<double, kBlockSplits.size()> w{};
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = kBlockSplits[k].weight;
    return w;
  }();
  return weights;
}

struct Home {
  std::size_t city = 0;
  const char* region = "";
  bool gas = false;  // piped gas; the rest cook with bottled LPG, which no utility reports
  double kwh_per_person = 0, water_per_person = 0, gas_base = 0;
};

enum class Commute { kNone, kMetro, kMetroTrips, kBus };

struct Person {
  Commute commute = Commute::kNone;
  double commute_km = 0;
  bool bikes = false, walks = false, drives = false, recycles = false;
  double bike_km = 0, steps = 0, drive_km = 0;
  int recycle_weekday = 0;  // 0 = Monday
};

class Population {
 public:
  Population(const Keys& keys, std::int64_t size) : keys_(keys), size_(size) {}

  std::int64_t size() const { return size_; }

  bool startsHousehold(std::int64_t i) const { return splitOf(i / kBlock) >> (i % kBlock) & 1; }
  //! The first resident of i's household.
  std::int64_t headOf(std::int64_t i) const {
    unsigned starts = splitOf(i / kBlock);
    std::int64_t k = i % kBlock;
    while (!(starts >> k & 1)) --k;
    return i / kBlock * kBlock + k;
  }
  //! One past the last resident of the household `head` starts.
  std::int64_t householdEnd(std::int64_t head) const {
    unsigned starts = splitOf(head / kBlock);
    std::int64_t k = head % kBlock + 1;
    while (k < kBlock && !(starts >> k & 1)) ++k;
    return std::min(head / kBlock * kBlock + k, size_);
  }

  Home home(std::int64_t head) const {
    TraitDraws d(SplitMix{keys_.of(kHome, static_cast<std::uint64_t>(head))});
    Home h;
    h.city = d.pick(cityWeights());
    const City& c = cities()[h.city];
    h.region = c.districts.empty() ? c.code : c.districts[d.pick(c.district_weights)].code;
    h.gas = d.chance(c.metro_zh ? 0.8 : 0.55);
    h.kwh_per_person = d.around(85, 0.3, 30, 300);
    h.water_per_person = d.around(5.0, 0.25, 1.5, 15);
    h.gas_base = d.around(10, 0.3, 3, 30);
    return h;
  }

  Person person(std::int64_t i, const Home& home) const {
    TraitDraws d(SplitMix{keys_.of(kPerson, static_cast<std::uint64_t>(i))});
    Person p;
    bool metro_city = cities()[home.city].metro_zh != nullptr;
    if (d.chance(0.6)) {
      if (metro_city && d.chance(0.8)) {
        // Guangzhou Metro reports some riders by gate entries only (travel.metro_trip).
        p.commute =
            home.city == kGuangzhou && d.chance(0.3) ? Commute::kMetroTrips : Commute::kMetro;
        p.commute_km = d.around(11, 0.5, 3, 30);
      } else {
        p.commute = Commute::kBus;
        p.commute_km = d.around(6, 0.5, 2, 15);
      }
    }
    p.bikes = d.chance(0.15);
    p.bike_km = d.around(2.2, 0.45, 1, 6);
    p.walks = d.chance(0.3);
    p.steps = d.around(7500, 0.35, 1000, 30000);
    p.drives = d.chance(0.05);
    p.drive_km = d.around(30, 0.6, 3, 250);
    p.recycles = d.chance(0.2);
    p.recycle_weekday = static_cast<int>(d.index(7));
    return p;
  }

  //! Whether i travels to work and back on `day` (days since the epoch).
  bool commutesOn(std::int64_t i, std::int64_t day, bool weekday) const {
    double u = toUnit(
        keys_.of(kCommuteDay, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(day)));
    return u < (weekday ? 0.92 : 0.15);
  }

 private:
  unsigned splitOf(std::int64_t block) const {
    TraitDraws d(SplitMix{keys_.of(kHouseholdStart, static_cast<std::uint64_t>(block))});
    return kBlockSplits[d.pick(blockSplitWeights())].starts;
  }

  Keys keys_;
  std::int64_t size_;
};

//! Walks the residents from `start` round to `start - 1`, keeping track of each one's household.
class ResidentCursor {
 public:
  ResidentCursor(const Population& population, std::int64_t start)
      : pop_(population), i_(start), head_(population.headOf(start)), home_(pop_.home(head_)) {}
  std::int64_t index() const { return i_; }
  std::int64_t head() const { return head_; }
  const Home& home() const { return home_; }
  void next() {
    if (++i_ == pop_.size()) i_ = 0;
    if (i_ == 0 || pop_.startsHousehold(i_)) {
      head_ = i_;
      home_ = pop_.home(head_);
    }
  }

 private:
  const Population& pop_;
  std::int64_t i_, head_;
  Home home_;
};

// ---------------------------------------------------------------------------------------------
// Providers and their files.

enum class Raw {
  kCard,
  kBikeUser,
  kStepsAccount,
  kVehicle,
  kMember,
  kPowerAccount,
  kWaterMeter,
  kGasAccount
};

struct Provider {
  std::string key, name, kind;
  std::vector<std::string> regions, methodologies;
  Raw raw;
  std::string pseudonym_key;
};

//! The provider's own identifier of a resident or household: what the platform never sees.
std::string rawId(Raw raw, std::int64_t number) {
  switch (raw) {
    case Raw::kCard:
      return fmt::format("card:{:08d}", number);
    case Raw::kBikeUser:
      return fmt::format("user:{:08d}", number);
    case Raw::kStepsAccount:
      return fmt::format("account:{:08d}", number);
    case Raw::kVehicle:
      return fmt::format("vehicle:{:08d}", number);
    case Raw::kMember:
      return fmt::format("member:{:08d}", number);
    case Raw::kPowerAccount:
      return fmt::format("power:{:010d}", number);
    case Raw::kWaterMeter:
      return fmt::format("water:{:08d}", number);
    case Raw::kGasAccount:
      return fmt::format("gas:{:08d}", number);
  }
  return {};
}

//! Subject references recently computed, so a resident's records do not each pay for an HMAC
//! (about 2 µs, more than formatting the record). Four-way set-associative with a fixed maximum
//! size: for populations up to a few hundred thousand everything fits; beyond, the hit rate drops
//! but memory does not grow.
class RefCache {
 public:
  RefCache(const std::vector<Provider>& providers, std::uint64_t expected) : providers_(providers) {
    std::uint64_t size = 1 << 12;
    while (size < 2 * expected && size < kMaxEntries) size <<= 1;
    entries_.resize(size);
  }
  //! The 64 hex characters of provider p's reference for identifier `number`.
  const char* get(std::size_t p, std::int64_t number) {
    std::uint64_t tag =
        (static_cast<std::uint64_t>(p) << 48 | static_cast<std::uint64_t>(number)) + 1;
    std::size_t set = (mix64(tag) & (entries_.size() - 1)) & ~std::size_t{kWays - 1};
    for (std::size_t k = set; k < set + kWays; ++k) {
      if (entries_[k].tag == tag) return entries_[k].hex;
    }
    Entry& e = entries_[set + (victim_++ & (kWays - 1))];
    std::string ref = hmacSha256Hex(providers_[p].pseudonym_key, rawId(providers_[p].raw, number));
    std::memcpy(e.hex, ref.data(), sizeof e.hex);
    e.tag = tag;
    return e.hex;
  }

 private:
  static constexpr std::uint64_t kMaxEntries = 1 << 20;  // 72 MiB
  static constexpr std::size_t kWays = 4;
  struct Entry {
    std::uint64_t tag = 0;
    char hex[64];
  };
  const std::vector<Provider>& providers_;
  std::vector<Entry> entries_;
  std::size_t victim_ = 0;
};

//! A buffered output file. Errors are remembered and reported once, at close.
class OutFile {
 public:
  explicit OutFile(const fs::path& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    buffer_.reserve(kBuffer + 4096);
  }
  ~OutFile() {
    if (file_) std::fclose(file_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  bool opened() const { return file_ != nullptr; }
  const fs::path& path() const { return path_; }
  std::string& buffer() { return buffer_; }
  void append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kBuffer) flush();
  }
  void flush() {
    if (file_ && !buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      failed_ = true;
    }
    buffer_.clear();
  }
  //! Flushes and closes; false when anything failed to reach the file.
  bool close() {
    flush();
    if (!file_) return false;
    bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    return closed && !failed_;
  }

 private:
  static constexpr std::size_t kBuffer = 1 << 18;
  fs::path path_;
  std::FILE* file_;
  std::string buffer_;
  bool failed_ = false;
};

//! One provider's record file: numbers records and sends some of them again a little later.
class RecordFile {
 public:
  RecordFile(const fs::path& path, std::string key) : out_(path), key_(std::move(key)) {}
  OutFile& out() { return out_; }
  const std::string& key() const { return key_; }
  std::uint64_t nextNumber() { return ++numbered_; }

  void write(const std::string& line) {
    out_.append(line);
    ++lines_;
    // Repeats fall due after this many of the file's lines; release those now due.
    while (!pending_.empty() && pending_.top().due <= lines_) release();
  }
  //! Sends `line` again after `delay` more lines of this file.
  void repeatLater(const std::string& line, std::uint64_t delay) {
    pending_.push({lines_ + delay, ++pending_seq_, line});
    if (pending_.size() > kMaxPending) release();
  }
  void releaseAll() {
    while (!pending_.empty()) release();
  }

 private:
  static constexpr std::size_t kMaxPending = 1 << 14;
  struct Pending {
    std::uint64_t due, seq;
    std::string line;
    bool operator>(const Pending& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void release() {
    std::string line = pending_.top().line;
    pending_.pop();
    out_.append(line);
    ++lines_;
  }
  OutFile out_;
  std::string key_;
  std::uint64_t numbered_ = 0, lines_ = 0, pending_seq_ = 0;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
};

// ---------------------------------------------------------------------------------------------
// Formatting without allocation on the hot path.

void appendUint(std::string& out, std::uint64_t v, int width = 0) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  for (int k = n; k < width; ++k) out.push_back('0');
  while (n) out.push_back(digits[--n]);
}

//! A number with `decimals` (0 or 1) places, as JSON.
void appendNumber(std::string& out, double v, int decimals) {
  long long scaled = std::llround(decimals ? v * 10 : v);
  if (scaled < 0) {
    out.push_back('-');
    scaled = -scaled;
  }
  auto u = static_cast<std::uint64_t>(scaled);
  if (!decimals) return appendUint(out, u);
  appendUint(out, u / 10);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + u % 10));
}

void appendTime(std::string& out, int second_of_day) {
  appendUint(out, static_cast<std::uint64_t>(second_of_day / 3600), 2);
  out.push_back(':');
  appendUint(out, static_cast<std::uint64_t>(second_of_day / 60 % 60), 2);
  out.push_back(':');
  appendUint(out, static_cast<std::uint64_t>(second_of_day % 60), 2);
}

struct Input {
  const char* name;
  double value;
  int decimals;
  double max;  // the methodology's maximum, for records broken on purpose
};

//! A time window of the day and the shape of its traffic: a triangle peaking at `peak`
//! (a fraction of the window), or flat when peak < 0.
struct Window {
  int from, to;  // seconds of the day
  double peak;
  //! The time for position q in [0, 1) of a pass; monotone in q, so files stay in order.
  int at(double q) const {
    double x = q;
    if (peak >= 0) {
      x = q < peak ? std::sqrt(q * peak) : 1 - std::sqrt((1 - q) * (1 - peak));
    }
    return from + std::min(to - from - 1, static_cast<int>(x * (to - from)));
  }
};

constexpr int kHour = 3600;
constexpr Window kMeterWindow{1 * kHour, 6 * kHour, -1};
constexpr Window kMorningWindow{6 * kHour + 1800, 9 * kHour + 1800, 0.55};
// Rides fall between the commute windows, at least half an hour from either: the platform holds
// trips of one person from two providers within minutes of each other as likely fraud.
constexpr Window kBikeWindow{10 * kHour, 16 * kHour + 1800, -1};
constexpr Window kRecyclingWindow{9 * kHour, 18 * kHour, 0.3};
constexpr Window kEveningWindow{17 * kHour, 21 * kHour, 0.35};
constexpr Window kNevWindow{19 * kHour, 23 * kHour, -1};
constexpr Window kStepsWindow{21 * kHour + 1800, 24 * kHour - 60, -1};

struct Recyclable {
  const char* methodology;
  double median_kg, max_kg;
};

constexpr std::array<Recyclable, 5> kRecyclables = {{
    {"waste.recycling.paper", 3.0, 10},
    {"waste.recycling.plastic", 1.5, 6},
    {"waste.recycling.metal", 1.0, 5},
    {"waste.recycling.glass", 2.5, 10},
    {"waste.recycling.textile", 2.5, 8},
}};

constexpr std::array<double, kRecyclables.size()> kRecyclableShares = {0.40, 0.25, 0.10, 0.10,
                                                                       0.15};

// Household use of the month before the reading, relative to the yearly average: air
// conditioning in the long Guangdong summer, hot water in winter.
constexpr std::array<double, 12> kPowerSeason = {0.85, 0.8,  0.75, 0.8,  0.95, 1.2,
                                                 1.4,  1.45, 1.35, 1.15, 0.9,  0.85};
constexpr std::array<double, 12> kGasSeason = {1.3,  1.35, 1.15, 1.0, 0.9, 0.8,
                                               0.75, 0.75, 0.8,  0.9, 1.0, 1.2};

// ---------------------------------------------------------------------------------------------

class Generator {
 public:
  Generator(const GenOptions& options, std::chrono::sys_days first)
      : o_(options), keys_(options.seed), pop_(keys_, options.residents), first_(first) {}

  Status run() {
    addProviders();
    std::error_code ec;
    fs::create_directories(o_.out, ec);
    if (ec || !fs::is_directory(o_.out))
      return Error::invalid("out", "cannot create the folder " + o_.out);
    for (const auto& p : providers_) {
      files_.push_back(std::make_unique<RecordFile>(fs::path(o_.out) / (p.key + ".ndjson"), p.key));
      if (!files_.back()->out().opened())
        return Error::invalid("out", "cannot write " + files_.back()->out().path().string());
    }
    refs_ = std::make_unique<RefCache>(providers_, static_cast<std::uint64_t>(o_.residents) * 3);
    if (auto written = writeSetup(); !written) return written;
    for (int d = 0; d < o_.days; ++d) {
      writeDay(d, 0);
      writeDay(d, 1);
    }
    for (auto& f : files_) {
      f->releaseAll();
      if (!f->out().close())
        return Error::invalid("out", "cannot write " + f->out().path().string());
    }
    std::printf(
        "wrote %zu record files and setup.json to %s: %llu records (%llu bad, %llu duplicates) "
        "for %lld residents in %lld households\n",
        files_.size(), o_.out.c_str(), static_cast<unsigned long long>(records_),
        static_cast<unsigned long long>(bad_), static_cast<unsigned long long>(duplicates_),
        o_.residents, households_);
    return {};
  }

 private:
  // -- providers ------------------------------------------------------------------------------

  std::size_t add(Provider p) {
    p.pseudonym_key = hmacSha256Hex(fmt::format("tanpuhui gen seed {}", o_.seed), p.key);
    providers_.push_back(std::move(p));
    return providers_.size() - 1;
  }

  void addProviders() {
    const auto& list = cities();
    metro_.assign(list.size(), kNone);
    bus_.assign(list.size(), kNone);
    for (std::size_t c = 0; c < list.size(); ++c) {
      if (!list[c].metro_zh) continue;
      std::vector<std::string> methods = {"travel.metro"};
      if (c == kGuangzhou) methods.push_back("travel.metro_trip");
      metro_[c] = add({std::string(list[c].key) + "-metro",
                       list[c].metro_zh,
                       "transit_operator",
                       {list[c].code},
                       methods,
                       Raw::kCard,
                       {}});
    }
    for (std::size_t c = 0; c < list.size(); ++c) {
      bus_[c] = add({std::string(list[c].key) + "-bus",
                     std::string(list[c].name_zh) + "公交",
                     "transit_operator",
                     {list[c].code},
                     {"travel.bus"},
                     Raw::kCard,
                     {}});
    }
    std::vector<std::string> recycling;
    for (const auto& r : kRecyclables) recycling.emplace_back(r.methodology);
    bike_ = add({"gd-bikeshare",
                 "广东共享单车",
                 "bike_share",
                 {"440000"},
                 {"travel.bike"},
                 Raw::kBikeUser,
                 {}});
    steps_ = add(
        {"gd-steps", "广东健康步数", "other", {"440000"}, {"travel.walk"}, Raw::kStepsAccount, {}});
    nev_ = add({"gd-nev",
                "广东新能源汽车充电网络",
                "nev_charging",
                {"440000"},
                {"nev.driving"},
                Raw::kVehicle,
                {}});
    recycler_ = add(
        {"gd-recycler", "广东再生资源回收", "recycler", {"440000"}, recycling, Raw::kMember, {}});
    power_ = add({"gd-power",
                  "广东电网",
                  "power_utility",
                  {"440000"},
                  {"electricity.household_saving"},
                  Raw::kPowerAccount,
                  {}});
    water_ = add({"gd-water",
                  "广东供水",
                  "water_utility",
                  {"440000"},
                  {"water.household_saving"},
                  Raw::kWaterMeter,
                  {}});
    gas_ = add({"gd-gas",
                "广东燃气",
                "gas_utility",
                {"440000"},
                {"gas.household_saving"},
                Raw::kGasAccount,
                {}});
  }

  //! The personal providers a resident's records come from.
  std::vector<std::size_t> providersOf(const Person& p, const Home& home) const {
    std::vector<std::size_t> out;
    if (p.commute == Commute::kBus) out.push_back(bus_[home.city]);
    if (p.commute == Commute::kMetro || p.commute == Commute::kMetroTrips)
      out.push_back(metro_[home.city]);
    if (p.bikes) out.push_back(bike_);
    if (p.walks) out.push_back(steps_);
    if (p.drives) out.push_back(nev_);
    if (p.recycles) out.push_back(recycler_);
    return out;
  }

  std::vector<std::size_t> utilitiesOf(const Home& home) const {
    std::vector<std::size_t> out = {power_, water_};
    if (home.gas) out.push_back(gas_);
    return out;
  }

  // -- setup.json -----------------------------------------------------------------------------

  static std::string username(std::int64_t i) { return fmt::format("gen_r{:06d}", i + 1); }

  //! Written element by element so a million residents need no more memory than ten.
  Status writeSetup() {
    OutFile out(fs::path(o_.out) / "setup.json");
    if (!out.opened()) return Error::invalid("out", "cannot write " + out.path().string());
    auto element = [&](bool first, const Json& j) {
      out.append(first ? "\n  " : ",\n  ");
      out.append(j.dump(-1, ' ', false, Json::error_handler_t::strict));
    };
    out.append("{\n\"providers\": [");
    for (std::size_t k = 0; k < providers_.size(); ++k) {
      const auto& p = providers_[k];
      element(k == 0, Json{{"key", p.key},
                           {"name", p.name},
                           {"kind", p.kind},
                           {"regions", p.regions},
                           {"methodologies", p.methodologies},
                           {"pseudonym_key", p.pseudonym_key}});
    }
    out.append("\n],\n\"residents\": [");
    ResidentCursor cursor(pop_, 0);
    for (std::int64_t i = 0; i < pop_.size(); ++i, cursor.next()) {
      element(i == 0, Json{{"username", username(i)},
                           {"display_name", fmt::format("居民{:06d}", i + 1)},
                           {"region", cursor.home().region}});
    }
    out.append("\n],\n\"households\": [");
    households_ = 0;
    for (std::int64_t h = 0; h < pop_.size(); h = pop_.householdEnd(h)) {
      Json members = Json::array();
      for (std::int64_t m = h + 1; m < pop_.householdEnd(h); ++m) members.push_back(username(m));
      element(households_ == 0, Json{{"name", fmt::format("gen_h{:06d}", households_ + 1)},
                                     {"admin", username(h)},
                                     {"members", members},
                                     {"region", pop_.home(h).region}});
      ++households_;
    }
    out.append("\n],\n\"bindings\": [");
    bool first = true;
    std::int64_t household = 0;
    ResidentCursor walk(pop_, 0);
    for (std::int64_t i = 0; i < pop_.size(); ++i, walk.next()) {
      for (std::size_t p : providersOf(pop_.person(i, walk.home()), walk.home())) {
        element(first, Json{{"provider", providers_[p].key},
                            {"subject_ref", std::string(refs_->get(p, i + 1), 64)},
                            {"username", username(i)}});
        first = false;
      }
      if (walk.head() != i) continue;
      ++household;
      for (std::size_t p : utilitiesOf(walk.home())) {
        element(first, Json{{"provider", providers_[p].key},
                            {"subject_ref", std::string(refs_->get(p, i + 1), 64)},
                            {"household", fmt::format("gen_h{:06d}", household)}});
        first = false;
      }
    }
    out.append("\n]\n}\n");
    if (!out.close()) return Error::invalid("out", "cannot write " + out.path().string());
    return {};
  }

  // -- records --------------------------------------------------------------------------------

  //! Writes one record, or with --bad-share's probability a record broken the way providers
  //! break them, and with --duplicate-share's probability schedules it to be sent again.
  void emit(DayDraws& d, std::size_t p, std::int64_t subject, std::string_view methodology,
            int second_of_day, const char* region, std::initializer_list<Input> inputs_in) {
    std::array<Input, 2> inputs{};
    std::size_t n_inputs = 0;
    for (const auto& in : inputs_in) inputs[n_inputs++] = in;
    std::string_view date = date_;
    std::string broken_methodology, broken_region;
    std::string_view where = region;
    if (o_.bad_share > 0 && d.chance(o_.bad_share)) {
      ++bad_;
      switch (d.index(5)) {
        case 0:  // a methodology id the provider's system spells its own way
          broken_methodology = std::string(methodology);
          std::replace(broken_methodology.begin(), broken_methodology.end(), '.', '_');
          methodology = broken_methodology;
          break;
        case 1:  // a reading beyond the methodology's range, or negative
          inputs[0].value = d.chance(0.5) ? inputs[0].max * d.uniform(1.2, 3) : -inputs[0].value;
          if (inputs[0].value == 0) inputs[0].value = -1;
          break;
        case 2:  // a device clock decades ahead
          date = "2099-12-31";
          break;
        case 3:  // a district code that does not exist
          broken_region = std::string(region).substr(0, 4) + "99";
          where = broken_region;
          break;
        default:  // a required input left out
          --n_inputs;
          break;
      }
    }
    RecordFile& f = *files_[p];
    std::string& line = line_;
    line.clear();
    line.append(R"({"provider_record_id":")");
    line.append(f.key());
    line.push_back('-');
    appendUint(line, f.nextNumber(), 8);
    line.append(R"(","subject_ref":")");
    line.append(refs_->get(p, subject + 1), 64);
    line.append(R"(","methodology":")");
    line.append(methodology);
    line.append(R"(","occurred_at":")");
    line.append(date);
    line.push_back('T');
    appendTime(line, second_of_day);
    line.append(R"(+08:00","region":")");
    line.append(where);
    line.append(R"(","inputs":{)");
    for (std::size_t k = 0; k < n_inputs; ++k) {
      if (k) line.push_back(',');
      line.push_back('"');
      line.append(inputs[k].name);
      line.append("\":");
      appendNumber(line, inputs[k].value, inputs[k].decimals);
    }
    line.append("}}\n");
    f.write(line);
    ++records_;
    if (o_.duplicate_share > 0 && d.chance(o_.duplicate_share)) {
      f.repeatLater(line, 1 + d.index(2000));
      ++duplicates_;
      ++records_;
    }
  }

  //! A commute leg: usually the resident's usual route, sometimes somewhere else.
  void commuteLeg(DayDraws& d, std::int64_t i, const Person& p, const Home& home, int at) {
    double km = p.commute_km;
    switch (p.commute) {
      case Commute::kNone:
        return;
      case Commute::kMetro:
        if (d.chance(0.15)) km = d.around(11, 0.5, 3, 30);
        emit(d, metro_[home.city], i, "travel.metro", at, home.region,
             {{"distance_km", km, 1, 200}});
        return;
      case Commute::kMetroTrips:
        emit(d, metro_[home.city], i, "travel.metro_trip", at, home.region, {{"trips", 1, 0, 20}});
        return;
      case Commute::kBus:
        if (d.chance(0.15)) km = d.around(6, 0.5, 2, 15);
        emit(d, bus_[home.city], i, "travel.bus", at, home.region, {{"distance_km", km, 1, 200}});
        return;
    }
  }

  //! This year's use from last year's: usually a little lower. Drops beyond the methodology's
  //! monthly cap mean an empty home, not saving, and the platform holds them for review, so
  //! generated good readings stay below it.
  static double thisYear(DayDraws& d, double last_year, double max_drop) {
    return std::max(last_year * std::clamp(0.96 + 0.07 * d.normal(), 0.7, 1.3),
                    last_year - max_drop);
  }

  void meterReadings(DayDraws& d, std::int64_t head, const Home& home, double q, int month) {
    // The reading on the 1st is for the month before.
    std::size_t billed = static_cast<std::size_t>((month + 10) % 12);
    double people = static_cast<double>(pop_.householdEnd(head) - head);
    int at = kMeterWindow.at(q);
    double kwh = std::round(home.kwh_per_person * (0.6 + 0.4 * people) * 1.6 *
                            kPowerSeason[billed] * d.around(1, 0.08, 0.7, 1.4));
    emit(d, power_, head, "electricity.household_saving", at, home.region,
         {{"baseline_kwh", kwh, 0, 10000},
          {"actual_kwh", std::round(thisYear(d, kwh, 150)), 0, 10000}});
    double t = home.water_per_person * people * d.around(1, 0.1, 0.6, 1.6);
    emit(d, water_, head, "water.household_saving", at, home.region,
         {{"baseline_t", t, 1, 200}, {"actual_t", thisYear(d, t, 15), 1, 200}});
    if (!home.gas) return;
    double m3 =
        home.gas_base * (0.7 + 0.3 * people) * kGasSeason[billed] * d.around(1, 0.1, 0.6, 1.6);
    emit(d, gas_, head, "gas.household_saving", at, home.region,
         {{"baseline_m3", m3, 1, 1000}, {"actual_m3", thisYear(d, m3, 15), 1, 1000}});
  }

  //! Pass 0: meter readings at night on the 1st, morning commutes, bike rides, recycling drops.
  //! Pass 1: evening commutes, NEV driving totals, step totals.
  void writeDay(int day_index, int pass) {
    using namespace std::chrono;
    sys_days day = first_ + days(day_index);
    year_month_day ymd{day};
    date_ = fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    const int day_of_week = static_cast<int>(weekday(day).iso_encoding()) - 1;  // 0 = Monday
    const bool workday = day_of_week < 5;
    bool first_of_month = ymd.day() == std::chrono::day(1);
    std::int64_t day_number = day.time_since_epoch().count();

    std::mt19937_64 rng(keys_.of(kPassSeed, static_cast<std::uint64_t>(day_number),
                                 static_cast<std::uint64_t>(pass)));
    DayDraws d(Twister{&rng});
    const std::int64_t n = pop_.size();
    ResidentCursor cursor(pop_, static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n)));
    for (std::int64_t j = 0; j < n; ++j, cursor.next()) {
      const std::int64_t i = cursor.index();
      const Home& home = cursor.home();
      const Person p = pop_.person(i, home);
      // This resident's place in the day's queue: every time handed out in this pass grows with
      // it, so each file receives its records in time order.
      const double q = (static_cast<double>(j) + d.unit()) / static_cast<double>(n);
      const bool commutes = p.commute != Commute::kNone && pop_.commutesOn(i, day_number, workday);
      if (pass == 0) {
        if (first_of_month && cursor.head() == i)
          meterReadings(d, i, home, q, static_cast<int>(static_cast<unsigned>(ymd.month())));
        if (commutes) commuteLeg(d, i, p, home, kMorningWindow.at(q));
        if (p.bikes && d.chance(0.4)) {
          double km = d.chance(0.8) ? p.bike_km : d.around(2.2, 0.45, 1, 6);
          emit(d, bike_, i, "travel.bike", kBikeWindow.at(q), home.region,
               {{"distance_km", km, 1, 100}});
        }
        if (p.recycles && day_of_week == p.recycle_weekday && d.chance(0.85)) {
          const Recyclable& r = kRecyclables[d.pick(kRecyclableShares)];
          emit(d, recycler_, i, r.methodology, kRecyclingWindow.at(q), home.region,
               {{"weight_kg", d.around(r.median_kg, 0.5, 0.5, r.max_kg), 1, 500}});
        }
      } else {
        if (commutes) commuteLeg(d, i, p, home, kEveningWindow.at(q));
        if (p.drives && d.chance(0.75)) {
          emit(d, nev_, i, "nev.driving", kNevWindow.at(q), home.region,
               {{"distance_km", d.around(p.drive_km, 0.4, 2, 300), 1, 1000}});
        }
        if (p.walks && d.chance(0.85)) {
          emit(d, steps_, i, "travel.walk", kStepsWindow.at(q), home.region,
               {{"steps", std::round(d.around(p.steps, 0.3, 500, 40000)), 0, 100000}});
        }
      }
    }
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  const GenOptions& o_;
  Keys keys_;
  Population pop_;
  std::chrono::sys_days first_;
  std::vector<Provider> providers_;
  std::vector<std::size_t> metro_, bus_;
  std::size_t bike_ = kNone, steps_ = kNone, nev_ = kNone, recycler_ = kNone, power_ = kNone,
              water_ = kNone, gas_ = kNone;
  std::vector<std::unique_ptr<RecordFile>> files_;
  std::unique_ptr<RefCache> refs_;
  std::string date_, line_;
  std::uint64_t records_ = 0, bad_ = 0, duplicates_ = 0;
  long long households_ = 0;
};

int runGen(const GenOptions& o) {
  if (o.residents < 1 || o.residents > 10'000'000)
    return fail(Error::invalid("residents", "--residents must be 1 to 10000000"));
  if (o.days < 1 || o.days > 400) return fail(Error::invalid("days", "--days must be 1 to 400"));
  if (!(o.bad_share >= 0 && o.bad_share <= 0.5))
    return fail(Error::invalid("bad-share", "--bad-share must be 0 to 0.5"));
  if (!(o.duplicate_share >= 0 && o.duplicate_share <= 0.5))
    return fail(Error::invalid("duplicate-share", "--duplicate-share must be 0 to 0.5"));
  if (o.out.empty()) return fail(Error::invalid("out", "--out names the folder to write into"));

  using namespace std::chrono;
  SystemClock clock;
  const sys_days today = floor<days>(clock.now() + hours(8));  // Asia/Shanghai, UTC+8 all year
  sys_days first = today - days(o.days);
  if (o.start) {
    if (!methodology::isIsoDate(*o.start))
      return fail(Error::invalid("start", "--start must be a date YYYY-MM-DD"));
    first = sys_days(year_month_day{year(std::stoi(o.start->substr(0, 4))),
                                    month(static_cast<unsigned>(std::stoi(o.start->substr(5, 2)))),
                                    day(static_cast<unsigned>(std::stoi(o.start->substr(8, 2))))});
    if (first + days(o.days) > today) {
      std::fprintf(stderr,
                   "tanpuhui: start: the period reaches today or later; records after the moment "
                   "of ingest will be refused as future\n");
    } else if (first < today - days(400)) {
      std::fprintf(stderr,
                   "tanpuhui: start: the period begins more than 400 days ago; older records "
                   "will be refused as outside the retention window\n");
    }
  }
  Generator generator(o, first);
  auto done = generator.run();
  if (!done) return fail(done.error());
  return 0;
}

}  // namespace

void addGenCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<GenOptions>();
  auto* cmd = app.add_subcommand(
      "gen",
      "Write realistic provider record files (NDJSON) for Guangdong's cities and the setup.json "
      "that registers their providers, residents, households and bindings");
  cmd->add_option("--residents", options->residents, "residents to generate (1-10000000)")
      ->required();
  cmd->add_option("--days", options->days, "days of behaviour (1-400)")->required();
  cmd->add_option("--seed", options->seed,
                  "random seed: the same seed and --start write byte-identical files (default 1)");
  cmd->add_option("--out", options->out, "folder to write into (created if missing)")->required();
  cmd->add_option("--start", options->start,
                  "first day YYYY-MM-DD, Asia/Shanghai (default: --days days before today)");
  cmd->add_option("--bad-share", options->bad_share,
                  "share of records broken on purpose, 0-0.5 (default 0.01)");
  cmd->add_option("--duplicate-share", options->duplicate_share,
                  "share of records sent again later in the same file, 0-0.5 (default 0.005)");
  cmd->callback([options, &exit_code] { exit_code = runGen(*options); });
}

}  // namespace tph::cli
