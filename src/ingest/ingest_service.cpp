#include "ingest/ingest_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "ingest/ingest_store.h"
#include "methodology/methodology_service.h"
#include "region/campaign_service.h"
#include "store/database.h"

namespace tph::ingest {

namespace {

using methodology::CompiledMethodology;
using nlohmann::json;

constexpr std::size_t kRecordIdMaxBytes = 128;
constexpr std::size_t kSubjectRefMaxBytes = 128;
constexpr std::int64_t kMsPerMinute = 60'000;

bool validId(const std::string& s, std::size_t max, const char* extra) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [&](unsigned char c) {
    return std::isalnum(c) || std::strchr(extra, static_cast<char>(c)) != nullptr;
  });
}

//! A valid record on its way to an outcome.
struct Candidate {
  std::size_t index = 0;
  std::int64_t row_id = 0;  //!< set when the record is already stored (held, replaced)
  std::string rid;
  std::string ref;
  std::string methodology;
  std::string region;
  std::int64_t at_ms = 0;
  std::string day;
  json inputs_json;
  std::array<double, methodology::kMaxInputs> inputs{};
  const CompiledMethodology* version = nullptr;
  std::string order_key;  //!< occurred_at then record id: the order caps are applied in
  // Set while deciding:
  std::int64_t account_id = 0;
  std::int64_t ledger_account = 0;
  std::string status;
  std::string reason;
  std::int64_t grams = 0;
};

std::string orderKey(std::int64_t at_ms, const std::string& rid) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%015lld|", static_cast<long long>(at_ms));
  return buf + rid;
}

std::string cityOf(const std::string& region) {
  switch (regionLevel(region)) {
    case RegionLevel::kProvince:
      return region;
    case RegionLevel::kCity:
      return region;
    case RegionLevel::kCounty:
      return region.substr(0, 4) + "00";
  }
  return region;
}

struct Quarantine {
  std::string reason;
  std::string message;
};

}  // namespace

struct IngestService::Impl {
  store::Database& db;
  const Clock& clock;
  methodology::MethodologyService& methodologies;
  IngestOptions options;

  std::set<std::string> regionCodes() {
    return db.read([](soci::session& sql) {
      std::set<std::string> codes;
      std::string code;
      soci::statement st = (sql.prepare << "SELECT code FROM regions", soci::into(code));
      st.execute();
      while (st.fetch()) codes.insert(code);
      return codes;
    });
  }

  //! Validates one record against the provider's registration and the catalogue.
  std::variant<Candidate, Quarantine> validate(const Provider& provider, const json& f,
                                               const methodology::Catalog& catalog,
                                               const std::set<std::string>& regions, Instant now,
                                               methodology::Evaluator& evaluator) {
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = f.find(key);
      if (it == f.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    Candidate c;
    auto rid = text("provider_record_id");
    if (!rid || !validId(*rid, kRecordIdMaxBytes, "._:-")) {
      return Quarantine{
          "malformed",
          "provider_record_id is missing or not 1-128 characters of A-Z a-z 0-9 . _ : -"};
    }
    c.rid = *rid;
    auto ref = text("subject_ref");
    if (!ref || !validId(*ref, kSubjectRefMaxBytes, "_-")) {
      return Quarantine{"malformed",
                        "subject_ref is missing or not 1-128 characters of A-Z a-z 0-9 _ -"};
    }
    c.ref = *ref;
    auto m = text("methodology");
    if (!m) return Quarantine{"malformed", "methodology is missing"};
    c.methodology = *m;
    auto at_text = text("occurred_at");
    auto at = at_text ? parseIso8601(*at_text) : std::nullopt;
    if (!at)
      return Quarantine{"malformed", "occurred_at is missing or not RFC 3339 with an offset"};
    c.at_ms = toEpochMs(*at);
    c.day = shanghaiDay(*at);
    auto region = text("region");
    if (!region) return Quarantine{"malformed", "region is missing"};
    c.region = *region;
    auto inputs = f.find("inputs");
    if (inputs == f.end() || !inputs->is_object())
      return Quarantine{"malformed", "inputs must be an object"};
    c.inputs_json = *inputs;

    if (*at > now + options.future_tolerance)
      return Quarantine{"future", "occurred_at is in the future"};
    if (*at < now - options.retention) {
      return Quarantine{"too_old", "occurred_at is older than the " +
                                       std::to_string(options.retention.count() / 24) +
                                       "-day retention window"};
    }
    if (!regions.count(c.region)) return Quarantine{"unknown_region", "unknown region " + c.region};
    if (std::none_of(provider.regions.begin(), provider.regions.end(),
                     [&](const std::string& r) { return regionCovers(r, c.region); })) {
      return Quarantine{"region_not_allowed",
                        "the provider is not registered for region " + c.region};
    }
    bool known = std::any_of(catalog.versions().begin(), catalog.versions().end(),
                             [&](const auto& v) { return v->definition().id == c.methodology; });
    if (!known) return Quarantine{"unknown_methodology", "unknown methodology " + c.methodology};
    if (std::find(provider.methodologies.begin(), provider.methodologies.end(), c.methodology) ==
        provider.methodologies.end()) {
      return Quarantine{"methodology_not_allowed", "the provider may not report " + c.methodology};
    }
    c.version = catalog.select(c.methodology, c.day, c.region);
    if (!c.version) {
      return Quarantine{"no_version_in_force", "no version of " + c.methodology +
                                                   " is in force on " + c.day + " in " + c.region};
    }
    c.inputs.fill(methodology::kMissingInput);
    for (const auto& [name, value] : c.inputs_json.items()) {
      auto index = c.version->inputIndex(name);
      if (!index) return Quarantine{"invalid_inputs", c.methodology + " has no input " + name};
      if (!value.is_number()) return Quarantine{"invalid_inputs", name + " must be a number"};
      c.inputs[*index] = value.get<double>();
    }
    auto check =
        evaluator.quantify(*c.version, {c.inputs.data(), c.version->definition().inputs.size()});
    if (!check) return Quarantine{"invalid_inputs", check.error().message};
    c.order_key = orderKey(c.at_ms, c.rid);
    return c;
  }
};

namespace {

//! Credits records to their bound accounts inside one open transaction: caps applied in order of
//! (occurred_at, record id) per account, methodology and day — recomputing a day when a record
//! arrives earlier than ones already credited — reductions stored, points gathered for one entry.
class Crediting {
 public:
  Crediting(soci::session& sql, detail::BatchStatements& statements, const Clock& clock,
            const methodology::Catalog& catalog, std::int64_t provider_id, std::int64_t batch_id)
      : sql_(sql),
        statements_(statements),
        clock_(clock),
        catalog_(catalog),
        provider_id_(provider_id),
        batch_id_(batch_id) {}

