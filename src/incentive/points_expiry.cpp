#include "incentive/points_expiry.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "incentive/incentive_common.h"
#include "incentive/points_expiry_store.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using nlohmann::json;

constexpr const char* kExpiredLedgerCode = "points-expired";

Instant yearStart(int year) {
  char text[40];
  std::snprintf(text, sizeof text, "%04d-01-01T00:00:00+08:00", year);
  return *parseIso8601(text);
}

int shanghaiYear(Instant t) {
  return std::stoi(shanghaiDay(t).substr(0, 4));
}

//! What of the points credited before the cutoff is still in the account, oldest first.
std::int64_t remaining(const detail::CohortBalance& b) {
  return std::clamp<std::int64_t>(b.earned - b.net_out, 0, std::max<std::int64_t>(b.balance, 0));
}

}  // namespace

Status checkExpiryPolicy(const PointsExpiryPolicy& policy) {
  if (policy.years_after < 0 || policy.years_after > 10)
    return Error::invalid("years_after", "years_after must be 0-10");
  if (policy.notice_days < 1 || policy.notice_days > 366)
    return Error::invalid("notice_days", "notice_days must be 1-366");
  return {};
}

Result<PointsExpiryRun> PointsExpiryService::run(const std::string& actor) {
  TPH_TRY(checkExpiryPolicy(policy_));
  Instant now = clock_.now();
  int year = shanghaiYear(now);
  PointsExpiryRun out;

  // Notices: points credited up to the end of year - years_after expire when this year ends.
  int notice_cohort = year - policy_.years_after;
  Instant expires_at = yearStart(year + 1);
  if (now >= expires_at - std::chrono::hours(24) * policy_.notice_days) {
    auto noticed = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
      std::int64_t n = 0;
      for (const auto& b :
           detail::cohortBalances(sql, toEpochMs(yearStart(notice_cohort + 1)), std::nullopt)) {
        auto points = remaining(b);
        if (points > 0 && detail::insertExpiryNotice(sql, b.ledger_account_id, notice_cohort,
                                                     points, toEpochMs(expires_at), toEpochMs(now)))
          ++n;
      }
      if (n > 0)
        audit::appendAuditEvent(sql, clock_,
                                {actor,
                                 "points.expiry_notice",
                                 "points-expiry:" + std::to_string(notice_cohort),
                                 {{"accounts", n}, {"expires_at", formatIso8601(expires_at)}}});
      return n;
    });
    if (!noticed) return noticed.error();
    out.notices = *noticed;
  }

  // Expiry: everything credited up to the end of year - years_after - 1 is due.
  int due_cohort = year - policy_.years_after - 1;
  std::int64_t cutoff = toEpochMs(yearStart(due_cohort + 1));
  auto candidates = db_.read([&](soci::session& sql) -> Result<std::vector<std::int64_t>> {
    std::vector<std::int64_t> ids;
    for (const auto& b : detail::cohortBalances(sql, cutoff, std::nullopt))
      if (remaining(b) > 0) ids.push_back(b.ledger_account_id);
    return ids;
  });
  if (!candidates) return candidates.error();
  std::string day = shanghaiDay(now);
  for (auto ledger : *candidates) {
    // One transaction per account, recomputed inside it: a spend in between is respected.
    auto expired = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
      auto rows = detail::cohortBalances(sql, cutoff, ledger);
      if (rows.empty()) return 0;
      auto points = remaining(rows.front());
      if (points <= 0) return 0;
      auto to = account::openLedgerAccount(sql, kExpiredLedgerCode, "expired", false, clock_);
      auto posted = account::postEntry(
          sql,
          detail::transferEntry("points-expiry:" + std::to_string(ledger) + ":" +
                                    std::to_string(due_cohort) + ":" + day,
                                "points_expire",
                                "points credited up to " + std::to_string(due_cohort) + " expired",
                                ledger, to, Points(points)),
          clock_);
      if (!posted) return posted.error();
      if (posted->duplicate) return 0;
      detail::insertPointsExpiry(sql, ledger, due_cohort, day, points, posted->entry_id,
                                 toEpochMs(now));
      audit::appendAuditEvent(sql, clock_,
                              {actor,
                               "points.expire",
                               "ledger_account:" + std::to_string(ledger),
                               {{"cohort_year", due_cohort}, {"points", points}}});
      return points;
    });
    if (!expired) return expired.error();
    if (*expired > 0) {
      ++out.accounts;
      out.points_expired += Points(*expired);
    }
  }
  return out;
}

Result<std::vector<PointsExpiryNotice>> PointsExpiryService::notices(
    const auth::Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<PointsExpiryNotice>> {
    auto ledger = detail::personLedgerAccount(sql, caller.user_id);
    if (!ledger) return std::vector<PointsExpiryNotice>{};
    return detail::expiryNotices(sql, *ledger);
  });
}

Result<std::optional<UpcomingExpiry>> PointsExpiryService::upcoming(const auth::Principal& caller) {
  TPH_TRY(checkExpiryPolicy(policy_));
  Instant now = clock_.now();
  int year = shanghaiYear(now);
  int cohort = year - policy_.years_after;
  return db_.read([&](soci::session& sql) -> Result<std::optional<UpcomingExpiry>> {
    auto ledger = detail::personLedgerAccount(sql, caller.user_id);
    if (!ledger) return std::optional<UpcomingExpiry>{};
    auto rows = detail::cohortBalances(sql, toEpochMs(yearStart(cohort + 1)), *ledger);
    if (rows.empty() || remaining(rows.front()) <= 0) return std::optional<UpcomingExpiry>{};
    return std::optional<UpcomingExpiry>{
        UpcomingExpiry{cohort, Points(remaining(rows.front())), yearStart(year + 1)}};
  });
}

}  // namespace tph::incentive
