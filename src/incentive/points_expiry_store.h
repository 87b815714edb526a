#pragma once
// SQL of points expiry and its policies. Internal to src/incentive.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incentive/points_expiry.h"

namespace tph::incentive::detail {

struct CohortBalance {
  std::int64_t ledger_account_id = 0;
  std::int64_t earned = 0;   //!< credited before the cutoff
  std::int64_t net_out = 0;  //!< everything out, less what came back other than credits, ever
  std::int64_t balance = 0;
};
//! Carbon accounts' points credited before `cutoff_ms` set against all they have spent: one
//! account, or every account whose region is one of `regions`.
std::vector<CohortBalance> cohortBalances(soci::session& sql, std::int64_t cutoff_ms,
                                          std::optional<std::int64_t> ledger_account_id,
                                          const std::vector<std::string>& regions = {});
//! The regions carbon accounts are in.
std::vector<std::string> accountRegions(soci::session& sql);

struct NoticeRow {
  std::int64_t ledger_account_id = 0;
  int cohort = 0;
  std::int64_t credited_before_ms = 0;
  std::int64_t points = 0;
  std::int64_t expires_at_ms = 0;
  std::int64_t policy_id = 0;
};
//! Inserts a notice unless there is one for the account and cohort; true when it was new.
bool insertExpiryNotice(soci::session& sql, const NoticeRow& notice, std::int64_t now_ms);
void insertPointsExpiry(soci::session& sql, std::int64_t ledger_account_id, int cohort,
                        const std::string& day, std::int64_t points, std::int64_t entry_id,
                        std::int64_t now_ms);
std::vector<PointsExpiryNotice> expiryNotices(soci::session& sql, std::int64_t ledger_account_id);

struct PersonLedger {
  std::int64_t ledger_account_id = 0;
  std::string region_code;
};
std::optional<PersonLedger> personLedgerAccount(soci::session& sql, std::int64_t user_id);

//! Every stored policy version, oldest first.
std::vector<ExpiryPolicyVersion> loadExpiryPolicies(soci::session& sql);
//! Stores the region's next version and answers its id and number.
std::pair<std::int64_t, int> insertExpiryPolicy(soci::session& sql, const NewExpiryPolicy& p,
                                                std::int64_t effective_from_ms,
                                                const std::string& actor, std::int64_t now_ms);

}  // namespace tph::incentive::detail
