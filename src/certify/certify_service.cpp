#include "certify/certify_service.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "certify/certify_store.h"
#include "certify/issuance_certificate.h"
#include "certify/provenance_store.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "methodology/methodology_service.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::certify {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr std::chrono::hours kShanghaiOffset{8};

std::optional<year_month_day> parseDay(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  year_month_day ymd{std::chrono::year(std::stoi(text.substr(0, 4))),
                     std::chrono::month(static_cast<unsigned>(std::stoi(text.substr(5, 2)))),
                     std::chrono::day(static_cast<unsigned>(std::stoi(text.substr(8, 2))))};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::string formatDay(sys_days day) {
  year_month_day ymd(day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

//! The instant an Asia/Shanghai calendar day starts.
Instant dayStart(sys_days day) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(sys_days(day) - kShanghaiOffset);
}

const char* kStateNames[] = {"open", "corrections_requested", "approved", "rejected", "issued"};

BatchState parseState(const std::string& text) {
  for (int i = 0; i < 5; ++i)
    if (text == kStateNames[i]) return static_cast<BatchState>(i);
  throw std::logic_error("unknown batch state " + text);
}

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes) {
  if (text.empty()) return Error::invalid(field, field + " is required");
  if (text.size() > max_bytes)
    return Error::invalid(field, field + " is at most " + std::to_string(max_bytes) + " bytes");
  return {};
}

std::string subjectOf(std::int64_t id) {
  return "certification_batch:" + std::to_string(id);
}

//! Commits the batch to the reductions locked in it now: a new salt and both roots when it opens,
//! the current root after deductions, a rejection or at issuance. Returns {root, leaves}.
std::pair<std::string, std::int64_t> commitReductions(soci::session& sql, std::int64_t batch_id,
                                                      std::int64_t now_ms) {
  auto existing = detail::findMerkle(sql, batch_id);
  std::string salt = existing ? existing->salt : randomHex(16);
  auto leaves = detail::batchLeaves(sql, batch_id, salt);
  std::string root = merkleRootHex(leaves);
  std::int64_t grams = 0;
  for (const auto& l : leaves) grams = checked::add(grams, l.grams);
  auto count = static_cast<std::int64_t>(leaves.size());
  if (existing) {
    detail::updateMerkle(sql, batch_id, root, count, grams, now_ms);
  } else {
    detail::insertMerkle(sql, batch_id, {salt, root, root, count, count, grams, now_ms});
  }
  return {root, count};
}

//! A verifier is independent of a batch's operator when it did not open the batch, does not
//! administer the batch's region, and is no member of the operator's registry account.
Status checkIndependent(soci::session& sql, const detail::BatchRow& batch,
                        const Principal& verifier) {
  if (batch.opened_by_user_id && *batch.opened_by_user_id == verifier.user_id)
    return Error::forbidden("the verifier opened this batch", "verifier_user_id");
  if (verifier.administersRegion(batch.region)) {
    return Error::forbidden(
        "the verifier administers region " + batch.region + " and so belongs to the operator",
        "verifier_user_id");
  }
  if (registry::isAccountMember(sql, batch.operator_account_id, verifier.user_id)) {
    return Error::forbidden("the verifier is a member of the operator's registry account",
                            "verifier_user_id");
  }
  return {};
}

}  // namespace

const char* toString(BatchState state) {
  return kStateNames[static_cast<int>(state)];
}

Instant noticeEnd(Instant opened, int working_days, const std::set<std::string>& holidays) {
  if (working_days <= 0) return opened;
  auto day = parseDay(shanghaiDay(opened));
  if (!day) throw std::logic_error("shanghaiDay gave an unreadable day");
  sys_days d(*day);
  for (int counted = 0; counted < working_days;) {
    d += days(1);
    std::chrono::weekday wd(d);
    bool weekend = wd == std::chrono::Saturday || wd == std::chrono::Sunday;
    if (!weekend && !holidays.count(formatDay(d))) ++counted;
  }
  return dayStart(d + days(1));
}

std::vector<std::int64_t> sampleIds(const std::vector<std::int64_t>& ids, const std::string& seed,
                                    std::size_t size) {
  std::vector<std::pair<std::string, std::int64_t>> keyed;
  keyed.reserve(ids.size());
  for (auto id : ids) keyed.emplace_back(sha256Hex(seed + ":" + std::to_string(id)), id);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < keyed.size() && i < size; ++i) out.push_back(keyed[i].second);
  return out;
}

