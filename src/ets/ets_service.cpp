#include "ets/ets_service.h"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "audit/audit_log.h"
#include "core/quantity.h"
#include "ets/ets_store.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::ets {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr int kYearMin = 2000, kYearMax = 2100;
constexpr std::size_t kKeyMaxBytes = 200;

Status checkYear(int year) {
  if (year < kYearMin || year > kYearMax)
    return Error::invalid(
        "year", "year must be " + std::to_string(kYearMin) + "-" + std::to_string(kYearMax));
  return {};
}

Status checkTonnes(std::int64_t tonnes, const std::string& field) {
  if (tonnes < 0 || tonnes > kTonnesMax)
    return Error::invalid(field, field + " must be 0-" + std::to_string(kTonnesMax) + " tonnes");
  return {};
}

bool isDay(const std::string& text) {
  auto t = parseIso8601(text + "T00:00:00+08:00");
  return text.size() == 10 && t && shanghaiDay(*t) == text;
}

ComplianceRules defaults(int year) {
  ComplianceRules r;
  r.year = year;
  r.deadline_day = std::to_string(year + 1) + "-" + kDefaultDeadlineMonthDay;
  return r;
}

registry::UnitFilter filterOf(const EligibleScope& s) {
  return {s.methodology, s.region, s.vintage_from, s.vintage_to};
}

//! The enterprise's registry account, when the caller may act for it.
Result<detail::EnterpriseRow> enterpriseFor(soci::session& sql, const Principal& caller,
                                            const std::string& account_no, bool officials_may) {
  auto row = detail::findEnterprise(sql, account_no);
  if (!row) return Error::notFound("no registry account " + account_no, "account_no");
  if (row->kind != "enterprise")
    return Error::invalid("account_no", account_no + " is not an enterprise account");
  if (officials_may && caller.hasAnyRole({Role::kProvinceAdmin, Role::kVerifier, Role::kAuditor}))
    return *row;
  if (caller.hasRole(Role::kEtsEnterprise) &&
      registry::isAccountMember(sql, row->registry_account_id, caller.user_id))
    return *row;
  return Error::forbidden("you do not act for " + account_no, "account_no");
}

json accountAudit(const ComplianceAccount& a) {
  return {{"year", a.year},
          {"verified_emissions_t", a.verified_emissions_t ? json(*a.verified_emissions_t) : json()},
          {"allowances_surrendered_t", a.allowances_surrendered_t},
          {"phcer_surrendered_t", a.phcer_surrendered_t}};
}

}  // namespace

std::string ComplianceAccount::status() const {
  if (!verified_emissions_t) return "unverified";
  return allowances_surrendered_t + phcer_surrendered_t >= *verified_emissions_t ? "complied"
                                                                                 : "short";
}

EtsService::EtsService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

// ------------------------------------------------------------------------- scopes and rules

Result<EligibleScope> EtsService::admitScope(const Principal& caller, const EligibleScope& scope) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province names offset-eligible PHCER");
  if (scope.methodology.empty() || scope.methodology.size() > 64)
    return Error::invalid("methodology", "methodology is required");
  if (!scope.region.empty() && (scope.region.size() != 6 ||
                                !std::all_of(scope.region.begin(), scope.region.end(), ::isdigit)))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code or empty for any");
  if (scope.vintage_from < 0 || scope.vintage_to < 0 ||
      (scope.vintage_from && scope.vintage_to && scope.vintage_from > scope.vintage_to))
    return Error::invalid("vintage_to", "the vintage range runs from vintage_from to vintage_to");
  return db_.transaction([&](soci::session& sql) -> Result<EligibleScope> {
    EligibleScope s = scope;
    s.suspended = false;
    s.id = detail::insertScope(sql, s, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "ets.scope.admit", "ets_scope:" + std::to_string(s.id),
         json{{"methodology", s.methodology},
              {"region", s.region},
              {"vintage", {s.vintage_from, s.vintage_to}},
              {"effective_from", formatIso8601(s.effective_from)}}});
    return s;
  });
}

Result<EligibleScope> EtsService::setScopeSuspended(const Principal& caller, std::int64_t id,
                                                    bool suspended) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province suspends offset eligibility");
  return db_.transaction([&](soci::session& sql) -> Result<EligibleScope> {
    auto s = detail::findScope(sql, id);
    if (!s) return Error::notFound("no eligible scope " + std::to_string(id), "scope");
    detail::setScopeSuspended(sql, id, suspended);
    s->suspended = suspended;
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), suspended ? "ets.scope.suspend" : "ets.scope.resume",
         "ets_scope:" + std::to_string(id), json::object()});
    return *s;
  });
}

