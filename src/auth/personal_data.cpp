#include "auth/personal_data.h"

#include <string>

#include "store/json_export.h"

namespace tph::auth {

nlohmann::json exportUserData(soci::session& sql, std::int64_t user_id) {
  nlohmann::json users = store::queryAsJson(
      sql,
      "SELECT id, username, display_name, status, created_at_ms, updated_at_ms FROM users "
      "WHERE id = :id",
      user_id);
  nlohmann::json out = users.empty() ? nlohmann::json::object() : users.front();
  out["roles"] = store::queryAsJson(
      sql,
      "SELECT role, region_code AS region, granted_at_ms FROM user_roles WHERE user_id = :id "
      "ORDER BY role, region_code",
      user_id);
  out["sessions"] = store::queryAsJson(
      sql,
      "SELECT created_at_ms, expires_at_ms, revoked_at_ms, client_address FROM sessions "
      "WHERE user_id = :id ORDER BY created_at_ms",
      user_id);
  out["api_keys"] = store::queryAsJson(
      sql,
      "SELECT key_id, label, created_at_ms, revoked_at_ms FROM api_keys WHERE user_id = :id "
      "ORDER BY created_at_ms",
      user_id);
  return out;
}

void eraseUserData(soci::session& sql, const Clock& clock, std::int64_t user_id) {
  std::int64_t now = toEpochMs(clock.now());
  std::string username;
  sql << "SELECT username FROM users WHERE id = :id", soci::use(user_id), soci::into(username);
  sql << "DELETE FROM login_failures WHERE throttle_key = :k", soci::use("user:" + username);
  std::string anonymous = "deleted-" + std::to_string(user_id);
  sql << "UPDATE users SET username = :u, display_name = '', password_hash = '!', "
         "status = 'disabled', updated_at_ms = :now, deleted_at_ms = :now2 WHERE id = :id",
      soci::use(anonymous), soci::use(now), soci::use(now), soci::use(user_id);
  sql << "DELETE FROM user_roles WHERE user_id = :id", soci::use(user_id);
  sql << "UPDATE sessions SET revoked_at_ms = :now WHERE user_id = :id AND revoked_at_ms IS NULL",
      soci::use(now), soci::use(user_id);
  sql << "UPDATE sessions SET client_address = '' WHERE user_id = :id", soci::use(user_id);
  sql << "UPDATE api_keys SET revoked_at_ms = :now WHERE user_id = :id AND revoked_at_ms IS NULL",
      soci::use(now), soci::use(user_id);
}

}  // namespace tph::auth
