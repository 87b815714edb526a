#include "incentive/points_expiry_store.h"

#include "store/database.h"

namespace tph::incentive::detail {

using store::rowInt64;

std::vector<CohortBalance> cohortBalances(soci::session& sql, std::int64_t cutoff_ms,
                                          std::optional<std::int64_t> ledger_account_id) {
  long long cutoff = cutoff_ms, one = ledger_account_id.value_or(0);
  int all = ledger_account_id ? 0 : 1;
  std::vector<CohortBalance> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT c.ledger_account_id, "
                      "SUM(CASE WHEN e.kind = 'credit' AND p.amount > 0 AND e.at_ms < :cut "
                      "THEN p.amount ELSE 0 END), "
                      "SUM(CASE WHEN p.amount < 0 THEN -p.amount "
                      "WHEN e.kind <> 'credit' THEN -p.amount ELSE 0 END), MAX(l.balance) "
                      "FROM carbon_accounts c JOIN ledger_accounts l ON l.id = c.ledger_account_id "
                      "JOIN journal_postings p ON p.account_id = c.ledger_account_id "
                      "JOIN journal_entries e ON e.id = p.entry_id "
                      "WHERE (:all = 1 OR c.ledger_account_id = :one) "
                      "GROUP BY c.ledger_account_id ORDER BY c.ledger_account_id",
       soci::use(cutoff), soci::use(all), soci::use(one));
  for (const auto& r : rows)
    out.push_back({rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2), rowInt64(r, 3)});
  return out;
}

bool insertExpiryNotice(soci::session& sql, std::int64_t ledger_account_id, int cohort_year,
                        std::int64_t points, std::int64_t expires_at_ms, std::int64_t now_ms) {
  long long ledger = ledger_account_id, pts = points, expires = expires_at_ms, now = now_ms, n = 0;
  sql << "SELECT COUNT(*) FROM points_expiry_notices WHERE ledger_account_id = :l AND "
         "cohort_year = :y",
      soci::use(ledger), soci::use(cohort_year), soci::into(n);
  if (n > 0) return false;
  sql << "INSERT INTO points_expiry_notices (ledger_account_id, cohort_year, points, "
         "expires_at_ms, noticed_at_ms) VALUES (:l, :y, :p, :e, :t)",
      soci::use(ledger), soci::use(cohort_year), soci::use(pts), soci::use(expires), soci::use(now);
  return true;
}

void insertPointsExpiry(soci::session& sql, std::int64_t ledger_account_id, int cohort_year,
                        const std::string& day, std::int64_t points, std::int64_t entry_id,
                        std::int64_t now_ms) {
  long long ledger = ledger_account_id, pts = points, entry = entry_id, now = now_ms;
  sql << "INSERT INTO points_expiries (ledger_account_id, cohort_year, day, points, entry_id, "
         "expired_at_ms) VALUES (:l, :y, :d, :p, :e, :t)",
      soci::use(ledger), soci::use(cohort_year), soci::use(day), soci::use(pts), soci::use(entry),
      soci::use(now);
}

std::vector<PointsExpiryNotice> expiryNotices(soci::session& sql, std::int64_t ledger_account_id) {
  long long ledger = ledger_account_id;
  std::vector<PointsExpiryNotice> out;
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT cohort_year, points, expires_at_ms, noticed_at_ms FROM "
              "points_expiry_notices WHERE ledger_account_id = :l ORDER BY cohort_year DESC",
       soci::use(ledger));
  for (const auto& r : rows)
    out.push_back({static_cast<int>(rowInt64(r, 0)), Points(rowInt64(r, 1)),
                   fromEpochMs(rowInt64(r, 2)), fromEpochMs(rowInt64(r, 3))});
  return out;
}

std::optional<std::int64_t> personLedgerAccount(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id, ledger = 0;
  sql << "SELECT c.ledger_account_id FROM carbon_accounts c JOIN account_members m ON "
         "m.account_id = c.id WHERE m.user_id = :u AND m.role = 'owner' AND c.kind = 'person'",
      soci::use(uid), soci::into(ledger);
  if (!sql.got_data()) return std::nullopt;
  return ledger;
}

}  // namespace tph::incentive::detail
