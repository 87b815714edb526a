#pragma once
// PointsExpiryService: points expire by a stored, versioned policy, oldest first. The province
// sets the default policy and may override it per city or county; each version takes effect at
// its effective date and never makes points expire before a full notice period has passed.
// Spending, transfers out and earlier expiries consume the oldest points first; refunds give back
// to the oldest. The daily run announces in the account, `notice_days` before, the points about
// to expire, and expires what is due with a ledger posting account → points-expired (never a
// deletion). Rules: docs/incentives.md, "Points expiry".

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

inline constexpr int kExpiryYearsMax = 10;
inline constexpr int kExpiryMonthsMax = 120;
inline constexpr int kExpiryNoticeDaysMax = 366;
inline constexpr std::size_t kExpiryReasonMaxBytes = 500;
//! How far ahead a policy version may be scheduled.
inline constexpr int kExpiryScheduleMaxDays = 731;

struct PointsExpiryPolicy {
  //! year_end: points credited in year Y expire when year Y + term ends (term 0-10);
  //! months: points credited in month M expire when month M + term ends (term 1-120);
  //! never: points do not expire (term 0).
  std::string kind = "year_end";
  int term = 1;
  int notice_days = 30;  //!< 1-366: announced this long before, and never expired sooner
};

//! One stored version of a region's policy. Id 0 is the built-in default (year_end, 1, 30 days)
//! that applies province-wide until the province stores a policy.
struct ExpiryPolicyVersion {
  std::int64_t id = 0;
  std::string region_code;
  int version = 0;
  PointsExpiryPolicy policy;
  Instant effective_from;
  std::string reason;
  std::string created_by;
  Instant created_at;
};

struct NewExpiryPolicy {
  std::string region_code;  //!< the province's code for the default, or a city or county
  PointsExpiryPolicy policy;
  std::optional<Instant> effective_from;  //!< now when absent; never in the past
  std::string reason;
};

struct PointsExpiryNotice {
  int cohort_year = 0;                     //!< the year of the last points it covers
  std::optional<Instant> credited_before;  //!< the points credited before this instant
  Points points{0};                        //!< as announced
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
  Instant credited_before;
  Points points{0};  //!< what would expire if nothing more is spent
  Instant expires_at;
  int notice_days = 0;
  std::int64_t policy_id = 0;
};

//! Checks a policy; invalid on field kind, term or notice_days.
Status checkExpiryPolicy(const PointsExpiryPolicy& policy);

//! The policy governing an account's region from `from` until the next segment.
struct PolicySegment {
  Instant from;
  ExpiryPolicyVersion version;
};
//! The policy timeline of a region: its county, city and province versions (the most specific
//! region with a version in effect wins; among a region's versions the latest effective date, then
//! the highest version), starting with the built-in default at the epoch.
std::vector<PolicySegment> expiryTimeline(const std::vector<ExpiryPolicyVersion>& stored,
                                          const std::string& region_code);
//! Points credited before the answer are due at `at` (the epoch when nothing is). Monotone in
//! `at`: a policy change never brings back points already due.
Instant dueCutoff(const std::vector<PolicySegment>& timeline, Instant at);

struct ScheduledExpiry {
  Instant expires_at;
  Instant credited_before;
  int notice_days = 0;
  std::int64_t policy_id = 0;
};
//! The next instant after `now` at which more points fall due, within 15 years.
std::optional<ScheduledExpiry> nextExpiry(const std::vector<PolicySegment>& timeline, Instant now);

//! Shared between threads; holds no mutable state.
class PointsExpiryService {
 public:
  PointsExpiryService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! A province admin stores a new version of a region's policy (audited).
  Result<ExpiryPolicyVersion> setPolicy(const auth::Principal& caller,
                                        const NewExpiryPolicy& request);
  //! The same from the command line, audited as `actor`.
  Result<ExpiryPolicyVersion> setPolicyAsSystem(const std::string& actor,
                                                const NewExpiryPolicy& request);
  //! Every stored version, of one region ("" for all), oldest first.
  Result<std::vector<ExpiryPolicyVersion>> policies(const std::string& region_code);
  //! The version governing accounts of `region_code` now (the built-in default has id 0).
  Result<ExpiryPolicyVersion> policyInForce(const std::string& region_code);

  //! Writes the notices that are due and expires what is due: one transaction per account.
  Result<PointsExpiryRun> run(const std::string& actor);
  //! The caller's person account: notices received and the next points to expire.
  Result<std::vector<PointsExpiryNotice>> notices(const auth::Principal& caller);
  Result<std::optional<UpcomingExpiry>> upcoming(const auth::Principal& caller);

 private:
  Result<ExpiryPolicyVersion> storePolicy(const std::string& actor, const NewExpiryPolicy& request);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::incentive
