#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "account/carbon_accounts.h"
#include "analytics/rollup_deltas.h"
#include "auth/auth_service.h"
#include "cli/commands.h"
#include "core/crypto.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kDefaultBatchRecords = 5000;
constexpr std::size_t kLineMaxBytes = 64 * 1024;

struct IngestOptions {
  CommonOptions common;
  std::vector<std::string> files;
  std::optional<std::string> provider;
  std::optional<std::string> setup;
  std::optional<std::string> data_dir;
  std::size_t batch_records = kDefaultBatchRecords;
  bool json_summary = false;
  bool without_rollups = false;
};

//! Splits one CSV line (RFC 4180 quoting, no embedded newlines) into fields.
std::vector<std::string> csvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

//! Turns a CSV row into a record object by the header's column names.
ingest::IncomingRecord csvRecord(const std::vector<std::string>& header, const std::string& line,
                                 std::size_t number) {
  auto fields = csvFields(line);
  if (fields.size() != header.size()) {
    return {json(), "line " + std::to_string(number) + " has " + std::to_string(fields.size()) +
                        " fields, the header " + std::to_string(header.size())};
  }
  json record = json::object();
  json inputs = json::object();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].rfind("inputs.", 0) == 0) {
      if (fields[i].empty()) continue;
      char* end = nullptr;
      double v = std::strtod(fields[i].c_str(), &end);
      if (end == fields[i].c_str() || *end != '\0') {
        inputs[header[i].substr(7)] =
            fields[i];  // kept as text: validation quarantines it with a reason
      } else {
        inputs[header[i].substr(7)] = v;
      }
    } else {
      record[header[i]] = fields[i];
    }
  }
  record["inputs"] = inputs;
  return {record, ""};
}

struct Totals {
  std::int64_t records = 0, credited = 0, duplicate = 0, held = 0, quarantined = 0, grams = 0,
               points = 0, batches = 0;
  void add(const ingest::BatchReport& r) {
    records += r.records;
    credited += r.credited;
    duplicate += r.duplicate;
    held += r.held;
    quarantined += r.quarantined;
    grams += r.grams;
    points += r.points;
    ++batches;
  }
  json toJson() const {
    return {{"records", records}, {"credited", credited},       {"duplicate", duplicate},
            {"held", held},       {"quarantined", quarantined}, {"grams", grams},
            {"points", points},   {"batches", batches}};
  }
};

//! A one-line progress report on a terminal: records, rate, and time left by bytes read.
class Progress {
 public:
  Progress(std::string name, std::uintmax_t bytes_total)
      : name_(std::move(name)),
        total_(bytes_total),
        tty_(isatty(STDERR_FILENO)),
        started_(std::chrono::steady_clock::now()) {}

  void update(std::uintmax_t bytes_read, std::int64_t records, bool done = false) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (!done && now - shown_ < std::chrono::milliseconds(200)) return;
    shown_ = now;
    double seconds = std::chrono::duration<double>(now - started_).count();
    double rate = seconds > 0 ? static_cast<double>(records) / seconds : 0;
    double fraction = total_ ? static_cast<double>(bytes_read) / static_cast<double>(total_) : 1;
    double left = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
    std::fprintf(stderr, "\r%s  %5.1f%%  %lld records  %.0f records/s  ETA %d:%02d   ",
                 name_.c_str(), fraction * 100, static_cast<long long>(records), rate,
                 static_cast<int>(left) / 60, static_cast<int>(left) % 60);
    if (done) std::fprintf(stderr, "\n");
  }

 private:
  std::string name_;
  std::uintmax_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point started_, shown_{};
};

