#pragma once
// EtsService: the link between PHCER and the emissions trading scheme. The province names which
// PHCER may offset allowances (eligible scopes) and the rules of each compliance year; verifiers
// enter controlled enterprises' verified emissions, the province records allowances surrendered in
// the ETS registry; enterprises surrender eligible PHCER, retired with reason "ets_offset" and the
// enterprise as beneficiary. Rules: docs/ets.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"
#include "ets/offset_export.h"

namespace tph::store {
class Database;
}
namespace tph::audit {
class SigningKey;
}

namespace tph::ets {

inline constexpr int kDefaultMaxOffsetBp = 1000;        //!< offsets at most 10% of emissions
inline constexpr int kDefaultMinHomeProvinceBp = 7000;  //!< at least 70% from Guangdong
inline constexpr const char* kDefaultDeadlineMonthDay = "06-20";  //!< of the following year
inline constexpr std::int64_t kTonnesMax = 10'000'000'000;
inline constexpr const char* kHomeProvincePrefix = "44";  //!< GB/T 2260: Guangdong

//! PHCER that may offset allowances: a methodology, optionally a region and vintage range.
struct EligibleScope {
  std::int64_t id = 0;
  std::string methodology;
  std::string region;  //!< "" for any
  int vintage_from = 0, vintage_to = 0;
  Instant effective_from;
  bool suspended = false;
};

//! The offset rules of one compliance year.
struct ComplianceRules {
  int year = 0;
  int max_offset_bp = kDefaultMaxOffsetBp;  //!< of the year's verified emissions
  int min_home_province_bp = kDefaultMinHomeProvinceBp;
  std::string deadline_day;  //!< YYYY-MM-DD, Asia/Shanghai, inclusive
  bool configured = false;   //!< false: the defaults
};

//! An enterprise's compliance account for one year, in tonnes.
struct ComplianceAccount {
  std::int64_t id = 0;
  std::string account_no;  //!< its registry account
  std::string enterprise;  //!< the registry account's name
  int year = 0;
  std::optional<std::int64_t> verified_emissions_t;
  std::int64_t allowances_surrendered_t = 0;
  std::int64_t phcer_surrendered_t = 0;
  std::int64_t phcer_home_province_t = 0;
  //! "complied" (allowances and offsets cover the emissions), "short", or "unverified".
  std::string status() const;
};

struct SurrenderRequest {
  std::string idempotency_key;
  std::string account_no;
  int year = 0;
  std::int64_t units = 0;
  std::optional<std::int64_t> batch_no;  //!< take from one batch only
};

struct Surrender {
  std::string account_no;
  int year = 0;
  std::int64_t units = 0;
  std::int64_t home_province_units = 0;
  std::vector<std::int64_t> operation_ids;  //!< the registry retirements
  std::vector<std::string> serials;
  bool duplicate = false;
  ComplianceAccount account;  //!< after the surrender
};

//! Shared between threads; each use case is one transaction.
class EtsService {
 public:
  EtsService(store::Database& db, const Clock& clock);

  // The province: eligible scopes and the rules per compliance year.
  Result<EligibleScope> admitScope(const auth::Principal& caller, const EligibleScope& scope);
  Result<EligibleScope> setScopeSuspended(const auth::Principal& caller, std::int64_t id,
                                          bool suspended);
  std::vector<EligibleScope> scopes();
  Result<ComplianceRules> setRules(const auth::Principal& caller, const ComplianceRules& rules);
  //! The rules of a year: as configured, or the defaults (10%, 70%, 20 June of the next year).
  Result<ComplianceRules> rules(int year);

  //! A verifier or the province enters the year's verified emissions of an enterprise.
  Result<ComplianceAccount> setVerifiedEmissions(const auth::Principal& caller,
                                                 const std::string& account_no, int year,
                                                 std::int64_t tonnes);
  //! The province records allowances (GDEA) surrendered in the ETS registry.
  Result<ComplianceAccount> setAllowancesSurrendered(const auth::Principal& caller,
                                                     const std::string& account_no, int year,
                                                     std::int64_t tonnes);
  Result<ComplianceAccount> account(const auth::Principal& caller, const std::string& account_no,
                                    int year);

  //! The enterprise surrenders eligible PHCER against a year; each refusal names its rule in
  //! the error's field (max_offset_bp, min_home_province_bp, deadline_day, verified_emissions_t).
  Result<Surrender> surrender(const auth::Principal& caller, const SurrenderRequest& request);

  //! Every compliance account of the year (the province, auditors).
  Result<std::vector<ComplianceAccount>> report(const auth::Principal& caller, int year);
  //! The same as an XLSX workbook.
  Result<std::string> reportXlsx(const auth::Principal& caller, int year);
  //! The export file for the ETS registry of every offset surrender of the year, signed with the
  //! platform's key (the province, auditors).
  Result<SignedOffsetExport> offsetExport(const auth::Principal& caller, int year,
                                          const audit::SigningKey& key);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::ets