  void credit(std::vector<Candidate*> candidates) {
    if (!candidates.empty()) {
      // Campaigns whose windows reach the candidates' days: a late record redoes its day.
      constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
      auto [first, last] = std::minmax_element(
          candidates.begin(), candidates.end(),
          [](const Candidate* a, const Candidate* b) { return a->at_ms < b->at_ms; });
      campaigns_ =
          region::CampaignWindows::load(sql_, (*first)->at_ms - kDayMs, (*last)->at_ms + kDayMs);
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate* a, const Candidate* b) {
      return std::tie(a->account_id, a->methodology, a->day, a->order_key) <
             std::tie(b->account_id, b->methodology, b->day, b->order_key);
    });
    for (std::size_t start = 0; start < candidates.size();) {
      std::size_t end = start;
      while (end < candidates.size() &&
             candidates[end]->account_id == candidates[start]->account_id &&
             candidates[end]->methodology == candidates[start]->methodology &&
             candidates[end]->day == candidates[start]->day) {
        ++end;
      }
      creditGroup({candidates.begin() + static_cast<std::ptrdiff_t>(start),
                   candidates.begin() + static_cast<std::ptrdiff_t>(end)});
      start = end;
    }
    statements_.flush();
  }

  //! One balanced journal entry: issuance accounts of each city pay, subject accounts receive.
  Status post(const std::string& key, const std::string& memo) {
    std::vector<account::Leg> legs;
    for (const auto& [city, points] : issued_) {
      if (points.isZero()) continue;
      auto issuance = account::openLedgerAccount(sql_, account::issuanceLedgerCode(city),
                                                 "issuance", true, clock_);
      legs.push_back({issuance, -points});
    }
    for (const auto& [ledger, points] : received_) {
      if (!points.isZero()) legs.push_back({ledger, points});
    }
    if (legs.size() < 2) return {};
    auto posted = account::postEntry(sql_, {key, "credit", memo, legs}, clock_);
    if (!posted) return posted.error();
    return {};
  }

  std::int64_t grams() const { return grams_; }
  std::int64_t points() const { return points_total_; }

 private:
  struct Entry {
    Candidate* fresh = nullptr;  // a record being credited now
    detail::DayRecord stored;    // or one credited before
    std::string key;
    const CompiledMethodology* version = nullptr;
    std::array<double, methodology::kMaxInputs> inputs{};
  };