IssueArithmetic issueArithmetic(Grams carry_in, Grams approved, bool carbon_sink,
                                int buffer_share_bp) {
  if (carry_in.isNegative() || carry_in.value() >= kGramsPerUnit || approved.isNegative() ||
      buffer_share_bp < 0 || buffer_share_bp > 10'000) {
    throw std::logic_error("issueArithmetic: out-of-range input");
  }
  Grams total = carry_in + approved;
  IssueArithmetic out;
  out.units = Units(total.value() / kGramsPerUnit);
  out.carry_out = Grams(total.value() % kGramsPerUnit);
  if (carbon_sink) {
    // Rounded up: the buffer is insurance against reversal, so it never comes out short.
    std::int64_t share = checked::mul(out.units.value(), buffer_share_bp);
    out.buffer_units = Units((share + 9'999) / 10'000);
  }
  // Postconditions: nothing created or lost, the buffer inside the issuance.
  if (out.units.value() * kGramsPerUnit + out.carry_out.value() != total.value() ||
      out.buffer_units > out.units) {
    throw std::logic_error("issueArithmetic does not add up");
  }
  return out;
}

// ------------------------------------------------------------------------- monitoring report

json MonitoringReport::toJson() const {
  json month_totals = json::array();
  for (const auto& t : totals) {
    month_totals.push_back({{"methodology_version", t.methodology_version},
                            {"month", t.month},
                            {"records", t.records},
                            {"grams", t.grams.value()}});
  }
  json samples = json::array();
  for (const auto& s : sample) {
    samples.push_back({{"reduction_id", s.reduction_id},
                       {"provider_record_id", s.provider_record_id},
                       {"account_id", s.account_id},
                       {"methodology_version", s.methodology_version},
                       {"day", s.day},
                       {"grams", s.grams.value()},
                       {"inputs", s.inputs},
                       {"explanation", s.explanation}});
  }
  return {{"totals", month_totals},
          {"records", records},
          {"subjects", subjects},
          {"grams", grams.value()},
          {"period_records", period_records},
          {"held", held},
          {"quarantined", quarantined},
          {"held_or_quarantined_share_bp", held_or_quarantined_share_bp},
          {"reoffered", reoffered},
          {"sample_seed", sample_seed},
          {"sample_method",
           "the sample_size reductions with the smallest hex SHA-256 of "
           "\"{sample_seed}:{reduction_id}\""},
          {"sample", samples}};
}

MonitoringReport MonitoringReport::fromJson(const json& j) {
  MonitoringReport r;
  for (const auto& t : j.at("totals")) {
    r.totals.push_back({t.at("methodology_version").get<int>(), t.at("month").get<std::string>(),
                        t.at("records").get<std::int64_t>(),
                        Grams(t.at("grams").get<std::int64_t>())});
  }
  r.records = j.at("records").get<std::int64_t>();
  r.subjects = j.at("subjects").get<std::int64_t>();
  r.grams = Grams(j.at("grams").get<std::int64_t>());
  r.period_records = j.at("period_records").get<std::int64_t>();
  r.held = j.at("held").get<std::int64_t>();
  r.quarantined = j.at("quarantined").get<std::int64_t>();
  r.held_or_quarantined_share_bp = j.at("held_or_quarantined_share_bp").get<std::int64_t>();
  r.reoffered = j.at("reoffered").get<std::int64_t>();
  r.sample_seed = j.at("sample_seed").get<std::string>();
  for (const auto& s : j.at("sample")) {
    r.sample.push_back(
        {s.at("reduction_id").get<std::int64_t>(), s.at("provider_record_id").get<std::string>(),
         s.at("account_id").get<std::int64_t>(), s.at("methodology_version").get<int>(),
         s.at("day").get<std::string>(), Grams(s.at("grams").get<std::int64_t>()), s.at("inputs"),
         s.at("explanation")});
  }
  return r;
}

// ---------------------------------------------------------------------------------- service

CertifyService::CertifyService(store::Database& db, const Clock& clock, auth::AuthService& auth,
                               methodology::MethodologyService& methodologies,
                               CertifyOptions options)
    : db_(db),
      clock_(clock),
      auth_(auth),
      methodologies_(methodologies),
      options_(std::move(options)) {}

namespace {

Batch batchFrom(soci::session& sql, const detail::BatchRow& row, Instant now) {
  Batch b;
  b.id = row.id;
  b.methodology = row.methodology;
  b.region = row.region;
  b.vintage_from = row.vintage_from;
  b.vintage_until = row.vintage_until;
  b.vintage_year = row.vintage_year;
  b.carbon_sink = row.carbon_sink;
  b.operator_account_no = registry::accountNumber(sql, row.operator_account_id);
  b.state = parseState(row.state);
  b.opened_by = row.opened_by;
  b.opened_at = fromEpochMs(row.opened_at_ms);
  b.notice_days_working = row.notice_days_working;
  b.notice_until = fromEpochMs(row.notice_until_ms);
  b.in_notice = now < b.notice_until;
  b.verifier_user_id = row.verifier_user_id;
  b.records_locked = row.records_locked;
  b.grams_locked = Grams(row.grams_locked);
  b.grams_released = Grams(detail::releasedGrams(sql, row.id));
  if (row.grams_approved) b.grams_approved = Grams(*row.grams_approved);
  b.decision_note = row.decision_note;
  if (row.carry_in) b.carry_in = Grams(*row.carry_in);
  if (row.carry_out) b.carry_out = Grams(*row.carry_out);
  if (row.units_issued) b.units_issued = Units(*row.units_issued);
  if (row.buffer_units) b.buffer_units = Units(*row.buffer_units);
  if (row.issued_at_ms) b.issued_at = fromEpochMs(*row.issued_at_ms);
  if (auto merkle = detail::findMerkle(sql, row.id)) b.merkle_root = merkle->root;
  return b;
}

MonitoringReport buildReport(soci::session& sql, const detail::BatchRow& batch,
                             std::size_t sample_size, std::int64_t from_ms, std::int64_t until_ms) {
  MonitoringReport r;
  r.totals = detail::monthTotals(sql, batch.id);
  for (const auto& t : r.totals) {
    r.records += t.records;
    r.grams += t.grams;
  }
  r.subjects = detail::subjects(sql, batch.id);
  for (const auto& [status, n] :
       detail::recordStatuses(sql, batch.methodology, batch.region, from_ms, until_ms)) {
    r.period_records += n;
    if (status == "held") r.held = n;
    if (status == "quarantined") r.quarantined = n;
  }
  if (r.period_records > 0) {
    r.held_or_quarantined_share_bp = (r.held + r.quarantined) * 10'000 / r.period_records;
  }
  r.reoffered = detail::reoffered(sql, batch.id);
  r.sample_seed = batch.sample_seed;
  r.sample = detail::sampleRecords(
      sql, sampleIds(detail::lockedIds(sql, batch.id), batch.sample_seed, sample_size));
  return r;
}

}  // namespace

Result<Batch> CertifyService::open(const Principal& caller, const OpenBatchRequest& request) {
  if (!registry::isSerialSafeMethodology(request.methodology)) {
    return Error::invalid("methodology", "methodology must be a methodology id (a-z, 0-9, . _)");
  }
  if (!isRegionCode(request.region) || regionLevel(request.region) == RegionLevel::kCounty) {
    return Error::invalid("region", "region must be a city or the province (GB/T 2260)");
  }
  auto from = parseDay(request.vintage_from);
  if (!from) return Error::invalid("vintage_from", "vintage_from must be a date YYYY-MM-DD");
  auto until = parseDay(request.vintage_until);
  if (!until) return Error::invalid("vintage_until", "vintage_until must be a date YYYY-MM-DD");
  if (sys_days(*until) < sys_days(*from))
    return Error::invalid("vintage_until", "vintage_until is before vintage_from");
  if (until->year() != from->year())
    return Error::invalid("vintage_until", "a vintage period lies within one calendar year");
  Instant now = clock_.now();
  if (request.vintage_until >= shanghaiDay(now))
    return Error::invalid("vintage_until", "the vintage period must have ended before today");
  int notice_days = request.notice_days_working.value_or(options_.notice_days_working);
  if (notice_days < 0 || notice_days > kNoticeMaxWorkingDays) {
    return Error::invalid("notice_days_working",
                          "notice_days_working must be 0-" + std::to_string(kNoticeMaxWorkingDays));
  }
  if (!caller.administersRegion(request.region))
    return Error::forbidden("you do not administer region " + request.region, "region");

  auto run = [&](soci::session& sql) -> Result<Batch> {
    if (!detail::regionExists(sql, request.region))
      return Error::invalid("region", "no region " + request.region);
    std::int64_t now_ms = toEpochMs(now);
    detail::BatchRow row;
    row.methodology = request.methodology;
    row.region = request.region;
    row.vintage_from = request.vintage_from;
    row.vintage_until = request.vintage_until;
    row.vintage_year = static_cast<int>(from->year());
    row.operator_account_id =
        registry::ensureOperatorAccount(sql, clock_, request.region, caller.auditActor());
    row.opened_by = caller.auditActor();
    row.opened_by_user_id = caller.user_id;
    row.opened_at_ms = now_ms;
    row.notice_days_working = notice_days;
    row.notice_until_ms = toEpochMs(noticeEnd(now, notice_days, options_.holidays));
    row.sample_seed = randomHex(16);
    row.id = detail::insertBatch(sql, row, now_ms);
    auto locked = detail::lockReductions(sql, row.id, row.methodology, row.region, row.vintage_from,
                                         row.vintage_until);
    if (locked == 0) {
      return Error::conflict("no uncertified credited reductions of " + row.methodology + " in " +
                                 row.region + " from " + row.vintage_from + " to " +
                                 row.vintage_until,
                             "methodology");
    }
    if (locked > kBatchMaxRecords) {
      return Error::invalid("vintage_until", "a batch locks at most " +
                                                 std::to_string(kBatchMaxRecords) +
                                                 " records; choose a shorter period");
    }
    auto domains = detail::lockedDomains(sql, row.id);
    row.carbon_sink = std::find(domains.begin(), domains.end(), "carbon_sink") != domains.end();
    auto report = buildReport(sql, row, static_cast<std::size_t>(options_.sample_size),
                              toEpochMs(dayStart(sys_days(*from))),
                              toEpochMs(dayStart(sys_days(*until) + days(1))));
    auto report_json = report.toJson();
    detail::setReport(sql, row.id, report_json.dump(), report.records, report.grams.value(),
                      row.carbon_sink);
    auto [merkle_root, merkle_leaves] = commitReductions(sql, row.id, now_ms);
    detail::insertReview(sql, row.id, row.opened_by, "open",
                         std::to_string(report.records) + " records, " +
                             std::to_string(report.grams.value()) + " g locked",
                         now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "certify.batch.open", subjectOf(row.id),
                             json{{"methodology", row.methodology},
                                  {"region", row.region},
                                  {"vintage_from", row.vintage_from},
                                  {"vintage_until", row.vintage_until},
                                  {"records", report.records},
                                  {"grams", report.grams.value()},
                                  {"carbon_sink", row.carbon_sink},
                                  {"notice_until", formatIso8601(fromEpochMs(row.notice_until_ms))},
                                  {"report_sha256", sha256Hex(canonicalJson(report_json))},
                                  {"merkle_root", merkle_root},
                                  {"merkle_leaves", merkle_leaves}}});
    auto stored = detail::findBatch(sql, row.id, false);
    return batchFrom(sql, *stored, now);
  };
  try {
    return db_.transaction(run);
  } catch (const std::exception& e) {
    // Two batches racing for the same reductions: the primary key of batch_reductions let one
    // win; the other locked nothing and may simply be opened again.
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict(
        "another batch locked some of these reductions at the same moment; open it again");
  }
}

