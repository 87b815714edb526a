#include "ets/ets_store.h"

#include "store/database.h"

namespace tph::ets::detail {

namespace {

using store::rowInt64;

constexpr const char* kScopeSelect =
    "SELECT id, methodology_id, region_code, vintage_from, vintage_to, effective_from_ms, "
    "suspended FROM ets_eligible_scopes ";

EligibleScope scopeFrom(const soci::row& r) {
  EligibleScope s;
  s.id = rowInt64(r, 0);
  s.methodology = r.get<std::string>(1);
  s.region = r.get<std::string>(2);
  s.vintage_from = static_cast<int>(rowInt64(r, 3));
  s.vintage_to = static_cast<int>(rowInt64(r, 4));
  s.effective_from = fromEpochMs(rowInt64(r, 5));
  s.suspended = rowInt64(r, 6) != 0;
  return s;
}

constexpr const char* kAccountSelect =
    "SELECT c.id, a.account_no, a.name, c.year, c.verified_emissions_t, "
    "c.allowances_surrendered_t, c.phcer_surrendered_t, c.phcer_home_province_t "
    "FROM ets_compliance_accounts c JOIN registry_accounts a ON a.id = c.registry_account_id ";

ComplianceAccount accountFrom(const soci::row& r) {
  ComplianceAccount c;
  c.id = rowInt64(r, 0);
  c.account_no = r.get<std::string>(1);
  c.enterprise = r.get<std::string>(2);
  c.year = static_cast<int>(rowInt64(r, 3));
  if (r.get_indicator(4) != soci::i_null) c.verified_emissions_t = rowInt64(r, 4);
  c.allowances_surrendered_t = rowInt64(r, 5);
  c.phcer_surrendered_t = rowInt64(r, 6);
  c.phcer_home_province_t = rowInt64(r, 7);
  return c;
}

}  // namespace

std::int64_t insertScope(soci::session& sql, const EligibleScope& s, const std::string& actor,
                         std::int64_t now_ms) {
  long long id = 0, effective = toEpochMs(s.effective_from), now = now_ms;
  sql << "INSERT INTO ets_eligible_scopes (methodology_id, region_code, vintage_from, vintage_to, "
         "effective_from_ms, suspended, created_by, created_at_ms) VALUES (:m, :r, :f, :t, :e, 0, "
         ":a, :n) RETURNING id",
      soci::use(s.methodology), soci::use(s.region), soci::use(s.vintage_from),
      soci::use(s.vintage_to), soci::use(effective), soci::use(actor), soci::use(now),
      soci::into(id);
  return id;
}

std::optional<EligibleScope> findScope(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::row r;
  sql << std::string(kScopeSelect) + "WHERE id = :i", soci::use(i), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return scopeFrom(r);
}

std::vector<EligibleScope> listScopes(soci::session& sql) {
  soci::rowset<soci::row> rows = (sql.prepare << std::string(kScopeSelect) + "ORDER BY id");
  std::vector<EligibleScope> out;
  for (const auto& r : rows) out.push_back(scopeFrom(r));
  return out;
}

void setScopeSuspended(soci::session& sql, std::int64_t id, bool suspended) {
  long long i = id;
  int s = suspended ? 1 : 0;
  sql << "UPDATE ets_eligible_scopes SET suspended = :s WHERE id = :i", soci::use(s), soci::use(i);
}

std::optional<ComplianceRules> findRules(soci::session& sql, int year) {
  ComplianceRules r;
  r.year = year;
  sql << "SELECT max_offset_bp, min_home_province_bp, deadline_day FROM ets_compliance_rules "
         "WHERE year = :y",
      soci::use(year), soci::into(r.max_offset_bp), soci::into(r.min_home_province_bp),
      soci::into(r.deadline_day);
  if (!sql.got_data()) return std::nullopt;
  r.configured = true;
  return r;
}

void upsertRules(soci::session& sql, const ComplianceRules& r, const std::string& actor,
                 std::int64_t now_ms) {
  long long now = now_ms;
  sql << "DELETE FROM ets_compliance_rules WHERE year = :y", soci::use(r.year);
  sql << "INSERT INTO ets_compliance_rules (year, max_offset_bp, min_home_province_bp, "
         "deadline_day, set_by, set_at_ms) VALUES (:y, :m, :h, :d, :a, :n)",
      soci::use(r.year), soci::use(r.max_offset_bp), soci::use(r.min_home_province_bp),
      soci::use(r.deadline_day), soci::use(actor), soci::use(now);
}

std::optional<EnterpriseRow> findEnterprise(soci::session& sql, const std::string& account_no) {
  long long id = 0;
  EnterpriseRow row;
  sql << "SELECT id, kind, name FROM registry_accounts WHERE account_no = :n",
      soci::use(account_no), soci::into(id), soci::into(row.kind), soci::into(row.name);
  if (!sql.got_data()) return std::nullopt;
  row.registry_account_id = id;
  return row;
}

std::optional<ComplianceAccount> findAccount(soci::session& sql, std::int64_t registry_account_id,
                                             int year) {
  long long a = registry_account_id;
  soci::row r;
  sql << std::string(kAccountSelect) + "WHERE c.registry_account_id = :a AND c.year = :y",
      soci::use(a), soci::use(year), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return accountFrom(r);
}

ComplianceAccount ensureAccount(soci::session& sql, std::int64_t registry_account_id, int year,
                                std::int64_t now_ms) {
  if (auto found = findAccount(sql, registry_account_id, year)) return *found;
  long long a = registry_account_id, now = now_ms;
  sql << "INSERT INTO ets_compliance_accounts (registry_account_id, year, updated_at_ms) VALUES "
         "(:a, :y, :n)",
      soci::use(a), soci::use(year), soci::use(now);
  return *findAccount(sql, registry_account_id, year);
}

void setVerified(soci::session& sql, std::int64_t id, std::int64_t tonnes, std::int64_t now_ms) {
  long long i = id, t = tonnes, now = now_ms;
  sql << "UPDATE ets_compliance_accounts SET verified_emissions_t = :t, updated_at_ms = :n "
         "WHERE id = :i",
      soci::use(t), soci::use(now), soci::use(i);
}

void setAllowances(soci::session& sql, std::int64_t id, std::int64_t tonnes, std::int64_t now_ms) {
  long long i = id, t = tonnes, now = now_ms;
  sql << "UPDATE ets_compliance_accounts SET allowances_surrendered_t = :t, updated_at_ms = :n "
         "WHERE id = :i",
      soci::use(t), soci::use(now), soci::use(i);
}

void addSurrendered(soci::session& sql, std::int64_t id, std::int64_t units,
                    std::int64_t home_units, std::int64_t now_ms) {
  long long i = id, u = units, h = home_units, now = now_ms;
  sql << "UPDATE ets_compliance_accounts SET phcer_surrendered_t = phcer_surrendered_t + :u, "
         "phcer_home_province_t = phcer_home_province_t + :h, updated_at_ms = :n WHERE id = :i",
      soci::use(u), soci::use(h), soci::use(now), soci::use(i);
}

std::vector<ComplianceAccount> accountsOfYear(soci::session& sql, int year) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kAccountSelect) + "WHERE c.year = :y ORDER BY a.account_no",
       soci::use(year));
  std::vector<ComplianceAccount> out;
  for (const auto& r : rows) out.push_back(accountFrom(r));
  return out;
}

