#pragma once
// SQL of the auth module. Internal to src/auth: other modules go through AuthService.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_service.h"

namespace tph::auth::detail {

struct StoredUser {
  User user;
  std::string password_hash;
};

std::optional<StoredUser> findUserByUsername(soci::session& sql, const std::string& username);
std::optional<User> findUserById(soci::session& sql, std::int64_t id);
std::int64_t insertUser(soci::session& sql, const NewUser& user, const std::string& password_hash,
                        std::int64_t now_ms);
void updateUser(soci::session& sql, std::int64_t id, const std::string& display_name,
                const std::string& password_hash, std::int64_t now_ms);
void replaceGrants(soci::session& sql, std::int64_t user_id, const std::vector<RoleGrant>& grants,
                   std::int64_t now_ms);
std::vector<RoleGrant> loadGrants(soci::session& sql, std::int64_t user_id);
std::vector<User> queryUsers(soci::session& sql, const UserQuery& query,
                             const std::vector<std::string>& visible_regions, bool all_regions);
bool regionExists(soci::session& sql, const std::string& code);

void insertSession(soci::session& sql, const std::string& token_hash, std::int64_t user_id,
                   std::int64_t now_ms, std::int64_t expires_ms, const std::string& client_address);
struct LiveSession {
  std::int64_t user_id = 0;
  std::int64_t expires_at_ms = 0;
};
//! A live session (not expired at now_ms, not revoked, its user active).
std::optional<LiveSession> findLiveSession(soci::session& sql, const std::string& token_hash,
                                           std::int64_t now_ms);
//! Revokes a live session; false when there was none.
bool revokeSession(soci::session& sql, const std::string& token_hash, std::int64_t now_ms);

int countFailures(soci::session& sql, const std::string& key, std::int64_t since_ms);
void recordFailure(soci::session& sql, const std::string& key, std::int64_t now_ms,
                   std::int64_t prune_before_ms);
void clearFailures(soci::session& sql, const std::string& key);

void insertApiKey(soci::session& sql, const ApiKey& key);
struct StoredApiKey {
  std::string key_id;
  std::int64_t user_id = 0;
  std::string secret;
  bool revoked = false;
};
std::optional<StoredApiKey> findApiKey(soci::session& sql, const std::string& key_id);
bool revokeApiKey(soci::session& sql, const std::string& key_id, std::int64_t now_ms);
//! Records a nonce; false when the key already used it.
bool recordNonce(soci::session& sql, const std::string& key_id, const std::string& nonce,
                 std::int64_t now_ms, std::int64_t prune_before_ms);

}  // namespace tph::auth::detail