std::vector<EligibleScope> EtsService::scopes() {
  return db_.read([](soci::session& sql) { return detail::listScopes(sql); });
}

Result<ComplianceRules> EtsService::setRules(const Principal& caller, const ComplianceRules& r) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province sets the compliance rules");
  TPH_TRY(checkYear(r.year));
  if (r.max_offset_bp < 0 || r.max_offset_bp > 10000)
    return Error::invalid("max_offset_bp", "max_offset_bp must be 0-10000");
  if (r.min_home_province_bp < 0 || r.min_home_province_bp > 10000)
    return Error::invalid("min_home_province_bp", "min_home_province_bp must be 0-10000");
  if (!isDay(r.deadline_day))
    return Error::invalid("deadline_day", "deadline_day is a date YYYY-MM-DD");
  if (r.deadline_day < std::to_string(r.year + 1) + "-01-01")
    return Error::invalid("deadline_day", "the deadline falls after the compliance year");
  return db_.transaction([&](soci::session& sql) -> Result<ComplianceRules> {
    detail::upsertRules(sql, r, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "ets.rules.set", "ets_rules:" + std::to_string(r.year),
         json{{"max_offset_bp", r.max_offset_bp},
              {"min_home_province_bp", r.min_home_province_bp},
              {"deadline_day", r.deadline_day}}});
    return *detail::findRules(sql, r.year);
  });
}

Result<ComplianceRules> EtsService::rules(int year) {
  TPH_TRY(checkYear(year));
  return db_.read([&](soci::session& sql) -> Result<ComplianceRules> {
    auto r = detail::findRules(sql, year);
    return r ? *r : defaults(year);
  });
}

// ------------------------------------------------------------------- compliance accounts

Result<ComplianceAccount> EtsService::setVerifiedEmissions(const Principal& caller,
                                                           const std::string& account_no, int year,
                                                           std::int64_t tonnes) {
  if (!caller.hasAnyRole({Role::kVerifier, Role::kProvinceAdmin}))
    return Error::forbidden("only a verifier or the province enters verified emissions");
  TPH_TRY(checkYear(year));
  TPH_TRY(checkTonnes(tonnes, "verified_emissions_t"));
  return db_.transaction([&](soci::session& sql) -> Result<ComplianceAccount> {
    TPH_TRY_ASSIGN(ent, enterpriseFor(sql, caller, account_no, true));
    std::int64_t now = toEpochMs(clock_.now());
    auto a = detail::ensureAccount(sql, ent.registry_account_id, year, now);
    detail::setVerified(sql, a.id, tonnes, now);
    a.verified_emissions_t = tonnes;
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "ets.emissions.verify",
                             "ets_account:" + std::to_string(a.id), accountAudit(a)});
    return a;
  });
}

Result<ComplianceAccount> EtsService::setAllowancesSurrendered(const Principal& caller,
                                                               const std::string& account_no,
                                                               int year, std::int64_t tonnes) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province records allowances surrendered");
  TPH_TRY(checkYear(year));
  TPH_TRY(checkTonnes(tonnes, "allowances_surrendered_t"));
  return db_.transaction([&](soci::session& sql) -> Result<ComplianceAccount> {
    TPH_TRY_ASSIGN(ent, enterpriseFor(sql, caller, account_no, true));
    std::int64_t now = toEpochMs(clock_.now());
    auto a = detail::ensureAccount(sql, ent.registry_account_id, year, now);
    detail::setAllowances(sql, a.id, tonnes, now);
    a.allowances_surrendered_t = tonnes;
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "ets.allowances.record",
                             "ets_account:" + std::to_string(a.id), accountAudit(a)});
    return a;
  });
}

Result<ComplianceAccount> EtsService::account(const Principal& caller,
                                              const std::string& account_no, int year) {
  TPH_TRY(checkYear(year));
  return db_.read([&](soci::session& sql) -> Result<ComplianceAccount> {
    TPH_TRY_ASSIGN(ent, enterpriseFor(sql, caller, account_no, true));
    if (auto a = detail::findAccount(sql, ent.registry_account_id, year)) return *a;
    ComplianceAccount empty;
    empty.account_no = account_no;
    empty.enterprise = ent.name;
    empty.year = year;
    return empty;
  });
}

// ------------------------------------------------------------------------------ surrender

