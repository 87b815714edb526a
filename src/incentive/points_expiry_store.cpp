#include "incentive/points_expiry_store.h"

#include "store/database.h"
#include "store/json_rows.h"

namespace tph::incentive::detail {

using store::rowInt64;
using store::rowOptionalInt64;
using store::rowText;

std::vector<CohortBalance> cohortBalances(soci::session& sql, std::int64_t cutoff_ms,
                                          std::optional<std::int64_t> ledger_account_id,
                                          const std::vector<std::string>& regions) {
  long long cutoff = cutoff_ms, one = ledger_account_id.value_or(0);
  int all = ledger_account_id ? 0 : 1;
  store::JsonRows region_rows;
  for (const auto& r : regions) region_rows.row().add(r);
  std::string region_list = region_rows.text();
  int any_region = regions.empty() ? 1 : 0;
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
                      "AND (:any = 1 OR c.region_code IN (SELECT value ->> 0 FROM " +
                          store::jsonRowsSource(sql) +
                          ")) "
                          "GROUP BY c.ledger_account_id ORDER BY c.ledger_account_id",
       soci::use(cutoff), soci::use(all), soci::use(one), soci::use(any_region),
       soci::use(region_list));
  for (const auto& r : rows)
    out.push_back({rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2), rowInt64(r, 3)});
  return out;
}

std::vector<std::string> accountRegions(soci::session& sql) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows =
      sql.prepare << "SELECT DISTINCT region_code FROM carbon_accounts ORDER BY region_code";
  for (const auto& r : rows) out.push_back(r);
  return out;
}

bool insertExpiryNotice(soci::session& sql, const NoticeRow& n, std::int64_t now_ms) {
  long long ledger = n.ledger_account_id, pts = n.points, expires = n.expires_at_ms, now = now_ms,
            before = n.credited_before_ms, policy = n.policy_id, found = 0;
  int cohort = n.cohort;
  sql << "SELECT COUNT(*) FROM points_expiry_notices WHERE ledger_account_id = :l AND "
         "cohort_year = :y",
      soci::use(ledger), soci::use(cohort), soci::into(found);
  if (found > 0) return false;
  sql << "INSERT INTO points_expiry_notices (ledger_account_id, cohort_year, points, "
         "expires_at_ms, noticed_at_ms, credited_before_ms, policy_id) "
         "VALUES (:l, :y, :p, :e, :t, :b, :v)",
      soci::use(ledger), soci::use(cohort), soci::use(pts), soci::use(expires), soci::use(now),
      soci::use(before), soci::use(policy);
  return true;
}

void insertPointsExpiry(soci::session& sql, std::int64_t ledger_account_id, int cohort,
                        const std::string& day, std::int64_t points, std::int64_t entry_id,
                        std::int64_t now_ms) {
  long long ledger = ledger_account_id, pts = points, entry = entry_id, now = now_ms;
  sql << "INSERT INTO points_expiries (ledger_account_id, cohort_year, day, points, entry_id, "
         "expired_at_ms) VALUES (:l, :y, :d, :p, :e, :t)",
      soci::use(ledger), soci::use(cohort), soci::use(day), soci::use(pts), soci::use(entry),
      soci::use(now);
}

std::vector<PointsExpiryNotice> expiryNotices(soci::session& sql, std::int64_t ledger_account_id) {
  long long ledger = ledger_account_id;
  std::vector<PointsExpiryNotice> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT cohort_year, points, expires_at_ms, noticed_at_ms, "
                      "credited_before_ms FROM points_expiry_notices WHERE ledger_account_id = :l "
                      "ORDER BY expires_at_ms DESC, cohort_year DESC",
       soci::use(ledger));
  for (const auto& r : rows) {
    PointsExpiryNotice n;
    // Cohorts of monthly policies are YYYYMM.
    auto cohort = rowInt64(r, 0);
    n.cohort_year = static_cast<int>(cohort > 9999 ? cohort / 100 : cohort);
    n.points = Points(rowInt64(r, 1));
    n.expires_at = fromEpochMs(rowInt64(r, 2));
    n.noticed_at = fromEpochMs(rowInt64(r, 3));
    if (auto before = rowOptionalInt64(r, 4)) n.credited_before = fromEpochMs(*before);
    out.push_back(n);
  }
  return out;
}

std::optional<PersonLedger> personLedgerAccount(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id, ledger = 0;
  std::string region;
  sql << "SELECT c.ledger_account_id, c.region_code FROM carbon_accounts c JOIN account_members m "
         "ON m.account_id = c.id WHERE m.user_id = :u AND m.role = 'owner' AND c.kind = 'person'",
      soci::use(uid), soci::into(ledger), soci::into(region);
  if (!sql.got_data()) return std::nullopt;
  return PersonLedger{ledger, region};
}

std::vector<ExpiryPolicyVersion> loadExpiryPolicies(soci::session& sql) {
  std::vector<ExpiryPolicyVersion> out;
  soci::rowset<soci::row> rows = sql.prepare
                                 << "SELECT id, region_code, version, kind, term, notice_days, "
                                    "effective_from_ms, reason, created_by, created_at_ms "
                                    "FROM points_expiry_policies ORDER BY effective_from_ms, id";
  for (const auto& r : rows) {
    ExpiryPolicyVersion v;
    v.id = rowInt64(r, 0);
    v.region_code = rowText(r, 1);
    v.version = static_cast<int>(rowInt64(r, 2));
    v.policy = {rowText(r, 3), static_cast<int>(rowInt64(r, 4)), static_cast<int>(rowInt64(r, 5))};
    v.effective_from = fromEpochMs(rowInt64(r, 6));
    v.reason = rowText(r, 7);
    v.created_by = rowText(r, 8);
    v.created_at = fromEpochMs(rowInt64(r, 9));
    out.push_back(std::move(v));
  }
  return out;
}

std::pair<std::int64_t, int> insertExpiryPolicy(soci::session& sql, const NewExpiryPolicy& p,
                                                std::int64_t effective_from_ms,
                                                const std::string& actor, std::int64_t now_ms) {
  long long latest = 0, id = 0, from = effective_from_ms, now = now_ms;
  soci::indicator ind = soci::i_ok;
  sql << "SELECT MAX(version) FROM points_expiry_policies WHERE region_code = :r",
      soci::use(p.region_code), soci::into(latest, ind);
  int version = static_cast<int>(ind == soci::i_null ? 1 : latest + 1);
  sql << "INSERT INTO points_expiry_policies (region_code, version, kind, term, notice_days, "
         "effective_from_ms, reason, created_by, created_at_ms) "
         "VALUES (:r, :v, :k, :t, :n, :f, :why, :a, :c) RETURNING id",
      soci::use(p.region_code), soci::use(version), soci::use(p.policy.kind),
      soci::use(p.policy.term), soci::use(p.policy.notice_days), soci::use(from),
      soci::use(p.reason), soci::use(actor), soci::use(now), soci::into(id);
  return {id, version};
}

}  // namespace tph::incentive::detail