  void creditGroup(std::vector<Candidate*> group) {
    Candidate& first = *group.front();
    auto before = statements_.loadCapRows(first.account_id, first.methodology, first.day);
    std::vector<Entry> entries;
    methodology::CapUsage usage;
    // A record earlier than ones already credited today redoes the day in order, unless some of
    // the day's reductions are locked in a certification batch: certified grams never change, so
    // then the late record is capped by what the day has already used.
    bool recompute =
        !before.last_key.empty() && before.last_key > first.order_key &&
        !detail::dayHasLockedReductions(sql_, first.account_id, first.methodology, first.day);
    if (recompute) {
      // A record earlier than ones already credited today: redo the day in order.
      for (auto& stored :
           detail::creditedDayRecords(sql_, first.account_id, first.methodology, first.day)) {
        Entry e;
        e.key = orderKey(stored.at_ms, stored.rid);
        e.version = catalog_.find(first.methodology, stored.version);
        if (!e.version)
          throw std::logic_error("a credited reduction's methodology version is not loaded");
        e.inputs.fill(methodology::kMissingInput);
        auto inputs = json::parse(stored.inputs_json);
        for (const auto& [name, value] : inputs.items()) {
          if (auto index = e.version->inputIndex(name)) e.inputs[*index] = value.get<double>();
        }
        e.stored = std::move(stored);
        entries.push_back(std::move(e));
      }
      usage.month = Grams(before.month_grams - before.day_grams);
      usage.year = Grams(before.year_grams - before.day_grams);
    } else {
      usage.day = Grams(before.day_grams);
      usage.month = Grams(before.month_grams);
      usage.year = Grams(before.year_grams);
      auto totals = json::parse(before.input_totals, nullptr, false);
      if (totals.is_array()) {
        for (std::size_t i = 0; i < totals.size() && i < usage.input_day.size(); ++i)
          usage.input_day[i] = totals[i];
      }
    }
    for (Candidate* c : group) {
      Entry e;
      e.fresh = c;
      e.key = c->order_key;
      e.version = c->version;
      e.inputs = c->inputs;
      entries.push_back(std::move(e));
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });

    auto after = before;
    after.day_grams = recompute ? 0 : before.day_grams;
    std::string last_key = recompute ? std::string() : before.last_key;
    for (auto& e : entries) {
      const auto& def = e.version->definition();
      std::span<const double> inputs(e.inputs.data(), def.inputs.size());
      auto q = evaluator_.quantify(*e.version, inputs, usage);
      if (!q) throw std::logic_error("a validated record failed to quantify: " + q.error().message);
      std::int64_t grams = q->grams.value();
      std::int64_t points = methodology::pointsFor(grams, def.points_per_kg);
      auto campaign = campaigns_.bonusFor(def.id, e.fresh ? e.fresh->region : e.stored.region,
                                          e.fresh ? e.fresh->at_ms : e.stored.at_ms, points);
      std::int64_t bonus = campaign ? campaign->bonus_points : 0;
      points += bonus;
      usage.day += q->grams;
      usage.month += q->grams;
      usage.year += q->grams;
      for (std::size_t i = 0; i < def.inputs.size(); ++i) usage.input_day[i] += q->used_inputs[i];
      after.day_grams += grams;
      last_key = std::max(last_key, e.key);
      // The version holds formula and factors; the row keeps what this record adds to them.
      std::string explanation = e.version->compactResult(*q);
      if (e.fresh) {
        Candidate& c = *e.fresh;
        c.status = "credited";
        c.grams = grams;
        std::int64_t record_id = c.row_id;
        if (record_id) {
          detail::updateRecordOutcome(sql_, record_id, "credited", "", c.account_id,
                                      toEpochMs(clock_.now()));
        } else {
          record_id = statements_.queueRecord(
              {provider_id_, batch_id_, c.rid, c.ref, c.methodology, c.region,
               canonicalJson(c.inputs_json), "credited", "", c.at_ms, c.account_id},
              toEpochMs(clock_.now()));
          c.row_id = record_id;
        }
        std::optional<std::int64_t> campaign_id;
        if (campaign) campaign_id = campaign->campaign_id;
        statements_.queueReduction({record_id, c.account_id, provider_id_, def.id, def.version,
                                    def.domain, c.at_ms, c.day, c.region, grams, points,
                                    methodology::toString(q->cap), explanation, campaign_id,
                                    bonus});
        add(c.ledger_account, c.region, points);
        grams_ += grams;
      } else if (grams != e.stored.grams) {
        detail::updateReduction(sql_, e.stored.record_id, grams, points, bonus,
                                methodology::toString(q->cap), explanation);
        statements_.queueReductionChange(first.day, e.stored.region, def.domain, def.id,
                                         first.account_id, grams - e.stored.grams,
                                         points - e.stored.points);
        add(first.ledger_account, e.stored.region, points - e.stored.points);
        grams_ += grams - e.stored.grams;
      }
    }
    json totals = json::array();
    for (std::size_t i = 0; i < first.version->definition().inputs.size(); ++i)
      totals.push_back(usage.input_day[i]);
    after.input_totals = totals.dump();
    after.last_key = last_key;
    after.month_grams = before.month_grams + (after.day_grams - before.day_grams);
    after.year_grams = before.year_grams + (after.day_grams - before.day_grams);
    statements_.saveCapRows(first.account_id, first.methodology, first.day, before, after);
  }

  void add(std::int64_t ledger, const std::string& region, std::int64_t points) {
    received_[ledger] += Points(points);
    issued_[cityOf(region)] += Points(points);
    points_total_ += points;
  }