//! Registers what a setup.json names, leaving alone whatever is already there.
Status applySetup(store::Database& db, const Clock& clock, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::invalid("setup", "cannot read " + path);
  json setup = json::parse(in, nullptr, false);
  if (setup.is_discarded() || !setup.is_object())
    return Error::invalid("setup", path + " is not a JSON object");
  ingest::ProviderService providers(db, clock);
  auth::AuthOptions auth_options;
  // Generated residents get a random password nobody knows: they cannot sign in, so the cheap
  // hash costs no safety while letting setup create thousands of them quickly.
  auth_options.password_cost = auth::PasswordCost::kMinimum;
  auth::AuthService auth(db, clock, auth_options);
  account::CarbonAccountService accounts(db, clock);
  methodology::MethodologyService methodologies(db, clock);
  ingest::IngestService ingest(db, clock, methodologies);
  ingest::BindingService bindings(db, clock, ingest);
  try {
    std::map<std::string, std::int64_t> provider_ids;
    for (const auto& p : setup.value("providers", json::array())) {
      ingest::NewProvider np{p.at("key"),
                             p.at("name"),
                             p.at("kind"),
                             std::nullopt,
                             p.at("regions").get<std::vector<std::string>>(),
                             p.at("methodologies").get<std::vector<std::string>>(),
                             p.value("pseudonym_key", "")};
      auto created = providers.ensureProvider("setup", np);
      if (!created)
        return Error::invalid("setup.providers", np.key + ": " + created.error().message);
      provider_ids[np.key] = created->id;
    }
    std::map<std::string, auth::Principal> residents;
    std::map<std::string, std::int64_t> person_accounts;
    for (const auto& r : setup.value("residents", json::array())) {
      std::string username = r.at("username");
      auth::NewUser user{username,
                         "Gen-" + randomHex(16),
                         r.value("display_name", username),
                         {{auth::Role::kResident, ""}}};
      auto created = auth.createUserAsSystem("setup", user, false);
      std::int64_t id = 0;
      if (created) {
        id = created->id;
      } else if (created.error().code == ErrorCode::kConflict) {
        id = db.read([&](soci::session& sql) {
          long long uid = 0;
          sql << "SELECT id FROM users WHERE username = :u", soci::use(username), soci::into(uid);
          return uid;
        });
      } else {
        return Error::invalid("setup.residents", username + ": " + created.error().message);
      }
      auth::Principal who{id, username, user.display_name, user.grants, {}};
      auto account = accounts.personAccount(who, r.value("region", "440000"));
      if (!account)
        return Error::invalid("setup.residents", username + ": " + account.error().message);
      residents[username] = who;
      person_accounts[username] = account->id;
    }
    std::map<std::string, std::int64_t> households;
    for (const auto& h : setup.value("households", json::array())) {
      std::string admin = h.at("admin");
      if (!residents.count(admin))
        return Error::invalid("setup.households", "unknown admin " + admin);
      auto mine = accounts.accountsOf(residents[admin]);
      std::optional<std::int64_t> id;
      for (const auto& a : *mine) {
        if (a.kind == account::AccountKind::kHousehold) id = a.id;
      }
      if (!id) {
        auto created =
            accounts.createHousehold(residents[admin], h.at("name"), h.value("region", "440000"));
        if (!created) return Error::invalid("setup.households", created.error().message);
        id = created->id;
        for (const auto& m : h.value("members", json::array())) {
          auto added = accounts.addHouseholdMember(residents[admin], *id, m.get<std::string>());
          if (!added && added.error().code != ErrorCode::kConflict) {
            return Error::invalid("setup.households", added.error().message);
          }
        }
      }
      households[h.at("name")] = *id;
    }
    for (const auto& b : setup.value("bindings", json::array())) {
      std::string provider = b.at("provider");
      if (!provider_ids.count(provider))
        return Error::invalid("setup.bindings", "unknown provider " + provider);
      std::int64_t account = 0;
      if (b.contains("username")) {
        account = person_accounts[b.at("username").get<std::string>()];
      } else {
        account = households[b.at("household").get<std::string>()];
      }
      if (account == 0)
        return Error::invalid("setup.bindings", "a binding names an unknown account");
      auto bound =
          bindings.bindDirect("setup", provider_ids[provider], b.at("subject_ref"), account);
      if (!bound && bound.error().code != ErrorCode::kConflict) {
        return Error::invalid("setup.bindings", bound.error().message);
      }
    }
  } catch (const json::exception& e) {
    return Error::invalid(
        "setup", std::string("a required field is missing or of the wrong type: ") + e.what());
  }
  return {};
}

