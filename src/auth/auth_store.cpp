#include "auth/auth_store.h"

#include "core/region_code.h"
#include "store/database.h"

namespace tph::auth::detail {

namespace {

User userFromRow(soci::session& sql, long long id, std::string username, std::string display_name,
                 std::string status, long long created_at_ms) {
  User user;
  user.id = id;
  user.username = std::move(username);
  user.display_name = std::move(display_name);
  user.status = std::move(status);
  user.created_at = fromEpochMs(created_at_ms);
  user.grants = loadGrants(sql, id);
  return user;
}

}  // namespace

std::optional<StoredUser> findUserByUsername(soci::session& sql, const std::string& username) {
  long long id = 0, created = 0;
  std::string name, display, status, hash;
  sql << "SELECT id, username, display_name, status, created_at_ms, password_hash FROM users "
         "WHERE username = :u",
      soci::use(username), soci::into(id), soci::into(name), soci::into(display),
      soci::into(status), soci::into(created), soci::into(hash);
  if (!sql.got_data()) return std::nullopt;
  return StoredUser{userFromRow(sql, id, name, display, status, created), hash};
}

std::optional<User> findUserById(soci::session& sql, std::int64_t user_id) {
  long long id = user_id, created = 0;
  std::string name, display, status;
  sql << "SELECT username, display_name, status, created_at_ms FROM users WHERE id = :id",
      soci::use(id), soci::into(name), soci::into(display), soci::into(status), soci::into(created);
  if (!sql.got_data()) return std::nullopt;
  return userFromRow(sql, id, name, display, status, created);
}

std::int64_t insertUser(soci::session& sql, const NewUser& user, const std::string& password_hash,
                        std::int64_t now_ms) {
  long long id = 0, now = now_ms;
  sql << "INSERT INTO users (username, password_hash, display_name, status, created_at_ms, "
         "updated_at_ms) VALUES (:u, :h, :d, 'active', :c, :c2) RETURNING id",
      soci::use(user.username), soci::use(password_hash), soci::use(user.display_name),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

void updateUser(soci::session& sql, std::int64_t user_id, const std::string& display_name,
                const std::string& password_hash, std::int64_t now_ms) {
  long long id = user_id, now = now_ms;
  sql << "UPDATE users SET display_name = :d, password_hash = :h, updated_at_ms = :t WHERE id = "
         ":id",
      soci::use(display_name), soci::use(password_hash), soci::use(now), soci::use(id);
}

void replaceGrants(soci::session& sql, std::int64_t user_id, const std::vector<RoleGrant>& grants,
                   std::int64_t now_ms) {
  long long id = user_id, now = now_ms;
  sql << "DELETE FROM user_roles WHERE user_id = :id", soci::use(id);
  for (const auto& g : grants) {
    std::string role(roleName(g.role));
    sql << "INSERT INTO user_roles (user_id, role, region_code, granted_at_ms) "
           "VALUES (:id, :r, :g, :t)",
        soci::use(id), soci::use(role), soci::use(g.region_code), soci::use(now);
  }
}

std::vector<RoleGrant> loadGrants(soci::session& sql, std::int64_t user_id) {
  long long id = user_id;
  std::string role, region;
  std::vector<RoleGrant> grants;
  soci::statement st =
      (sql.prepare << "SELECT role, region_code FROM user_roles WHERE user_id = :id "
                      "ORDER BY role, region_code",
       soci::use(id), soci::into(role), soci::into(region));
  st.execute();
  while (st.fetch()) {
    // A role name this binary does not know (written by a newer one) grants nothing.
    if (auto parsed = parseRole(role)) grants.push_back({*parsed, region});
  }
  return grants;
}

namespace {}  // namespace

std::vector<User> queryUsers(soci::session& sql, const UserQuery& query,
                             const std::vector<std::string>& visible_regions, bool all_regions) {
  std::string text = "%" + query.text + "%";
  std::vector<std::string> binds;
  std::string where;
  if (query.role) {
    where += " AND EXISTS (SELECT 1 FROM user_roles q WHERE q.user_id = u.id AND q.role = :role";
    binds.emplace_back(roleName(*query.role));
    if (!query.region_code.empty()) {
      where += " AND q.region_code LIKE :region";
      binds.push_back(regionPrefix(query.region_code) + "%");
    }
    where += ")";
  } else if (!query.region_code.empty()) {
    where +=
        " AND EXISTS (SELECT 1 FROM user_roles q WHERE q.user_id = u.id AND "
        "q.region_code LIKE :region)";
    binds.push_back(regionPrefix(query.region_code) + "%");
  }
  if (!query.text.empty()) {
    where += " AND (u.username LIKE :t1 OR u.display_name LIKE :t2)";
    binds.push_back(text);
    binds.push_back(text);
  }
  if (!all_regions) {
    where += " AND EXISTS (SELECT 1 FROM user_roles v WHERE v.user_id = u.id AND (1 = 0";
    for (const auto& region : visible_regions) {
      where += " OR v.region_code LIKE :v" + std::to_string(binds.size());
      binds.push_back(regionPrefix(region) + "%");
    }
    where += "))";
  }
  std::string text_sql =
      "SELECT u.id, u.username, u.display_name, u.status, u.created_at_ms "
      "FROM users u WHERE 1 = 1" +
      where + " ORDER BY u.id LIMIT " + std::to_string(query.limit) + " OFFSET " +
      std::to_string(query.offset);
  long long id = 0, created = 0;
  std::string username, display, status;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  st.exchange(soci::into(username));
  st.exchange(soci::into(display));
  st.exchange(soci::into(status));
  st.exchange(soci::into(created));
  for (auto& value : binds) st.exchange(soci::use(value));
  st.alloc();
  st.prepare(text_sql);
  st.define_and_bind();
  st.execute(false);
  std::vector<User> users;
  while (st.fetch()) {
    User user;
    user.id = id;
    user.username = username;
    user.display_name = display;
    user.status = status;
    user.created_at = fromEpochMs(created);
    users.push_back(std::move(user));
  }
  for (auto& user : users) user.grants = loadGrants(sql, user.id);
  return users;
}

bool regionExists(soci::session& sql, const std::string& code) {
  int count = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(count);
  return count > 0;
}

void insertSession(soci::session& sql, const std::string& token_hash, std::int64_t user_id,
                   std::int64_t now_ms, std::int64_t expires_ms,
                   const std::string& client_address) {
  long long id = user_id, now = now_ms, expires = expires_ms;
  sql << "INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms, client_address) "
         "VALUES (:h, :u, :c, :e, :a)",
      soci::use(token_hash), soci::use(id), soci::use(now), soci::use(expires),
      soci::use(client_address);
}

std::optional<LiveSession> findLiveSession(soci::session& sql, const std::string& token_hash,
                                           std::int64_t now_ms) {
  long long user_id = 0, expires = 0, now = now_ms;
  sql << "SELECT s.user_id, s.expires_at_ms FROM sessions s JOIN users u ON u.id = s.user_id "
         "WHERE s.token_hash = :h AND s.revoked_at_ms IS NULL AND s.expires_at_ms > :now "
         "AND u.status = 'active'",
      soci::use(token_hash), soci::use(now), soci::into(user_id), soci::into(expires);
  if (!sql.got_data()) return std::nullopt;
  return LiveSession{user_id, expires};
}

bool revokeSession(soci::session& sql, const std::string& token_hash, std::int64_t now_ms) {
  long long now = now_ms;
  soci::statement st = (sql.prepare << "UPDATE sessions SET revoked_at_ms = :now "
                                       "WHERE token_hash = :h AND revoked_at_ms IS NULL",
                        soci::use(now), soci::use(token_hash));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

int countFailures(soci::session& sql, const std::string& key, std::int64_t since_ms) {
  long long since = since_ms;
  int count = 0;
  sql << "SELECT COUNT(*) FROM login_failures WHERE throttle_key = :k AND at_ms >= :s",
      soci::use(key), soci::use(since), soci::into(count);
  return count;
}

void recordFailure(soci::session& sql, const std::string& key, std::int64_t now_ms,
                   std::int64_t prune_before_ms) {
  long long now = now_ms, prune = prune_before_ms;
  sql << "DELETE FROM login_failures WHERE throttle_key = :k AND at_ms < :p", soci::use(key),
      soci::use(prune);
  sql << "INSERT INTO login_failures (throttle_key, at_ms) VALUES (:k, :t)", soci::use(key),
      soci::use(now);
}

void clearFailures(soci::session& sql, const std::string& key) {
  sql << "DELETE FROM login_failures WHERE throttle_key = :k", soci::use(key);
}

void insertApiKey(soci::session& sql, const ApiKey& key) {
  long long user_id = key.user_id, created = toEpochMs(key.created_at);
  sql << "INSERT INTO api_keys (key_id, user_id, secret, label, created_at_ms) "
         "VALUES (:k, :u, :s, :l, :c)",
      soci::use(key.key_id), soci::use(user_id), soci::use(key.secret), soci::use(key.label),
      soci::use(created);
}

std::optional<StoredApiKey> findApiKey(soci::session& sql, const std::string& key_id) {
  StoredApiKey key;
  long long user_id = 0, revoked_at = 0;
  soci::indicator revoked_ind = soci::i_null;
  sql << "SELECT key_id, user_id, secret, revoked_at_ms FROM api_keys WHERE key_id = :k",
      soci::use(key_id), soci::into(key.key_id), soci::into(user_id), soci::into(key.secret),
      soci::into(revoked_at, revoked_ind);
  if (!sql.got_data()) return std::nullopt;
  key.user_id = user_id;
  key.revoked = revoked_ind != soci::i_null;
  return key;
}

bool revokeApiKey(soci::session& sql, const std::string& key_id, std::int64_t now_ms) {
  long long now = now_ms;
  soci::statement st = (sql.prepare << "UPDATE api_keys SET revoked_at_ms = :t "
                                       "WHERE key_id = :k AND revoked_at_ms IS NULL",
                        soci::use(now), soci::use(key_id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

bool recordNonce(soci::session& sql, const std::string& key_id, const std::string& nonce,
                 std::int64_t now_ms, std::int64_t prune_before_ms) {
  long long now = now_ms, prune = prune_before_ms;
  sql << "DELETE FROM request_nonces WHERE at_ms < :p", soci::use(prune);
  int seen = 0;
  sql << "SELECT COUNT(*) FROM request_nonces WHERE key_id = :k AND nonce = :n", soci::use(key_id),
      soci::use(nonce), soci::into(seen);
  if (seen > 0) return false;
  sql << "INSERT INTO request_nonces (key_id, nonce, at_ms) VALUES (:k, :n, :t)", soci::use(key_id),
      soci::use(nonce), soci::use(now);
  return true;
}

}  // namespace tph::auth::detail