  soci::session& sql_;
  detail::BatchStatements& statements_;
  const Clock& clock_;
  const methodology::Catalog& catalog_;
  std::int64_t provider_id_;
  std::int64_t batch_id_;
  methodology::Evaluator evaluator_;
  region::CampaignWindows campaigns_;
  std::map<std::int64_t, Points> received_;
  std::map<std::string, Points> issued_;
  std::int64_t grams_ = 0;
  std::int64_t points_total_ = 0;
};

//! The anti-fraud reason to hold a record for review, or "".
std::string fraudReason(
    detail::BatchStatements& statements, methodology::Evaluator& evaluator, const Candidate& c,
    const IngestOptions& options, std::int64_t provider_id,
    std::map<std::int64_t, std::vector<detail::RecentTrip>>& batch_trips_by_account) {
  const auto& def = c.version->definition();
  if (def.caps.per_month_grams) {
    auto q = evaluator.quantify(*c.version, {c.inputs.data(), def.inputs.size()});
    if (q && q->rounded.value() > *def.caps.per_month_grams) return "fraud_amount";
  }
  if (def.domain != "travel") return "";
  std::int64_t window = std::max<std::int64_t>(options.overlap_window.count(), 60) * kMsPerMinute;
  auto& batch_trips = batch_trips_by_account[c.account_id];
  auto trips = statements.recentTravel(c.account_id, c.at_ms - window, c.at_ms + window);
  for (const auto& t : batch_trips) {
    if (std::llabs(t.at_ms - c.at_ms) <= window) trips.push_back(t);
  }
  std::int64_t overlap = options.overlap_window.count() * kMsPerMinute;
  int same_hour = 0;
  auto distance = c.version->inputIndex("distance_km");
  for (const auto& t : trips) {
    std::int64_t gap = std::llabs(t.at_ms - c.at_ms);
    if (t.provider_id != provider_id && gap < overlap) return "fraud_overlap";
    if (t.methodology == c.methodology && gap < 60 * kMsPerMinute) ++same_hour;
    if (distance && gap > 0 && t.at_ms < c.at_ms) {
      double minutes = static_cast<double>(gap) / kMsPerMinute;
      if (c.inputs[*distance] / minutes > options.max_speed_km_per_min) return "fraud_speed";
    }
  }
  if (same_hour >= options.velocity_max_per_hour) return "fraud_velocity";
  batch_trips.push_back({c.at_ms, provider_id, c.methodology});
  return "";
}

bool subjectAllowed(const Candidate& c, const std::string& kind) {
  const auto& subjects = c.version->definition().subjects;
  return std::find(subjects.begin(), subjects.end(), kind) != subjects.end();
}

}  // namespace

IngestService::IngestService(store::Database& db, const Clock& clock,
                             methodology::MethodologyService& methodologies, IngestOptions options)
    : impl_(std::make_shared<Impl>(Impl{db, clock, methodologies, options})) {}

}  // namespace tph::ingest

namespace tph::ingest {

Result<BatchReport> IngestService::ingestBatch(const Provider& provider,
                                               const std::vector<IncomingRecord>& records,
                                               const std::string& source) {
  if (records.size() > kBatchMaxRecords) {
    return Error{ErrorCode::kPayloadTooLarge, "records",
                 "a batch holds at most " + std::to_string(kBatchMaxRecords) + " records"};
  }
  Impl& impl = *impl_;
  // Records held for a binding that never came expire as batches arrive, so no timer is needed.
  auto expired = expireHeld();
  if (!expired) return expired.error();
  auto catalog = impl.methodologies.catalog();
  auto regions = impl.regionCodes();
  auto now = impl.clock.now();
  methodology::Evaluator evaluator;

  BatchReport report;
  report.records = static_cast<std::int64_t>(records.size());
  std::vector<Candidate> candidates;
  struct Refused {
    std::size_t index;
    std::string rid;
    Quarantine why;
    json fields;
  };
  std::vector<Refused> refused;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (!r.parse_error.empty() || !r.fields.is_object()) {
      refused.push_back(
          {i,
           "",
           {"malformed", r.parse_error.empty() ? "a record must be a JSON object" : r.parse_error},
           {}});
      continue;
    }
    auto outcome = impl.validate(provider, r.fields, *catalog, regions, now, evaluator);
    if (auto* c = std::get_if<Candidate>(&outcome)) {
      c->index = i;
      candidates.push_back(std::move(*c));
    } else {
      auto rid = r.fields.find("provider_record_id");
      std::string id = rid != r.fields.end() && rid->is_string() ? rid->get<std::string>() : "";
      if (!validId(id, kRecordIdMaxBytes, "._:-")) id.clear();
      refused.push_back({i, id, std::get<Quarantine>(outcome), r.fields});
    }
  }