//! One batch of parsed records and how far into the file it reaches.
struct ParsedBatch {
  std::vector<ingest::IncomingRecord> records;
  std::uintmax_t bytes_read = 0;
};

//! Hands batches from the reading thread to the writing one, one at a time: while the writer
//! stores a batch the reader parses the next, so on two cores parsing costs no time, and no more
//! than two batches are ever in memory whatever the file's size.
class BatchHandoff {
 public:
  //! Reader: waits for the slot to be free; false when the writer has stopped.
  bool put(ParsedBatch batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !slot_ || stopped_; });
    if (stopped_) return false;
    slot_ = std::move(batch);
    changed_.notify_all();
    return true;
  }
  //! Reader: no more batches; error says why when the file could not be read to its end.
  void finish(std::string error = {}) {
    std::lock_guard lock(mutex_);
    finished_ = true;
    error_ = std::move(error);
    changed_.notify_all();
  }
  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  //! Writer: the next batch, or nothing when the reader has finished.
  std::optional<ParsedBatch> take() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return slot_ || finished_; });
    if (!slot_) return std::nullopt;
    auto batch = std::move(slot_);
    slot_.reset();
    changed_.notify_all();
    return batch;
  }
  //! Writer: gives up (an error); the reader stops at its next put.
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<ParsedBatch> slot_;
  bool finished_ = false, stopped_ = false;
  std::string error_;
};

//! Reads and parses FILE into batches of batch_records records (NDJSON or CSV).
void readBatches(std::istream& in, bool csv, std::size_t batch_records, BatchHandoff& handoff) {
  std::vector<std::string> header;
  ParsedBatch batch;
  batch.records.reserve(batch_records);
  std::size_t number = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++number;
    batch.bytes_read += line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > kLineMaxBytes) {
      batch.records.push_back(
          {json(), "line " + std::to_string(number) + " is longer than 64 KiB"});
    } else if (csv && header.empty()) {
      header = csvFields(line);
      continue;
    } else if (csv) {
      batch.records.push_back(csvRecord(header, line, number));
    } else {
      auto parsed = json::parse(line, nullptr, false);
      if (parsed.is_discarded()) {
        batch.records.push_back({json(), "line " + std::to_string(number) + " is not valid JSON"});
      } else {
        batch.records.push_back({std::move(parsed), ""});
      }
    }
    if (batch.records.size() >= batch_records) {
      std::uintmax_t bytes = batch.bytes_read;
      if (!handoff.put(std::move(batch))) return;
      batch = ParsedBatch{};
      batch.records.reserve(batch_records);
      batch.bytes_read = bytes;
    }
  }
  if (!batch.records.empty()) handoff.put(std::move(batch));
  handoff.finish();
}

Result<Totals> ingestFile(ingest::IngestService& ingest, const ingest::Provider& provider,
                          const fs::path& file, std::size_t batch_records) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error::invalid("file", "cannot read " + file.string());
  std::error_code ec;
  auto bytes_total = fs::file_size(file, ec);
  Totals totals;
  Progress progress(file.filename().string(), ec ? 0 : bytes_total);
  BatchHandoff handoff;
  std::thread reader([&] {
    try {
      readBatches(in, file.extension() == ".csv", batch_records, handoff);
    } catch (const std::exception& e) {
      handoff.finish(std::string("reading ") + file.string() + ": " + e.what());
    }
  });
  std::uintmax_t bytes_read = 0;
  Status status;
  while (auto batch = handoff.take()) {
    auto report = ingest.ingestBatch(provider, batch->records, "file:" + file.filename().string());
    if (!report) {
      status = report.error();
      handoff.stop();
      break;
    }
    totals.add(*report);
    bytes_read = batch->bytes_read;
    progress.update(bytes_read, totals.records);
  }
  reader.join();
  if (!status) return status.error();
  if (auto error = handoff.error(); !error.empty()) return Error::invalid("file", error);
  progress.update(bytes_read, totals.records, true);
  return totals;
}

