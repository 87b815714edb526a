#pragma once
// PointsExpiryService: points expire by policy, oldest first. With `years_after` = 1, points
// credited in year Y (Asia/Shanghai) expire at the end of year Y + 1. Spending, transfers out and
// earlier expiries consume the oldest points first; refunds give back to the oldest. The daily run
// announces in the account, `notice_days` before, the points about to expire, and expires what is
// due with a ledger posting account → points-expired (never a deletion).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::incentive {

struct PointsExpiryPolicy {
  int years_after = 1;   //!< 0: at the end of the year earned; 1: the year after; up to 10
  int notice_days = 30;  //!< 1-366
};

struct PointsExpiryNotice {
  int cohort_year = 0;  //!< points credited up to the end of this year
  Points points{0};     //!< as announced
  Instant expires_at;
  Instant noticed_at;
};

struct PointsExpiryRun {
  std::int64_t notices = 0;   //!< new notices written
  std::int64_t accounts = 0;  //!< accounts with points expired
  Points points_expired{0};
};

struct UpcomingExpiry {
  int cohort_year = 0;
  Points points{0};  //!< what would expire if nothing more is spent
  Instant expires_at;
};

//! Checks a policy; invalid on field years_after or notice_days.
Status checkExpiryPolicy(const PointsExpiryPolicy& policy);

//! Shared between threads; holds no mutable state.
class PointsExpiryService {
 public:
  PointsExpiryService(store::Database& db, const Clock& clock, PointsExpiryPolicy policy)
      : db_(db), clock_(clock), policy_(policy) {}

  //! Writes the notices that are due and expires what is due: one transaction per account.
  Result<PointsExpiryRun> run(const std::string& actor);
  //! The caller's person account: notices received and the next cohort's points to expire.
  Result<std::vector<PointsExpiryNotice>> notices(const auth::Principal& caller);
  Result<std::optional<UpcomingExpiry>> upcoming(const auth::Principal& caller);

 private:
  store::Database& db_;
  const Clock& clock_;
  PointsExpiryPolicy policy_;
};

}  // namespace tph::incentive