  std::string digest_text;
  auto stored = impl.db.transaction([&](soci::session& sql) -> Result<BatchReport> {
    auto now_ms = toEpochMs(now);
    report.batch_id = detail::insertBatch(sql, provider.id, source, now_ms);
    std::vector<std::string> ids;
    for (const auto& c : candidates) ids.push_back(c.rid);
    for (const auto& r : refused) {
      if (!r.rid.empty()) ids.push_back(r.rid);
    }
    auto known = detail::storedOutcomes(sql, provider.id, ids);
    std::set<std::string> seen;
    // A record seen before keeps its first outcome, unless that was quarantine: a corrected
    // record replaces a quarantined one.
    auto firstTime = [&](const std::string& rid) -> bool {
      if (!seen.insert(rid).second) {
        report.duplicates.push_back({rid, "in this batch"});
        ++report.duplicate;
        return false;
      }
      auto it = known.find(rid);
      if (it == known.end()) return true;
      if (it->second.status == "quarantined") {
        detail::deleteRecord(sql, it->second.id);
        return true;
      }
      report.duplicates.push_back(
          {rid, it->second.status + (it->second.reason.empty() ? "" : ":" + it->second.reason)});
      ++report.duplicate;
      return false;
    };

    detail::BatchStatements statements(sql);
    for (const auto& r : refused) {
      report.quarantined_records.push_back({r.index, r.rid, r.why.reason, r.why.message});
      ++report.quarantined;
      digest_text += std::to_string(r.index) + "|" + r.rid + "|quarantined:" + r.why.reason + "\n";
      if (r.rid.empty() || !firstTime(r.rid)) continue;
      auto text = [&](const char* key) {
        auto it = r.fields.find(key);
        return it != r.fields.end() && it->is_string() ? it->get<std::string>().substr(0, 128)
                                                       : std::string();
      };
      auto inputs = r.fields.find("inputs");
      statements.queueRecord(
          {provider.id, report.batch_id, r.rid, text("subject_ref"), text("methodology"),
           text("region"), inputs != r.fields.end() ? canonicalJson(*inputs) : "{}", "quarantined",
           r.why.reason + ": " + r.why.message, 0, std::nullopt},
          now_ms);
    }

    std::vector<std::string> refs;
    for (const auto& c : candidates) refs.push_back(c.ref);
    auto bound = detail::boundAccounts(sql, provider.id, refs);
    {
      std::set<std::int64_t> account_ids;
      std::set<std::string> periods;
      std::int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
      for (const auto& c : candidates) {
        auto it = bound.find(c.ref);
        if (it == bound.end()) continue;
        account_ids.insert(it->second.account_id);
        periods.insert("d:" + c.day);
        periods.insert("m:" + c.day.substr(0, 7));
        periods.insert("y:" + c.day.substr(0, 4));
        first_ms = std::min(first_ms, c.at_ms);
        last_ms = std::max(last_ms, c.at_ms);
      }
      if (!account_ids.empty()) {
        constexpr std::int64_t kMargin = 2 * 60 * kMsPerMinute;  // wider than any fraud window
        statements.preload({account_ids.begin(), account_ids.end()},
                           {periods.begin(), periods.end()}, first_ms - kMargin, last_ms + kMargin);
      }
    }
    std::vector<Candidate*> to_credit;
    std::map<std::int64_t, std::vector<detail::RecentTrip>> batch_trips;
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.order_key < b.order_key; });
    for (auto& c : candidates) {
      if (!firstTime(c.rid)) continue;
      auto account = bound.find(c.ref);
      std::string status, reason;
      if (account == bound.end()) {
        status = "held";
        reason = "unbound";
      } else {
        c.account_id = account->second.account_id;
        c.ledger_account = account->second.ledger_account;
        if (!subjectAllowed(c, account->second.kind)) {
          status = "quarantined";
          reason = "subject_mismatch: " + c.methodology + " does not count for a " +
                   account->second.kind + " account";
        } else if (auto fraud = fraudReason(statements, evaluator, c, impl.options, provider.id,
                                            batch_trips);
                   !fraud.empty()) {
          status = "held";
          reason = fraud;
        }
      }
      if (status.empty()) {
        to_credit.push_back(&c);
        continue;
      }
      c.status = status;
      c.reason = reason;
      std::optional<std::int64_t> account_id;
      if (c.account_id) account_id = c.account_id;
      statements.queueRecord({provider.id, report.batch_id, c.rid, c.ref, c.methodology, c.region,
                              canonicalJson(c.inputs_json), status, reason, c.at_ms, account_id},
                             now_ms);
      if (status == "held") {
        ++report.held;
      } else {
        ++report.quarantined;
        report.quarantined_records.push_back({c.index, c.rid, "subject_mismatch", reason});
      }
    }