int runIngest(const IngestOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  if (options.batch_records < 1 || options.batch_records > ingest::kBatchMaxRecords) {
    return fail(Error::invalid("batch-size", "batch size must be 1-50000"));
  }
  if (options.files.empty() && !options.setup)
    return fail(Error::invalid("files", "name at least one file to ingest, or --setup"));
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  if (options.without_rollups) analytics::setRollupMaintenance(false);
  methodology::MethodologyService methodologies(**db, clock);
  if (methodologies.empty()) {
    auto imported =
        importMethodologies(**db, clock, config->get(kDataDirSetting, options.data_dir), "cli");
    if (!imported) return fail(imported.error());
  }
  if (options.setup) {
    auto applied = applySetup(**db, clock, *options.setup);
    if (!applied) return fail(applied.error());
  }
  ingest::ProviderService providers(**db, clock);
  ingest::IngestService ingest(**db, clock, methodologies);
  Totals all;
  json per_file = json::array();
  auto started = std::chrono::steady_clock::now();
  for (const auto& name : options.files) {
    fs::path file(name);
    std::string key = options.provider.value_or(
        file.filename().string().substr(0, file.filename().string().find('.')));
    auto provider = providers.byKey(key);
    if (!provider)
      return fail(Error::invalid("provider", "no provider " + key + " (for " + name + ")"));
    auto totals = ingestFile(ingest, *provider, file, options.batch_records);
    if (!totals) return fail(totals.error());
    auto j = totals->toJson();
    j["file"] = name;
    per_file.push_back(j);
    all.records += totals->records;
    all.credited += totals->credited;
    all.duplicate += totals->duplicate;
    all.held += totals->held;
    all.quarantined += totals->quarantined;
    all.grams += totals->grams;
    all.points += totals->points;
    all.batches += totals->batches;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (options.json_summary) {
    json out = all.toJson();
    out["files"] = per_file;
    out["seconds"] = seconds;
    out["records_per_second"] = seconds > 0 ? static_cast<double>(all.records) / seconds : 0.0;
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "%lld records: %lld credited, %lld duplicate, %lld held, %lld quarantined; %lld g, %lld "
        "points "
        "(%.1f s, %.0f records/s)\n",
        static_cast<long long>(all.records), static_cast<long long>(all.credited),
        static_cast<long long>(all.duplicate), static_cast<long long>(all.held),
        static_cast<long long>(all.quarantined), static_cast<long long>(all.grams),
        static_cast<long long>(all.points), seconds,
        seconds > 0 ? static_cast<double>(all.records) / seconds : 0.0);
  }
  return 0;
}

}  // namespace

void addIngestCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<IngestOptions>();
  auto* cmd = app.add_subcommand(
      "ingest",
      "Ingest provider files (NDJSON or CSV), streamed; safe to run again after an interruption");
  addCommonOptions(*cmd, options->common);
  cmd->add_option("files", options->files,
                  "record files; FILE's provider is --provider or its name before the first '.' "
                  "(none: only apply --setup)");
  cmd->add_option("--provider", options->provider, "provider key for every file");
  cmd->add_option("--setup", options->setup,
                  "setup.json from `tanpuhui gen`: providers, residents, bindings");
  cmd->add_option("--data-dir", options->data_dir,
                  "methodology library for a fresh database (default data)");
  cmd->add_option("--batch-size", options->batch_records, "records per transaction (default 5000)");
  cmd->add_flag("--json", options->json_summary, "print the summary as JSON");
  cmd->add_flag("--without-rollups", options->without_rollups,
                "benchmarks only: skip the analytics rollups (they then drift from the detail)")
      ->group("Benchmarking");
  cmd->callback([options, &exit_code] { exit_code = runIngest(*options); });
}

}  // namespace tph::cli