Result<Surrender> EtsService::surrender(const Principal& caller, const SurrenderRequest& req) {
  if (!caller.hasRole(Role::kEtsEnterprise))
    return Error::forbidden("only a controlled enterprise surrenders offsets");
  if (req.idempotency_key.empty() || req.idempotency_key.size() > kKeyMaxBytes)
    return Error::invalid("idempotency_key", "an idempotency key is 1-200 bytes");
  TPH_TRY(checkYear(req.year));
  if (req.units < 1 || req.units > kTonnesMax)
    return Error::invalid("units", "units must be 1-" + std::to_string(kTonnesMax));
  return db_.transaction([&](soci::session& sql) -> Result<Surrender> {
    TPH_TRY_ASSIGN(ent, enterpriseFor(sql, caller, req.account_no, false));
    Instant now = clock_.now();
    std::int64_t now_ms = toEpochMs(now);
    Surrender out;
    out.account_no = req.account_no;
    out.year = req.year;

    auto earlier = detail::surrendersByKey(sql, req.idempotency_key);
    if (!earlier.empty()) {
      for (const auto& s : earlier) {
        out.units += s.units;
        out.home_province_units += s.home_province_units;
        out.operation_ids.push_back(s.operation_id);
      }
      auto a = detail::findAccount(sql, ent.registry_account_id, req.year);
      if (out.units != req.units || !a)
        return Error::conflict("this idempotency key was used for another surrender",
                               "idempotency_key");
      out.duplicate = true;
      out.account = *a;
      return out;
    }

    auto configured = detail::findRules(sql, req.year);
    ComplianceRules rules = configured ? *configured : defaults(req.year);
    std::string today = shanghaiDay(now);
    if (today > rules.deadline_day)
      return Error::conflict("surrender for " + std::to_string(req.year) +
                                 " closed at the end of " + rules.deadline_day + " (Asia/Shanghai)",
                             "deadline_day");
    auto a = detail::ensureAccount(sql, ent.registry_account_id, req.year, now_ms);
    if (!a.verified_emissions_t)
      return Error::conflict("the year's verified emissions are not entered yet",
                             "verified_emissions_t");
    std::int64_t cap_t =
        checked::mul(*a.verified_emissions_t, static_cast<std::int64_t>(rules.max_offset_bp)) /
        10000;
    std::int64_t total_t = checked::add(a.phcer_surrendered_t, req.units);
    if (total_t > cap_t)
      return Error::conflict("offsets may cover at most " + std::to_string(rules.max_offset_bp) +
                                 " bp of verified emissions: " + std::to_string(cap_t) +
                                 " t, and " + std::to_string(a.phcer_surrendered_t) +
                                 " t are surrendered already",
                             "max_offset_bp");

    std::int64_t remaining = req.units;
    for (const auto& scope : detail::listScopes(sql)) {
      if (remaining == 0) break;
      if (scope.suspended || scope.effective_from > now) continue;
      Units held = registry::heldUnits(sql, ent.registry_account_id, filterOf(scope), req.batch_no);
      std::int64_t take = std::min(held.value(), remaining);
      if (take == 0) continue;
      registry::MoveUnitsRequest move;
      move.kind = "retire";
      move.idempotency_key = req.idempotency_key + ":ets:" + std::to_string(scope.id);
      move.from_account_id = ent.registry_account_id;
      move.units = Units(take);
      move.filter = filterOf(scope);
      move.batch_no = req.batch_no;
      move.reason = "ets_offset";
      move.beneficiary = ent.name;
      move.note = "ETS compliance year " + std::to_string(req.year);
      move.actor = caller.auditActor();
      TPH_TRY_ASSIGN(op, registry::moveUnits(sql, clock_, move));
      std::int64_t home = 0;
      for (const auto& range : op.ranges) {
        out.serials.push_back(registry::formatSerial(range));
        if (range.region.rfind(kHomeProvincePrefix, 0) == 0) home += range.units();
      }
      if (op.units.value() != take) throw std::logic_error("ETS surrender moved a wrong amount");
      detail::insertSurrender(sql, a.id, {op.id, take, home}, req.idempotency_key, now_ms);
      out.operation_ids.push_back(op.id);
      out.home_province_units += home;
      remaining -= take;
    }
    if (remaining > 0)
      return Error::conflict("the account holds only " + std::to_string(req.units - remaining) +
                                 " offset-eligible units" +
                                 (req.batch_no ? " of that batch" : std::string()),
                             "units");
    out.units = req.units;

    std::int64_t home_total = checked::add(a.phcer_home_province_t, out.home_province_units);
    if (checked::mul(home_total, std::int64_t{10000}) <
        checked::mul(total_t, static_cast<std::int64_t>(rules.min_home_province_bp)))
      return Error::conflict("at least " + std::to_string(rules.min_home_province_bp) +
                                 " bp of the year's offsets must originate in Guangdong: " +
                                 std::to_string(home_total) + " of " + std::to_string(total_t) +
                                 " t would",
                             "min_home_province_bp");
    detail::addSurrendered(sql, a.id, req.units, out.home_province_units, now_ms);
    a.phcer_surrendered_t = total_t;
    a.phcer_home_province_t = home_total;
    out.account = a;
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "ets.surrender", "ets_account:" + std::to_string(a.id),
         json{{"units", req.units},
              {"home_province_units", out.home_province_units},
              {"operations", out.operation_ids},
              {"year", req.year}}});
    return out;
  });
}