    Crediting crediting(sql, statements, impl.clock, *catalog, provider.id, report.batch_id);
    crediting.credit(to_credit);
    report.credited = static_cast<std::int64_t>(to_credit.size());
    report.grams = crediting.grams();
    report.points = crediting.points();
    TPH_TRY(crediting.post("ingest:batch:" + std::to_string(report.batch_id),
                           provider.key + " batch " + std::to_string(report.batch_id)));
    for (const auto& c : candidates) {
      digest_text += std::to_string(c.index) + "|" + c.rid + "|" + c.status + ":" + c.reason + "|" +
                     std::to_string(c.grams) + "\n";
    }
    auto digest = sha256Hex(digest_text);
    detail::finishBatch(sql, report.batch_id, report, digest);
    audit::appendAuditEvent(sql, impl.clock,
                            {"provider:" + provider.key,
                             "ingest.batch",
                             "ingest_batch:" + std::to_string(report.batch_id),
                             {{"source", source},
                              {"records", report.records},
                              {"credited", report.credited},
                              {"duplicate", report.duplicate},
                              {"held", report.held},
                              {"quarantined", report.quarantined},
                              {"grams", report.grams},
                              {"points", report.points},
                              {"digest", digest}}});
    return report;
  });
  return stored;
}

Result<std::vector<StoredRecord>> IngestService::records(const Provider& provider,
                                                         const std::string& status, int limit,
                                                         int offset) {
  static const std::set<std::string> kStatuses = {"credited", "held", "quarantined", "rejected",
                                                  "expired"};
  std::string wanted = status.empty() ? "quarantined" : status;
  if (!kStatuses.count(wanted))
    return Error::invalid("status", "status is credited, held, quarantined, rejected or expired");
  if (limit < 1 || limit > 1000) return Error::invalid("limit", "limit must be 1-1000");
  if (offset < 0) return Error::invalid("offset", "offset must not be negative");
  return impl_->db.read([&](soci::session& sql) -> Result<std::vector<StoredRecord>> {
    // The status is one of kStatuses, written literally so the partial index on the statuses
    // other than credited can serve the query.
    return detail::recordsWhere(
        sql, "e.provider_id = CAST(:p AS BIGINT) AND e.status = '" + wanted + "'",
        {std::to_string(provider.id)}, limit, offset);
  });
}

namespace {

//! Rebuilds a candidate from a stored record (held, now to be credited).
std::optional<Candidate> candidateOf(const StoredRecord& r, const methodology::Catalog& catalog) {
  Candidate c;
  c.row_id = r.id;
  c.rid = r.provider_record_id;
  c.ref = r.subject_ref;
  c.methodology = r.methodology;
  c.region = r.region;
  c.at_ms = toEpochMs(r.occurred_at);
  c.day = shanghaiDay(r.occurred_at);
  c.inputs_json = r.inputs;
  c.version = catalog.select(c.methodology, c.day, c.region);
  if (!c.version || !r.inputs.is_object()) return std::nullopt;
  c.inputs.fill(methodology::kMissingInput);
  for (const auto& [name, value] : r.inputs.items()) {
    auto index = c.version->inputIndex(name);
    if (!index || !value.is_number()) return std::nullopt;
    c.inputs[*index] = value.get<double>();
  }
  c.order_key = orderKey(c.at_ms, c.rid);
  return c;
}

}  // namespace

Result<std::int64_t> IngestService::creditHeldUnbound(std::int64_t provider_id,
                                                      const std::string& subject_ref) {
  Impl& impl = *impl_;
  auto catalog = impl.methodologies.catalog();
  auto since = toEpochMs(impl.clock.now() - impl.options.hold_unbound);
  return impl.db.transaction([&](soci::session& sql) -> Result<std::int64_t> {
    auto held = detail::recordsWhere(
        sql,
        "e.provider_id = CAST(:p AS BIGINT) AND e.subject_ref = :r AND e.status = 'held' "
        "AND e.reason = 'unbound' AND e.received_at_ms >= CAST(:s AS BIGINT)",
        {std::to_string(provider_id), subject_ref, std::to_string(since)}, 100000, 0);
    if (held.empty()) return std::int64_t{0};
    auto bound = detail::boundAccounts(sql, provider_id, {subject_ref});
    auto account = bound.find(subject_ref);
    if (account == bound.end()) return std::int64_t{0};
    std::vector<Candidate> candidates;
    for (const auto& r : held) {
      auto c = candidateOf(r, *catalog);
      if (!c) {
        detail::updateRecordOutcome(sql, r.id, "quarantined", "no_version_in_force", std::nullopt,
                                    toEpochMs(impl.clock.now()));
        continue;
      }
      c->account_id = account->second.account_id;
      c->ledger_account = account->second.ledger_account;
      if (!subjectAllowed(*c, account->second.kind)) {
        detail::updateRecordOutcome(sql, r.id, "quarantined", "subject_mismatch", c->account_id,
                                    toEpochMs(impl.clock.now()));
        continue;
      }
      candidates.push_back(std::move(*c));
    }
    std::vector<Candidate*> pointers;
    for (auto& c : candidates) pointers.push_back(&c);
    detail::BatchStatements statements(sql);
    Crediting crediting(sql, statements, impl.clock, *catalog, provider_id, 0);
    crediting.credit(pointers);
    TPH_TRY(crediting.post("ingest:release:" + std::to_string(provider_id) + ":" + subject_ref +
                               ":" + std::to_string(toEpochMs(impl.clock.now())),
                           "records held until the reference was bound"));
    audit::appendAuditEvent(sql, impl.clock,
                            {"system",
                             "ingest.release_held",
                             "provider:" + std::to_string(provider_id),
                             {{"subject_ref", subject_ref},
                              {"credited", static_cast<std::int64_t>(candidates.size())},
                              {"grams", crediting.grams()}}});
    return static_cast<std::int64_t>(candidates.size());
  });
}