Result<Batch> CertifyService::openLinked(soci::session& sql, const LinkedBatchRequest& request) {
  if (!registry::isSerialSafeMethodology(request.methodology)) {
    return Error::invalid("methodology", "methodology must be a methodology id (a-z, 0-9, . _)");
  }
  if (!isRegionCode(request.region) || regionLevel(request.region) != RegionLevel::kCity) {
    return Error::invalid("region", "a linked batch belongs to a city (GB/T 2260)");
  }
  auto from = parseDay(request.vintage_from);
  if (!from) return Error::invalid("vintage_from", "vintage_from must be a date YYYY-MM-DD");
  auto until = parseDay(request.vintage_until);
  if (!until) return Error::invalid("vintage_until", "vintage_until must be a date YYYY-MM-DD");
  if (sys_days(*until) < sys_days(*from) || until->year() != from->year()) {
    return Error::invalid("vintage_until", "a vintage period lies within one calendar year");
  }
  Instant now = clock_.now();
  if (request.vintage_until >= shanghaiDay(now))
    return Error::invalid("vintage_until", "the vintage period must have ended before today");
  const auto& report = request.report;
  if (report.records < 1 || report.records > kBatchMaxRecords || report.grams.value() < 1) {
    return Error::invalid(
        "monitoring_report.records",
        "a batch holds 1 to " + std::to_string(kBatchMaxRecords) + " records and some grams");
  }
  if (request.records_digest.size() != 64)
    return Error::invalid("records_digest", "must be a SHA-256 hex digest");
  if (!detail::regionExists(sql, request.region))
    return Error::invalid("region", "no region " + request.region);
  if (detail::linkedSourceTaken(sql, request.source, request.source_batch_ref)) {
    return Error::conflict(
        "batch " + request.source_batch_ref + " of " + request.source + " was submitted before",
        "batch_id");
  }
  std::int64_t now_ms = toEpochMs(now);
  detail::BatchRow row;
  row.methodology = request.methodology;
  row.region = request.region;
  row.vintage_from = request.vintage_from;
  row.vintage_until = request.vintage_until;
  row.vintage_year = static_cast<int>(from->year());
  row.operator_account_id =
      registry::ensureOperatorAccount(sql, clock_, request.region, request.source);
  row.opened_by = request.source;
  row.opened_at_ms = now_ms;
  row.notice_days_working = options_.notice_days_working;
  row.notice_until_ms = toEpochMs(noticeEnd(now, row.notice_days_working, options_.holidays));
  row.sample_seed = report.sample_seed;
  row.id = detail::insertBatch(sql, row, now_ms);
  detail::insertLinkedBatch(sql, row.id, request.source, request.source_batch_ref,
                            request.records_digest);
  auto report_json = report.toJson();
  detail::setReport(sql, row.id, report_json.dump(), report.records, report.grams.value(),
                    request.carbon_sink);
  detail::insertReview(sql, row.id, row.opened_by, "open",
                       std::to_string(report.records) + " records, " +
                           std::to_string(report.grams.value()) + " g submitted by " +
                           request.source,
                       now_ms);
  audit::appendAuditEvent(sql, clock_,
                          {request.source, "certify.batch.open", subjectOf(row.id),
                           json{{"methodology", row.methodology},
                                {"region", row.region},
                                {"vintage_from", row.vintage_from},
                                {"vintage_until", row.vintage_until},
                                {"records", report.records},
                                {"grams", report.grams.value()},
                                {"carbon_sink", request.carbon_sink},
                                {"source_batch", request.source_batch_ref},
                                {"records_digest", request.records_digest},
                                {"report_sha256", sha256Hex(canonicalJson(report_json))}}});
  return batchFrom(sql, *detail::findBatch(sql, row.id, false), now);
}

