#pragma once
// SQL of points expiry. Internal to src/incentive.

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
//! Carbon accounts' points credited before `cutoff_ms` set against all they have spent; one
//! account or every account credited before the cutoff.
std::vector<CohortBalance> cohortBalances(soci::session& sql, std::int64_t cutoff_ms,
                                          std::optional<std::int64_t> ledger_account_id);
//! Inserts a notice unless there is one; true when it was new.
bool insertExpiryNotice(soci::session& sql, std::int64_t ledger_account_id, int cohort_year,
                        std::int64_t points, std::int64_t expires_at_ms, std::int64_t now_ms);
void insertPointsExpiry(soci::session& sql, std::int64_t ledger_account_id, int cohort_year,
                        const std::string& day, std::int64_t points, std::int64_t entry_id,
                        std::int64_t now_ms);
std::vector<PointsExpiryNotice> expiryNotices(soci::session& sql, std::int64_t ledger_account_id);
std::optional<std::int64_t> personLedgerAccount(soci::session& sql, std::int64_t user_id);

}  // namespace tph::incentive::detail
