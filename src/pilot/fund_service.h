#pragma once
// Provincial low-carbon special funds (省级低碳专项资金): a pilot region's admin applies for a
// project with the amount requested; the province grants an amount up to it, or rejects with a
// reason; the province records each disbursement, never more in total than the grant. Totals per
// region and year are public. Every step is audited; money is in Fen.

#include <cstdint>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::pilot {

inline constexpr std::size_t kMaxFundTitleBytes = 300;
inline constexpr std::size_t kMaxFundTextBytes = 20'000;
inline constexpr std::int64_t kMaxFundRequestFen = 100'000'000'000;  //!< CNY 1 billion

struct FundApplication {
  std::string region_code;
  std::string title;
  std::string summary;
  std::string task;  //!< one of planTaskDomains()
  int year = 0;      //!< the budget year
  Fen requested;
};

struct Disbursement {
  std::int64_t id = 0;
  Fen amount;
  std::string paid_on;  //!< "YYYY-MM-DD"
  std::string reference;
  std::string recorded_by;
};

struct FundProject {
  std::int64_t id = 0;
  std::string region_code;
  std::string title;
  std::string summary;
  std::string task;
  int year = 0;
  Fen requested;
  std::string state;  //!< applied, granted, rejected
  Fen granted;
  Fen disbursed;
  std::string decision_reason;
  std::string applied_by;
  Instant applied_at;
  std::vector<Disbursement> disbursements;
};

struct FundTotals {
  std::string region_code;
  std::int64_t projects = 0;
  std::int64_t granted_projects = 0;
  Fen requested;
  Fen granted;
  Fen disbursed;
};

class FundService {
 public:
  FundService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! An admin of a designated pilot region (or the province for it).
  Result<FundProject> apply(const auth::Principal& caller, const FundApplication& application);
  //! Province admin: grant up to the amount requested, or reject with a reason. Once only.
  Result<FundProject> decide(const auth::Principal& caller, std::int64_t id, bool grant,
                             Fen granted, const std::string& reason);
  //! Province admin: a payment of a granted project; the total never exceeds the grant.
  Result<FundProject> disburse(const auth::Principal& caller, std::int64_t id, Fen amount,
                               const std::string& paid_on, const std::string& reference);
  Result<FundProject> project(std::int64_t id);
  //! Public: a region's projects (and its descendants'), or every one for "", of a year or all (0).
  Result<std::vector<FundProject>> projects(const std::string& region_code, int year);
  //! Public: per pilot region, for a year or all (0), ordered by region.
  Result<std::vector<FundTotals>> totals(int year);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::pilot