Result<std::vector<Batch>> CertifyService::list(const std::string& state, int limit, int offset) {
  if (!state.empty() &&
      std::find(std::begin(kStateNames), std::end(kStateNames), state) == std::end(kStateNames)) {
    return Error::invalid(
        "state", "state must be open, corrections_requested, approved, rejected or issued");
  }
  if (limit < 1 || limit > 500) return Error::invalid("limit", "limit must be 1-500");
  if (offset < 0) return Error::invalid("offset", "offset must not be negative");
  return db_.read([&](soci::session& sql) -> Result<std::vector<Batch>> {
    std::vector<Batch> out;
    for (const auto& row : detail::listBatches(sql, state, limit, offset))
      out.push_back(batchFrom(sql, row, clock_.now()));
    return out;
  });
}

Result<Batch> CertifyService::get(std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, false);
    if (!row) return Error::notFound("no such batch", "id");
    return batchFrom(sql, *row, clock_.now());
  });
}

Result<MonitoringReport> CertifyService::report(const Principal& caller, std::int64_t id) {
  std::string row_methodology;
  auto report = db_.read([&](soci::session& sql) -> Result<MonitoringReport> {
    auto row = detail::findBatch(sql, id, false);
    if (!row) return Error::notFound("no such batch", "id");
    row_methodology = row->methodology;
    bool allowed = caller.administersRegion(row->region) || caller.hasRole(Role::kAuditor) ||
                   (row->verifier_user_id && *row->verifier_user_id == caller.user_id);
    if (!allowed) return Error::forbidden("the report is for the operator, verifier and auditors");
    return MonitoringReport::fromJson(json::parse(row->report_json));
  });
  if (!report) return report;
  // Stored explanations are compact; the methodology version supplies formula, factors and
  // sources again, as an account's history does.
  auto catalog = methodologies_.catalog();
  for (auto& s : report->sample) {
    const auto* version = catalog->find(row_methodology, s.methodology_version);
    auto q = version ? version->parseCompactResult(s.explanation.dump()) : std::nullopt;
    if (!q) continue;
    std::vector<double> given(version->definition().inputs.size(), methodology::kMissingInput);
    if (s.inputs.is_object()) {
      for (const auto& [name, value] : s.inputs.items()) {
        auto index = version->inputIndex(name);
        if (index && value.is_number()) given[*index] = value.get<double>();
      }
    }
    s.explanation = version->explain(given, *q);
  }
  return report;
}