std::vector<SurrenderRow> surrendersByKey(soci::session& sql, const std::string& key) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT registry_operation_id, units, home_province_units FROM "
                      "ets_surrenders WHERE idempotency_key = :k ORDER BY id",
       soci::use(key));
  std::vector<SurrenderRow> out;
  for (const auto& r : rows) out.push_back({rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2)});
  return out;
}

void insertSurrender(soci::session& sql, std::int64_t compliance_account_id,
                     const SurrenderRow& row, const std::string& key, std::int64_t now_ms) {
  long long c = compliance_account_id, op = row.operation_id, u = row.units,
            h = row.home_province_units, now = now_ms;
  sql << "INSERT INTO ets_surrenders (compliance_account_id, registry_operation_id, units, "
         "home_province_units, idempotency_key, at_ms) VALUES (:c, :o, :u, :h, :k, :n)",
      soci::use(c), soci::use(op), soci::use(u), soci::use(h), soci::use(key), soci::use(now);
}

std::vector<YearSurrenderRow> surrendersOfYear(soci::session& sql, int year) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT s.id, a.account_no, a.name, s.registry_operation_id, s.units, "
                      "s.home_province_units, s.at_ms FROM ets_surrenders s "
                      "JOIN ets_compliance_accounts c ON c.id = s.compliance_account_id "
                      "JOIN registry_accounts a ON a.id = c.registry_account_id "
                      "WHERE c.year = :y ORDER BY s.id",
       soci::use(year));
  std::vector<YearSurrenderRow> out;
  for (const auto& r : rows)
    out.push_back({rowInt64(r, 0), r.get<std::string>(1), r.get<std::string>(2), rowInt64(r, 3),
                   rowInt64(r, 4), rowInt64(r, 5), rowInt64(r, 6)});
  return out;
}

}  // namespace tph::ets::detail