Result<std::int64_t> IngestService::expireHeld() {
  Impl& impl = *impl_;
  return impl.db.transaction([&](soci::session& sql) -> Result<std::int64_t> {
    long long before = toEpochMs(impl.clock.now() - impl.options.hold_unbound),
              now = toEpochMs(impl.clock.now());
    soci::statement st =
        (sql.prepare << "UPDATE ingest_records SET status = 'expired', "
                        "reason = 'unbound_expired', decided_at_ms = :t "
                        "WHERE status = 'held' AND reason = 'unbound' AND received_at_ms < :b",
         soci::use(now), soci::use(before));
    st.execute(true);
    auto expired = static_cast<std::int64_t>(st.get_affected_rows());
    if (expired > 0) {
      audit::appendAuditEvent(
          sql, impl.clock,
          {"system", "ingest.expire_held", "ingest_records", {{"expired", expired}}});
    }
    return expired;
  });
}

namespace {

//! Narrows `where` to records in the regions the caller administers (every region for the
//! province); false for a caller who administers none.
bool limitToAdministeredRegions(const auth::Principal& caller, std::string& where,
                                std::vector<std::string>& binds) {
  if (caller.hasRole(auth::Role::kProvinceAdmin)) return true;
  std::string any;
  for (const auto& g : caller.grants) {
    if (g.role != auth::Role::kRegionAdmin) continue;
    any += (any.empty() ? "" : " OR ") + std::string("e.region_code LIKE :r") +
           std::to_string(binds.size());
    binds.push_back(regionPrefix(g.region_code) + "%");
  }
  if (binds.empty()) return false;
  where += " AND (" + any + ")";
  return true;
}

}  // namespace

Result<std::vector<StoredRecord>> IngestService::heldForReview(const auth::Principal& caller,
                                                               int limit, int offset) {
  if (limit < 1 || limit > 1000) return Error::invalid("limit", "limit must be 1-1000");
  std::vector<std::string> binds;
  std::string where = "e.status = 'held' AND e.reason LIKE 'fraud_%'";
  if (!limitToAdministeredRegions(caller, where, binds))
    return Error::forbidden("only province and region admins review held records");
  return impl_->db.read([&](soci::session& sql) -> Result<std::vector<StoredRecord>> {
    return detail::recordsWhere(sql, where, binds, limit, offset);
  });
}

Result<std::vector<StoredRecord>> IngestService::quarantinedInRegion(const auth::Principal& caller,
                                                                     const std::string& reason,
                                                                     int limit, int offset) {
  if (limit < 1 || limit > 1000) return Error::invalid("limit", "limit must be 1-1000");
  if (offset < 0) return Error::invalid("offset", "offset must be 0 or more");
  if (reason.size() > 40 || !std::all_of(reason.begin(), reason.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || c == '_';
      })) {
    return Error::invalid("reason", "reason is a reason code such as invalid_inputs");
  }
  std::vector<std::string> binds;
  std::string where = "e.status = 'quarantined'";
  if (!reason.empty()) {
    // A quarantine reason is stored as "code: message".
    where += " AND (e.reason = :reason OR e.reason LIKE :reason_message)";
    binds.push_back(reason);
    binds.push_back(reason + ": %");
  }
  if (!limitToAdministeredRegions(caller, where, binds))
    return Error::forbidden("only province and region admins review quarantined records");
  return impl_->db.read([&](soci::session& sql) -> Result<std::vector<StoredRecord>> {
    return detail::recordsWhere(sql, where, binds, limit, offset);
  });
}

namespace {

//! A record held by anti-fraud rules in a region the caller administers.
Result<StoredRecord> heldRecordForReview(soci::session& sql, const auth::Principal& caller,
                                         std::int64_t record_id, const std::string& verb) {
  auto found =
      detail::recordsWhere(sql, "e.id = CAST(:id AS BIGINT)", {std::to_string(record_id)}, 1, 0);
  if (found.empty() || !caller.administersRegion(found[0].region))
    return Error::notFound("no such record", "id");
  if (found[0].status != "held" || found[0].reason.rfind("fraud_", 0) != 0) {
    return Error::conflict(
        "only records held for review are " + verb + "; this one is " + found[0].status, "status");
  }
  return found[0];
}

}  // namespace