Result<std::vector<ReviewEntry>> CertifyService::reviews(std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<ReviewEntry>> {
    if (!detail::findBatch(sql, id, false)) return Error::notFound("no such batch", "id");
    return detail::listReviews(sql, id);
  });
}

// --------------------------------------------------------------------------- public notice

Result<Comment> CertifyService::comment(const std::optional<Principal>& caller, std::int64_t id,
                                        const std::string& author, const std::string& body) {
  std::string name = author;
  if (name.empty() && caller)
    name = caller->display_name.empty() ? caller->username : caller->display_name;
  TPH_TRY(checkText("author", name, kAuthorMaxBytes));
  TPH_TRY(checkText("body", body, kCommentMaxBytes));
  return db_.transaction([&](soci::session& sql) -> Result<Comment> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    if (row->state != "open" && row->state != "corrections_requested")
      return Error::conflict("the batch is " + row->state + " and takes no more comments");
    if (detail::commentCount(sql, id) >= kCommentsMaxPerBatch)
      return Error::conflict("the batch has as many comments as it takes");
    std::int64_t now = toEpochMs(clock_.now());
    std::optional<std::int64_t> user;
    if (caller) user = caller->user_id;
    auto comment_id = detail::insertComment(sql, id, name, user, body, now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller ? caller->auditActor() : "public", "certify.batch.comment", subjectOf(id),
         json{{"comment", comment_id}, {"author", name}, {"body_sha256", sha256Hex(body)}}});
    return Comment{comment_id, name, body, fromEpochMs(now)};
  });
}

