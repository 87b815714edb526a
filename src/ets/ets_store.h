#pragma once
// SQL of the ETS module. Internal to src/ets.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ets/ets_service.h"

namespace tph::ets::detail {

std::int64_t insertScope(soci::session& sql, const EligibleScope& s, const std::string& actor,
                         std::int64_t now_ms);
std::optional<EligibleScope> findScope(soci::session& sql, std::int64_t id);
std::vector<EligibleScope> listScopes(soci::session& sql);
void setScopeSuspended(soci::session& sql, std::int64_t id, bool suspended);

std::optional<ComplianceRules> findRules(soci::session& sql, int year);
void upsertRules(soci::session& sql, const ComplianceRules& r, const std::string& actor,
                 std::int64_t now_ms);

struct EnterpriseRow {
  std::int64_t registry_account_id = 0;
  std::string kind, name;
};
std::optional<EnterpriseRow> findEnterprise(soci::session& sql, const std::string& account_no);

//! The compliance account of the registry account and year, opened on first use.
ComplianceAccount ensureAccount(soci::session& sql, std::int64_t registry_account_id, int year,
                                std::int64_t now_ms);
std::optional<ComplianceAccount> findAccount(soci::session& sql, std::int64_t registry_account_id,
                                             int year);
void setVerified(soci::session& sql, std::int64_t id, std::int64_t tonnes, std::int64_t now_ms);
void setAllowances(soci::session& sql, std::int64_t id, std::int64_t tonnes, std::int64_t now_ms);
void addSurrendered(soci::session& sql, std::int64_t id, std::int64_t units,
                    std::int64_t home_units, std::int64_t now_ms);
std::vector<ComplianceAccount> accountsOfYear(soci::session& sql, int year);

struct SurrenderRow {
  std::int64_t operation_id = 0;
  std::int64_t units = 0, home_province_units = 0;
};
std::vector<SurrenderRow> surrendersByKey(soci::session& sql, const std::string& key);
void insertSurrender(soci::session& sql, std::int64_t compliance_account_id,
                     const SurrenderRow& row, const std::string& key, std::int64_t now_ms);

//! A surrender of a compliance year with its enterprise, for the ETS registry's export.
struct YearSurrenderRow {
  std::int64_t id = 0;
  std::string account_no, enterprise;
  std::int64_t operation_id = 0;
  std::int64_t units = 0, home_province_units = 0;
  std::int64_t at_ms = 0;
};
std::vector<YearSurrenderRow> surrendersOfYear(soci::session& sql, int year);

}  // namespace tph::ets::detail
