#pragma once
// AuthService: users and their roles, sign-up and sign-in, sessions, login throttling, provider
// API keys and HMAC request signing. Every state change is audited in its own transaction.

#include <chrono>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/password.h"
#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}

namespace tph::auth {

struct AuthOptions {
  std::chrono::minutes session_ttl{12 * 60};
  //! Failed logins counted over this window.
  std::chrono::minutes login_throttle_window{15};
  int max_failures_per_username = 5;
  int max_failures_per_address = 30;
  //! A signed request's timestamp may be this far from the server's clock either way.
  std::chrono::seconds signature_max_skew{300};
  PasswordCost password_cost = PasswordCost::kInteractive;
  //! How long a validated session may be answered from memory. Logout on this process takes
  //! effect at once; a logout, disabled user or role change made by another process sharing the
  //! database takes effect within this time.
  std::chrono::milliseconds session_cache_ttl{2000};
};

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string display_name;
  std::string status;
  std::vector<RoleGrant> grants;
  Instant created_at;
};

struct NewUser {
  std::string username;
  std::string password;
  std::string display_name;
  std::vector<RoleGrant> grants;
};

struct LoginResult {
  std::string token;  //!< shown once; only its hash is stored
  Instant expires_at;
  User user;
};

struct ApiKey {
  std::string key_id;
  std::string secret;  //!< shown once, at creation
  std::int64_t user_id = 0;
  std::string label;
  Instant created_at;
};

//! The parts of a signed request that the signature covers.
struct SignedRequest {
  std::string method;
  std::string target;  //!< path and query exactly as sent
  std::string key_id;
  std::string timestamp;  //!< Unix seconds
  std::string nonce;
  std::string signature;  //!< lower-case hex HMAC-SHA256
  std::string body;
};

struct UserQuery {
  std::optional<Role> role;
  std::string region_code;  //!< only users with a grant in this region (or below)
  std::string text;         //!< substring of username or display name
  int limit = 50;
  int offset = 0;
};

inline constexpr std::size_t kNonceMinLength = 16;
inline constexpr std::size_t kNonceMaxLength = 64;

//! The string a provider signs: METHOD\nTARGET\nTIMESTAMP\nNONCE\nhex(SHA-256(body)).
std::string signingString(const std::string& method, const std::string& target,
                          const std::string& timestamp, const std::string& nonce,
                          const std::string& body);

//! Grants a role to a user inside the caller's open transaction (another module's use case, such
//! as approving a merchant), audited as `actor`. Granting a role the user holds is a no-op.
void grantRoleInTransaction(soci::session& sql, const Clock& clock, const std::string& actor,
                            std::int64_t user_id, const RoleGrant& grant);

//! Shared between threads; its only mutable state is the session cache, guarded by cache_mu_.
class AuthService {
 public:
  AuthService(store::Database& db, const Clock& clock, AuthOptions options = {});

  //! Self-service sign-up: always and only the resident role.
  Result<User> registerResident(const NewUser& request);
  Result<LoginResult> login(const std::string& username, const std::string& password,
                            const std::string& client_address);
  Status logout(const std::string& token);
  //! Checks the signed-in user's password before an irreversible step (deleting the account).
  //! A wrong one counts towards the same throttle as a failed sign-in.
  Status confirmPassword(const Principal& caller, const std::string& password);
  //! Drops every cached session of a user whose sessions were revoked in the database.
  void forgetUser(std::int64_t user_id);
  //! The principal behind a bearer token, or unauthenticated when unknown, expired or revoked.
  Result<Principal> authenticateToken(const std::string& token);
  //! Checks a provider's signature, timestamp and nonce (recording the nonce).
  Result<Principal> authenticateSigned(const SignedRequest& request);

  //! An admin creates a user with any roles its own grants allow it to give.
  Result<User> createUser(const Principal& actor, const NewUser& request);
  //! Creates (or, from the CLI, replaces) a user without an acting principal; audited as `actor`.
  Result<User> createUserAsSystem(const std::string& actor, const NewUser& request,
                                  bool update_if_exists);
  Result<User> getUser(const Principal& actor, std::int64_t user_id);
  Result<std::vector<User>> listUsers(const Principal& actor, const UserQuery& query);

  Result<ApiKey> createApiKey(const Principal& actor, std::int64_t user_id,
                              const std::string& label);
  Status revokeApiKey(const Principal& actor, const std::string& key_id);

  const AuthOptions& options() const { return options_; }

 private:
  Status checkNewUser(const NewUser& request) const;
  Status checkGrantsAllowed(const Principal& actor, const std::vector<RoleGrant>& grants) const;
  bool canSeeUser(const Principal& actor, const User& user) const;

  void forgetSession(const std::string& token_hash);

  struct CachedSession {
    Principal principal;
    Instant session_expires;
    Instant cached_until;
  };
  static constexpr std::size_t kSessionCacheMaxEntries = 200'000;

  store::Database& db_;
  const Clock& clock_;
  AuthOptions options_;
  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, CachedSession> session_cache_;  // guarded by cache_mu_
};

}  // namespace tph::auth
