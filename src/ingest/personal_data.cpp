#include "ingest/personal_data.h"

#include "store/json_export.h"

namespace tph::ingest {

nlohmann::json exportSubjectData(soci::session& sql, std::int64_t user_id) {
  nlohmann::json out = nlohmann::json::object();
  out["bindings"] = store::queryAsJson(
      sql,
      "SELECT b.id, p.name AS provider, b.subject_ref, b.account_id, b.status, b.created_at_ms, "
      "b.confirmed_at_ms, b.ended_at_ms FROM bindings b JOIN providers p ON p.id = b.provider_id "
      "CROSS JOIN (SELECT CAST(:id AS BIGINT) AS uid) me "
      "WHERE b.requested_by = me.uid OR b.account_id IN "
      "(SELECT account_id FROM account_members WHERE user_id = me.uid) "
      "ORDER BY b.created_at_ms, b.id",
      user_id);
  out["records"] = store::queryAsJson(
      sql,
      "SELECT r.id, p.name AS provider, r.provider_record_id, r.methodology_id, r.occurred_at_ms, "
      "r.region_code AS region, r.inputs_json, r.status, r.reason, r.received_at_ms, "
      "r.decided_at_ms, d.id AS reduction_id, d.methodology_version, d.domain, d.day, d.grams, "
      "d.points, d.cap_applied, d.campaign_bonus_points, d.explanation AS explanation_json "
      "FROM ingest_records r JOIN providers p ON p.id = r.provider_id "
      "LEFT JOIN reductions d ON d.record_id = r.id "
      "WHERE r.account_id IN (SELECT m.account_id FROM account_members m "
      "JOIN carbon_accounts c ON c.id = m.account_id WHERE m.user_id = :id AND c.kind = 'person') "
      "ORDER BY r.occurred_at_ms, r.id",
      user_id);
  return out;
}

std::int64_t endBindingsOf(soci::session& sql, const Clock& clock,
                           const std::vector<std::int64_t>& account_ids) {
  long long now = toEpochMs(clock.now());
  std::int64_t ended = 0;
  for (long long account : account_ids) {
    soci::statement unbind =
        (sql.prepare << "UPDATE bindings SET status = CASE status WHEN 'active' THEN 'unbound' "
                        "ELSE 'cancelled' END, ended_at_ms = :t, code_hash = NULL "
                        "WHERE account_id = :a AND status IN ('active', 'pending')",
         soci::use(now), soci::use(account));
    unbind.execute(true);
    ended += unbind.get_affected_rows();
  }
  return ended;
}

}  // namespace tph::ingest