Result<std::vector<Comment>> CertifyService::comments(std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Comment>> {
    if (!detail::findBatch(sql, id, false)) return Error::notFound("no such batch", "id");
    return detail::listComments(sql, id);
  });
}

// ---------------------------------------------------------------------------------- review

Result<Batch> CertifyService::assignVerifier(const Principal& caller, std::int64_t id,
                                             std::int64_t verifier_user_id) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("the province assigns verifiers");
  auto user = auth_.getUser(caller, verifier_user_id);
  if (!user) return Error::invalid("verifier_user_id", "no such user");
  Principal verifier{user->id, user->username, user->display_name, user->grants, {}};
  if (user->status != "active" || !verifier.hasRole(Role::kVerifier))
    return Error::invalid("verifier_user_id", "the user is not an active accredited verifier");
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    if (row->state != "open" && row->state != "corrections_requested")
      return Error::conflict("the batch is " + row->state + "; its review is over");
    TPH_TRY(checkIndependent(sql, *row, verifier));
    std::int64_t now = toEpochMs(clock_.now());
    std::string name = user->display_name.empty() ? user->username : user->display_name;
    detail::setVerifier(sql, id, user->id, name, now);
    detail::insertReview(sql, id, caller.auditActor(), "assign", "verifier " + user->username, now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "certify.batch.assign", subjectOf(id),
                             json{{"verifier_user_id", user->id}, {"verifier", user->username}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

namespace {

//! The caller is the batch's assigned, still independent verifier, and the notice is over.
Status checkVerifier(soci::session& sql, const detail::BatchRow& batch, const Principal& caller,
                     Instant now) {
  if (!caller.hasRole(Role::kVerifier) || !batch.verifier_user_id ||
      *batch.verifier_user_id != caller.user_id) {
    return Error::forbidden("you are not the verifier assigned to this batch");
  }
  TPH_TRY(checkIndependent(sql, batch, caller));
  if (now < fromEpochMs(batch.notice_until_ms)) {
    return Error::conflict("the public notice runs until " +
                               formatIso8601(fromEpochMs(batch.notice_until_ms)) +
                               "; review starts after it",
                           "notice_until");
  }
  return {};
}

}  // namespace

Result<Batch> CertifyService::requestCorrections(const Principal& caller, std::int64_t id,
                                                 const std::string& note) {
  TPH_TRY(checkText("note", note, kNoteMaxBytes));
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    TPH_TRY(checkVerifier(sql, *row, caller, clock_.now()));
    std::int64_t now = toEpochMs(clock_.now());
    if (!detail::setState(sql, id, {"open"}, "corrections_requested", now))
      return Error::conflict("the batch is " + row->state + ", not open for review");
    detail::insertReview(sql, id, caller.auditActor(), "corrections", note, now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "certify.batch.corrections", subjectOf(id), json{{"note", note}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

Result<Batch> CertifyService::respondToCorrections(const Principal& caller, std::int64_t id,
                                                   const std::string& note) {
  TPH_TRY(checkText("note", note, kNoteMaxBytes));
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    if (!caller.administersRegion(row->region))
      return Error::forbidden("the operator's admins answer corrections");
    std::int64_t now = toEpochMs(clock_.now());
    if (!detail::setState(sql, id, {"corrections_requested"}, "open", now))
      return Error::conflict("no corrections were requested");
    detail::insertReview(sql, id, caller.auditActor(), "response", note, now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "certify.batch.response", subjectOf(id), json{{"note", note}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

Result<Batch> CertifyService::deduct(const Principal& caller, std::int64_t id,
                                     const std::vector<Deduction>& deductions) {
  if (deductions.empty() || deductions.size() > kDeductionsMax) {
    return Error::invalid("deductions",
                          "deductions lists 1-" + std::to_string(kDeductionsMax) + " reductions");
  }
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < deductions.size(); ++i) {
    std::string field = "deductions[" + std::to_string(i) + "]";
    TPH_TRY(checkText(field + ".reason", deductions[i].reason, kNoteMaxBytes));
    if (!seen.insert(deductions[i].reduction_id).second)
      return Error::invalid(field + ".reduction_id", "a reduction is deducted once");
  }
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    TPH_TRY(checkVerifier(sql, *row, caller, clock_.now()));
    if (row->state != "open")
      return Error::conflict("the batch is " + row->state + ", not open for review");
    std::int64_t now = toEpochMs(clock_.now());
    json released = json::array();
    Grams total{0};
    for (std::size_t i = 0; i < deductions.size(); ++i) {
      const auto& d = deductions[i];
      auto grams = detail::lockedGrams(sql, id, d.reduction_id);
      if (!grams) {
        return Error::invalid(
            "deductions[" + std::to_string(i) + "].reduction_id",
            "reduction " + std::to_string(d.reduction_id) + " is not locked in this batch");
      }
      detail::releaseOne(sql, id, d.reduction_id, *grams, d.reason, caller.auditActor(), now);
      total += Grams(*grams);
      released.push_back(
          {{"reduction_id", d.reduction_id}, {"grams", *grams}, {"reason", d.reason}});
    }
    detail::refreshLockedTotals(sql, id, now);
    auto [merkle_root, merkle_leaves] = commitReductions(sql, id, now);
    detail::insertReview(
        sql, id, caller.auditActor(), "deduct",
        std::to_string(deductions.size()) + " reductions, " + std::to_string(total.value()) + " g",
        now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "certify.batch.deduct", subjectOf(id),
                             json{{"deductions", released},
                                  {"grams", total.value()},
                                  {"merkle_root", merkle_root},
                                  {"merkle_leaves", merkle_leaves}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

Result<Batch> CertifyService::approve(const Principal& caller, std::int64_t id, Grams grams,
                                      const std::string& note) {
  if (grams.value() < 1) return Error::invalid("grams", "grams approved must be positive");
  if (note.size() > kNoteMaxBytes) return Error::invalid("note", "note is too long");
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    TPH_TRY(checkVerifier(sql, *row, caller, clock_.now()));
    if (row->state != "open")
      return Error::conflict("the batch is " + row->state + ", not open for review");
    auto locked = detail::lockedTotals(sql, id);
    // A linked batch's reductions stay on its platform: what it submitted is what is locked.
    if (detail::isLinkedBatch(sql, id)) locked = {row->records_locked, row->grams_locked};
    if (grams.value() > locked.grams) {
      return Error::invalid("grams", "at most the " + std::to_string(locked.grams) +
                                         " g still locked in the batch can be approved");
    }
    std::int64_t now = toEpochMs(clock_.now());
    detail::setDecision(sql, id, grams.value(), note, now);
    if (!detail::setState(sql, id, {"open"}, "approved", now))
      throw std::logic_error("batch changed state under its row lock");
    detail::insertReview(sql, id, caller.auditActor(), "approve",
                         std::to_string(grams.value()) + " g. " + note, now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "certify.batch.approve", subjectOf(id),
         json{{"grams", grams.value()}, {"grams_locked", locked.grams}, {"note", note}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

Result<Batch> CertifyService::reject(const Principal& caller, std::int64_t id,
                                     const std::string& reason) {
  TPH_TRY(checkText("reason", reason, kNoteMaxBytes));
  return db_.transaction([&](soci::session& sql) -> Result<Batch> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    TPH_TRY(checkVerifier(sql, *row, caller, clock_.now()));
    std::int64_t now = toEpochMs(clock_.now());
    if (!detail::setState(sql, id, {"open", "corrections_requested"}, "rejected", now))
      return Error::conflict("the batch is " + row->state + "; it can no longer be rejected");
    auto released = detail::releaseAll(sql, id, reason, caller.auditActor(), now);
    detail::refreshLockedTotals(sql, id, now);
    commitReductions(sql, id, now);
    detail::setDecision(sql, id, std::nullopt, reason, now);
    detail::insertReview(sql, id, caller.auditActor(), "reject", reason, now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "certify.batch.reject", subjectOf(id),
                             json{{"reason", reason}, {"released", released}}});
    return batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
  });
}

// -------------------------------------------------------------------------------- issuance

Result<IssuanceResult> CertifyService::issue(const Principal& caller, std::int64_t id,
                                             std::optional<int> buffer_share_bp) {
  if (!caller.hasRole(Role::kProvinceAdmin)) return Error::forbidden("the province issues units");
  int share = buffer_share_bp.value_or(options_.buffer_share_bp);
  if (share < 0 || share > kBufferShareMaxBp) {
    return Error::invalid("buffer_share_bp",
                          "buffer_share_bp must be 0-" + std::to_string(kBufferShareMaxBp));
  }
  return db_.transaction([&](soci::session& sql) -> Result<IssuanceResult> {
    auto row = detail::findBatch(sql, id, true);
    if (!row) return Error::notFound("no such batch", "id");
    if (row->state != "approved")
      return Error::conflict("the batch is " + row->state + "; only approved batches are issued");
    Grams approved(*row->grams_approved);
    Grams carry_in(detail::carryOver(sql, row->region, row->methodology));
    auto sums = issueArithmetic(carry_in, approved, row->carbon_sink, share);
    std::int64_t now = toEpochMs(clock_.now());
    if (!detail::replaceCarryOver(sql, row->region, row->methodology, carry_in.value(),
                                  sums.carry_out.value(), now)) {
      return Error::conflict("another issuance changed the carry-over; issue again");
    }
    registry::Issuance issuance{
        row->id,          row->region, row->methodology, row->vintage_year, Units(0), Units(0), {},
        fromEpochMs(now), {}};
    if (sums.units.value() > 0) {
      issuance = registry::issueUnits(
          sql, clock_,
          {row->id, row->region, row->methodology, row->vintage_year, sums.units, sums.buffer_units,
           row->operator_account_id, caller.auditActor()});
    }
    detail::setIssued(sql, id, carry_in.value(), sums.carry_out.value(), sums.units.value(),
                      sums.buffer_units.value(), now);
    json serials = json::array();
    for (const auto& r : issuance.ranges) serials.push_back(registry::formatSerial(r));
    auto [merkle_root, merkle_leaves] = commitReductions(sql, id, now);
    detail::insertReview(sql, id, caller.auditActor(), "issue",
                         std::to_string(sums.units.value()) + " PHCER", now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "certify.batch.issue", subjectOf(id),
                             json{{"grams_approved", approved.value()},
                                  {"carry_in_grams", carry_in.value()},
                                  {"carry_out_grams", sums.carry_out.value()},
                                  {"units", sums.units.value()},
                                  {"buffer_units", sums.buffer_units.value()},
                                  {"buffer_share_bp", row->carbon_sink ? share : 0},
                                  {"serials", serials},
                                  {"merkle_root", merkle_root},
                                  {"merkle_leaves", merkle_leaves}}});
    auto batch = batchFrom(sql, *detail::findBatch(sql, id, false), clock_.now());
    return IssuanceResult{std::move(batch), std::move(issuance)};
  });
}

Result<std::string> CertifyService::certificate(std::int64_t id) {
  auto data = db_.read([&](soci::session& sql) -> Result<CertificateData> {
    auto row = detail::findBatch(sql, id, false);
    if (!row) return Error::notFound("no such batch", "id");
    if (row->state != "issued") return Error::conflict("the batch has not been issued");
    CertificateData d;
    d.batch_no = row->id;
    d.methodology = row->methodology;
    d.region = row->region;
    d.vintage_from = row->vintage_from;
    d.vintage_until = row->vintage_until;
    d.operator_account_no = registry::accountNumber(sql, row->operator_account_id);
    d.verifier_name = row->verifier_name;
    d.grams_approved = Grams(row->grams_approved.value_or(0));
    d.carry_in = Grams(row->carry_in.value_or(0));
    d.carry_out = Grams(row->carry_out.value_or(0));
    d.units = Units(row->units_issued.value_or(0));
    d.buffer_units = Units(row->buffer_units.value_or(0));
    d.issued_at = fromEpochMs(row->issued_at_ms.value_or(0));
    if (auto merkle = detail::findMerkle(sql, id)) d.merkle_root = merkle->root;
    return d;
  });
  if (!data) return data.error();
  if (!data->units.isZero()) {
    registry::RegistryService registry(db_, clock_);
    auto issuance = registry.issuance(id);
    if (!issuance) return issuance.error();
    std::int64_t operator_units = (data->units - data->buffer_units).value();
    if (!issuance->ranges.empty()) data->subject = registry::formatSerial(issuance->ranges.front());
    for (const auto& r : issuance->ranges) {
      const char* part = r.first > operator_units ? "缓冲池 buffer pool" : "运营机构 operator";
      data->serials.push_back(std::string(part) + ": " + registry::formatSerial(r) + " (" +
                              std::to_string(r.units()) + ")");
    }
  }
  return renderIssuanceCertificate(*data);
}

}  // namespace tph::certify