Result<StoredRecord> IngestService::approveHeld(const auth::Principal& caller,
                                                std::int64_t record_id) {
  Impl& impl = *impl_;
  auto catalog = impl.methodologies.catalog();
  return impl.db.transaction([&](soci::session& sql) -> Result<StoredRecord> {
    auto held = heldRecordForReview(sql, caller, record_id, "approved");
    if (!held) return held.error();
    auto& r = *held;
    auto c = candidateOf(r, *catalog);
    if (!c || !r.account_id) return Error::conflict("the record can no longer be quantified", "id");
    auto bound = detail::boundAccounts(sql, r.provider_id, {r.subject_ref});
    auto account = bound.find(r.subject_ref);
    if (account == bound.end()) return Error::conflict("the reference is no longer bound", "id");
    c->account_id = account->second.account_id;
    c->ledger_account = account->second.ledger_account;
    detail::BatchStatements statements(sql);
    Crediting crediting(sql, statements, impl.clock, *catalog, r.provider_id, 0);
    crediting.credit({&*c});
    TPH_TRY(crediting.post("ingest:approve:" + std::to_string(record_id),
                           "held record approved on review"));
    audit::appendAuditEvent(sql, impl.clock,
                            {caller.auditActor(),
                             "ingest.approve_held",
                             "ingest_record:" + std::to_string(record_id),
                             {{"reason_held", r.reason}, {"grams", crediting.grams()}}});
    r.status = "credited";
    r.reason.clear();
    return r;
  });
}

Result<StoredRecord> IngestService::rejectHeld(const auth::Principal& caller,
                                               std::int64_t record_id, const std::string& reason) {
  if (reason.empty() || reason.size() > 2000)
    return Error::invalid("reason", "say why, in 1-2000 bytes");
  Impl& impl = *impl_;
  return impl.db.transaction([&](soci::session& sql) -> Result<StoredRecord> {
    auto held = heldRecordForReview(sql, caller, record_id, "rejected");
    if (!held) return held.error();
    auto& r = *held;
    detail::updateRecordOutcome(sql, record_id, "rejected", r.reason + ": " + reason, r.account_id,
                                toEpochMs(impl.clock.now()));
    audit::appendAuditEvent(sql, impl.clock,
                            {caller.auditActor(),
                             "ingest.reject_held",
                             "ingest_record:" + std::to_string(record_id),
                             {{"reason_held", r.reason}, {"reason", reason}}});
    r.status = "rejected";
    r.reason = r.reason + ": " + reason;
    return r;
  });
}

AccountSummary IngestService::summary(std::int64_t account_id, const std::string& from_day,
                                      const std::string& to_day) {
  return impl_->db.read([&](soci::session& sql) {
    return detail::accountSummary(sql, account_id, from_day, to_day);
  });
}

std::vector<ReductionEntry> IngestService::history(std::int64_t account_id, int limit, int offset) {
  auto entries = impl_->db.read(
      [&](soci::session& sql) { return detail::accountHistory(sql, account_id, limit, offset); });
  // Rows keep the compact result; the version supplies formula, factors and sources again.
  auto catalog = impl_->methodologies.catalog();
  for (auto& e : entries) {
    const CompiledMethodology* version = catalog->find(e.methodology, e.version);
    auto q = version ? version->parseCompactResult(e.explanation.dump()) : std::nullopt;
    if (!q) continue;
    std::array<double, methodology::kMaxInputs> given;
    given.fill(methodology::kMissingInput);
    if (e.inputs.is_object()) {
      for (const auto& [name, value] : e.inputs.items()) {
        auto index = version->inputIndex(name);
        if (index && value.is_number()) given[*index] = value.get<double>();
      }
    }
    e.explanation = version->explain({given.data(), version->definition().inputs.size()}, *q);
  }
  std::set<std::int64_t> campaign_ids;
  for (const auto& e : entries) {
    if (e.campaign_id) campaign_ids.insert(*e.campaign_id);
  }
  if (campaign_ids.empty()) return entries;
  auto labels =
      impl_->db.read([&](soci::session& sql) { return region::campaignLabels(sql, campaign_ids); });
  for (auto& e : entries) {
    if (!e.campaign_id || !e.explanation.is_object()) continue;
    const auto& label = labels[*e.campaign_id];
    e.explanation["campaign"] = {{"id", *e.campaign_id},
                                 {"name_zh", label.name_zh},
                                 {"name_en", label.name_en},
                                 {"multiplier", label.multiplier_permille / 1000.0},
                                 {"base_points", e.points - e.campaign_bonus_points},
                                 {"bonus_points", e.campaign_bonus_points}};
  }
  return entries;
}

}  // namespace tph::ingest