// --------------------------------------------------------------------------------- report

Result<std::vector<ComplianceAccount>> EtsService::report(const Principal& caller, int year) {
  if (!caller.hasAnyRole({Role::kProvinceAdmin, Role::kAuditor}))
    return Error::forbidden("the compliance report is for the province and auditors");
  TPH_TRY(checkYear(year));
  return db_.read([&](soci::session& sql) -> Result<std::vector<ComplianceAccount>> {
    return detail::accountsOfYear(sql, year);
  });
}

Result<SignedOffsetExport> EtsService::offsetExport(const Principal& caller, int year,
                                                    const audit::SigningKey& key) {
  if (!caller.hasAnyRole({Role::kProvinceAdmin, Role::kAuditor}))
    return Error::forbidden("the ETS registry export is for the province and auditors");
  TPH_TRY(checkYear(year));
  auto file = db_.read([&](soci::session& sql) { return buildOffsetExport(sql, year); });
  if (!file) return file.error();
  return signOffsetExport(std::move(*file), key);
}

namespace {

//! A scratch file for libxlsxwriter, removed when done.
struct ScratchFile {
  std::filesystem::path path;
  ScratchFile() {
    static std::atomic<int> counter{0};
    path =
        std::filesystem::temp_directory_path() / ("tph-ets-report-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(++counter) + ".xlsx");
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

}  // namespace

Result<std::string> EtsService::reportXlsx(const Principal& caller, int year) {
  TPH_TRY_ASSIGN(rows, report(caller, year));
  TPH_TRY_ASSIGN(r, rules(year));
  ScratchFile file;
  lxw_workbook* book = workbook_new(file.path.c_str());
  if (!book) throw std::runtime_error("cannot create the XLSX workbook");
  lxw_worksheet* sheet =
      workbook_add_worksheet(book, ("Compliance " + std::to_string(year)).c_str());
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  const char* headers[] = {"Enterprise 企业",        "Registry account",
                           "Verified emissions (t)", "Allowances surrendered (t)",
                           "PHCER surrendered (t)",  "PHCER from Guangdong (t)",
                           "Offset cap (t)",         "Status"};
  for (int c = 0; c < 8; ++c) worksheet_write_string(sheet, 0, c, headers[c], bold);
  lxw_row_t row = 1;
  for (const auto& a : rows) {
    worksheet_write_string(sheet, row, 0, a.enterprise.c_str(), nullptr);
    worksheet_write_string(sheet, row, 1, a.account_no.c_str(), nullptr);
    if (a.verified_emissions_t) {
      worksheet_write_number(sheet, row, 2, static_cast<double>(*a.verified_emissions_t), nullptr);
      worksheet_write_number(sheet, row, 6,
                             static_cast<double>(*a.verified_emissions_t * r.max_offset_bp / 10000),
                             nullptr);
    }
    worksheet_write_number(sheet, row, 3, static_cast<double>(a.allowances_surrendered_t), nullptr);
    worksheet_write_number(sheet, row, 4, static_cast<double>(a.phcer_surrendered_t), nullptr);
    worksheet_write_number(sheet, row, 5, static_cast<double>(a.phcer_home_province_t), nullptr);
    worksheet_write_string(sheet, row, 7, a.status().c_str(), nullptr);
    ++row;
  }
  worksheet_set_column(sheet, 0, 0, 30, nullptr);
  worksheet_set_column(sheet, 1, 7, 20, nullptr);
  if (workbook_close(book) != LXW_NO_ERROR)
    throw std::runtime_error("cannot write the XLSX report");
  std::ifstream in(file.path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace tph::ets
