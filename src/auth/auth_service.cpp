#include "auth/auth_service.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "audit/audit_log.h"
#include "auth/auth_store.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::auth {

namespace {

constexpr std::size_t kUsernameMinLength = 3;
constexpr std::size_t kUsernameMaxLength = 32;
constexpr std::size_t kDisplayNameMaxBytes = 120;
constexpr std::size_t kApiKeyLabelMaxBytes = 120;
constexpr int kUserListMaxLimit = 200;
// An unknown username still costs one hash verification, so timing does not reveal which
// usernames exist. The hash is of a random password nobody knows.
const std::string& decoyHash() {
  static const std::string hash = hashPassword(randomHex(16), PasswordCost::kMinimum);
  return hash;
}

std::string tokenHash(const std::string& token) {
  return sha256Hex(token);
}

bool validUsername(const std::string& name) {
  if (name.size() < kUsernameMinLength || name.size() > kUsernameMaxLength) return false;
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_' || c == '.' || c == '-';
  });
}

nlohmann::json grantsJson(const std::vector<RoleGrant>& grants) {
  auto out = nlohmann::json::array();
  for (const auto& g : grants)
    out.push_back({{"role", roleName(g.role)}, {"region", g.region_code}});
  return out;
}

Principal principalOf(const User& user) {
  return Principal{user.id, user.username, user.display_name, user.grants, {}};
}

}  // namespace

std::string signingString(const std::string& method, const std::string& target,
                          const std::string& timestamp, const std::string& nonce,
                          const std::string& body) {
  return method + "\n" + target + "\n" + timestamp + "\n" + nonce + "\n" + sha256Hex(body);
}

AuthService::AuthService(store::Database& db, const Clock& clock, AuthOptions options)
    : db_(db), clock_(clock), options_(options) {}

Status AuthService::checkNewUser(const NewUser& request) const {
  if (!validUsername(request.username)) {
    return Error::invalid("username",
                          "username must be 3-32 characters of a-z, 0-9, '_', '.' or '-', "
                          "starting with a letter or digit");
  }
  TPH_TRY(checkPasswordPolicy(request.password));
  if (request.display_name.empty() || request.display_name.size() > kDisplayNameMaxBytes) {
    return Error::invalid("display_name", "display name must be 1-120 bytes");
  }
  if (request.grants.empty()) return Error::invalid("roles", "a user needs at least one role");
  for (const auto& g : request.grants) {
    if (roleRequiresRegion(g.role) && g.region_code.empty()) {
      return Error::invalid("roles", std::string(roleName(g.role)) + " needs a region");
    }
    if (!g.region_code.empty() && !isRegionCode(g.region_code)) {
      return Error::invalid("roles", "region must be a six-digit GB/T 2260 code");
    }
  }
  return {};
}

Status AuthService::checkGrantsAllowed(const Principal& actor,
                                       const std::vector<RoleGrant>& grants) const {
  if (actor.hasRole(Role::kProvinceAdmin)) return {};
  if (!actor.hasRole(Role::kRegionAdmin)) {
    return Error::forbidden("only province and region admins create users");
  }
  for (const auto& g : grants) {
    if (g.role == Role::kProvinceAdmin || g.role == Role::kAuditor ||
        g.role == Role::kEtsEnterprise || g.role == Role::kExchangeMember) {
      return Error::forbidden("only a province admin grants " + std::string(roleName(g.role)),
                              "roles");
    }
    if (g.region_code.empty()) {
      return Error::invalid("roles", "a region admin's grants must name a region within its own");
    }
    if (!actor.actsInRegion(Role::kRegionAdmin, g.region_code)) {
      return Error::forbidden("region " + g.region_code + " is outside your region", "roles");
    }
  }
  return {};
}

bool AuthService::canSeeUser(const Principal& actor, const User& user) const {
  if (actor.user_id == user.id || actor.hasRole(Role::kProvinceAdmin)) return true;
  return std::any_of(user.grants.begin(), user.grants.end(), [&](const RoleGrant& g) {
    return !g.region_code.empty() && actor.actsInRegion(Role::kRegionAdmin, g.region_code);
  });
}

Result<User> AuthService::registerResident(const NewUser& request) {
  NewUser resident = request;
  resident.grants = {{Role::kResident, ""}};
  TPH_TRY(checkNewUser(resident));
  std::string hash = hashPassword(resident.password, options_.password_cost);
  return db_.transaction([&](soci::session& sql) -> Result<User> {
    if (detail::findUserByUsername(sql, resident.username)) {
      return Error::conflict("username is taken", "username");
    }
    auto now = toEpochMs(clock_.now());
    auto id = detail::insertUser(sql, resident, hash, now);
    detail::replaceGrants(sql, id, resident.grants, now);
    audit::appendAuditEvent(
        sql, clock_,
        {"user:" + std::to_string(id),
         "user.register",
         "user:" + std::to_string(id),
         {{"username", resident.username}, {"roles", grantsJson(resident.grants)}}});
    return *detail::findUserById(sql, id);
  });
}

Result<LoginResult> AuthService::login(const std::string& username, const std::string& password,
                                       const std::string& client_address) {
  if (username.empty()) return Error::invalid("username", "username is required");
  if (password.empty()) return Error::invalid("password", "password is required");
  const std::string user_key = "user:" + username;
  const std::string addr_key = "addr:" + client_address;
  struct Attempt {
    std::optional<LoginResult> success;
    bool throttled = false;
  };
  auto attempt = db_.transaction([&](soci::session& sql) -> Result<Attempt> {
    auto now = clock_.now();
    auto since = toEpochMs(now - options_.login_throttle_window);
    if (detail::countFailures(sql, user_key, since) >= options_.max_failures_per_username ||
        detail::countFailures(sql, addr_key, since) >= options_.max_failures_per_address) {
      return Attempt{std::nullopt, true};
    }
    auto stored = detail::findUserByUsername(sql, username);
    bool match = stored ? verifyPassword(password, stored->password_hash)
                        : (verifyPassword(password, decoyHash()), false);
    if (!match || stored->user.status != "active") {
      // The failure is committed (this lambda succeeds) so that throttling remembers it.
      detail::recordFailure(sql, user_key, toEpochMs(now), since);
      detail::recordFailure(sql, addr_key, toEpochMs(now), since);
      return Attempt{};
    }
    detail::clearFailures(sql, user_key);
    LoginResult result;
    result.token = randomHex(32);
    result.expires_at = now + options_.session_ttl;
    result.user = stored->user;
    detail::insertSession(sql, tokenHash(result.token), stored->user.id, toEpochMs(now),
                          toEpochMs(result.expires_at), client_address);
    return Attempt{std::move(result), false};
  });
  if (!attempt) return attempt.error();
  if (attempt->throttled) {
    return Error::rateLimited("too many failed sign-ins; wait " +
                              std::to_string(options_.login_throttle_window.count()) +
                              " minutes and try again");
  }
  if (!attempt->success)
    return Error{ErrorCode::kUnauthenticated, "password", "wrong username or password"};
  return std::move(*attempt->success);
}

Status AuthService::logout(const std::string& token) {
  std::string hash = tokenHash(token);
  forgetSession(hash);
  return db_.transaction([&](soci::session& sql) -> Status {
    if (!detail::revokeSession(sql, hash, toEpochMs(clock_.now()))) {
      return Error::unauthenticated("session is not active");
    }
    return {};
  });
}

Status AuthService::confirmPassword(const Principal& caller, const std::string& password) {
  if (password.empty()) return Error::invalid("password", "password is required");
  const std::string user_key = "user:" + caller.username;
  auto outcome = db_.transaction([&](soci::session& sql) -> Result<int> {
    auto now = clock_.now();
    auto since = toEpochMs(now - options_.login_throttle_window);
    if (detail::countFailures(sql, user_key, since) >= options_.max_failures_per_username) {
      return 0;
    }
    auto stored = detail::findUserByUsername(sql, caller.username);
    if (stored && stored->user.id == caller.user_id &&
        verifyPassword(password, stored->password_hash)) {
      return 1;
    }
    // Committed with the failure (this lambda succeeds) so that throttling remembers it.
    detail::recordFailure(sql, user_key, toEpochMs(now), since);
    return -1;
  });
  if (!outcome) return outcome.error();
  if (*outcome == 0) {
    return Error::rateLimited("too many wrong passwords; wait " +
                              std::to_string(options_.login_throttle_window.count()) +
                              " minutes and try again");
  }
  if (*outcome < 0) return Error{ErrorCode::kForbidden, "password", "wrong password"};
  return {};
}

void AuthService::forgetUser(std::int64_t user_id) {
  std::unique_lock lock(cache_mu_);
  std::erase_if(session_cache_,
                [user_id](const auto& entry) { return entry.second.principal.user_id == user_id; });
}

void AuthService::forgetSession(const std::string& token_hash) {
  std::unique_lock lock(cache_mu_);
  session_cache_.erase(token_hash);
}

Result<Principal> AuthService::authenticateToken(const std::string& token) {
  if (token.size() != 64) return Error::unauthenticated("invalid or expired token");
  std::string hash = tokenHash(token);
  auto now = clock_.now();
  {
    std::shared_lock lock(cache_mu_);
    auto it = session_cache_.find(hash);
    if (it != session_cache_.end() && now < it->second.cached_until &&
        now < it->second.session_expires) {
      return it->second.principal;
    }
  }
  auto found = db_.read([&](soci::session& sql) -> Result<CachedSession> {
    auto session = detail::findLiveSession(sql, hash, toEpochMs(now));
    if (!session) return Error::unauthenticated("invalid or expired token");
    auto user = detail::findUserById(sql, session->user_id);
    if (!user) return Error::unauthenticated("invalid or expired token");
    return CachedSession{principalOf(*user), fromEpochMs(session->expires_at_ms),
                         now + options_.session_cache_ttl};
  });
  if (!found) {
    forgetSession(hash);
    return found.error();
  }
  std::unique_lock lock(cache_mu_);
  // A full cache is emptied rather than managed: entries live two seconds anyway.
  if (session_cache_.size() >= kSessionCacheMaxEntries) session_cache_.clear();
  session_cache_[hash] = *found;
  return found->principal;
}

Result<Principal> AuthService::authenticateSigned(const SignedRequest& request) {
  if (request.key_id.empty()) return Error::unauthenticated("X-Tph-Key is missing");
  long long timestamp = 0;
  try {
    std::size_t used = 0;
    timestamp = std::stoll(request.timestamp, &used);
    if (used != request.timestamp.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Error::unauthenticated("X-Tph-Timestamp must be Unix seconds");
  }
  auto now = clock_.now();
  auto skew = std::chrono::seconds(
      std::llabs(timestamp -
                 std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()));
  if (skew > options_.signature_max_skew) {
    return Error::unauthenticated("X-Tph-Timestamp is more than " +
                                  std::to_string(options_.signature_max_skew.count()) +
                                  " seconds from the server's clock");
  }
  if (request.nonce.size() < kNonceMinLength || request.nonce.size() > kNonceMaxLength ||
      !std::all_of(request.nonce.begin(), request.nonce.end(),
                   [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
    return Error::unauthenticated(
        "X-Tph-Nonce must be 16-64 characters of A-Z, a-z, 0-9, '-', '_'");
  }
  return db_.transaction([&](soci::session& sql) -> Result<Principal> {
    auto key = detail::findApiKey(sql, request.key_id);
    if (!key || key->revoked) return Error::unauthenticated("unknown or revoked API key");
    auto expected =
        hmacSha256Hex(key->secret, signingString(request.method, request.target, request.timestamp,
                                                 request.nonce, request.body));
    if (!constantTimeEquals(expected, request.signature)) {
      return Error::unauthenticated("signature does not match the request");
    }
    // Nonces older than twice the skew can never be replayed inside the window; drop them.
    auto prune = toEpochMs(now - 2 * options_.signature_max_skew);
    if (!detail::recordNonce(sql, key->key_id, request.nonce, toEpochMs(now), prune)) {
      return Error::unauthenticated("nonce was already used; sign each request afresh");
    }
    auto user = detail::findUserById(sql, key->user_id);
    if (!user || user->status != "active")
      return Error::unauthenticated("API key's user is disabled");
    auto principal = principalOf(*user);
    principal.api_key_id = key->key_id;
    return principal;
  });
}

Result<User> AuthService::createUser(const Principal& actor, const NewUser& request) {
  TPH_TRY(checkGrantsAllowed(actor, request.grants));
  TPH_TRY(checkNewUser(request));
  std::string hash = hashPassword(request.password, options_.password_cost);
  return db_.transaction([&](soci::session& sql) -> Result<User> {
    for (const auto& g : request.grants) {
      if (!g.region_code.empty() && !detail::regionExists(sql, g.region_code)) {
        return Error::invalid("roles", "unknown region " + g.region_code);
      }
    }
    if (detail::findUserByUsername(sql, request.username)) {
      return Error::conflict("username is taken", "username");
    }
    auto now = toEpochMs(clock_.now());
    auto id = detail::insertUser(sql, request, hash, now);
    detail::replaceGrants(sql, id, request.grants, now);
    audit::appendAuditEvent(
        sql, clock_,
        {actor.auditActor(),
         "user.create",
         "user:" + std::to_string(id),
         {{"username", request.username}, {"roles", grantsJson(request.grants)}}});
    return *detail::findUserById(sql, id);
  });
}

Result<User> AuthService::createUserAsSystem(const std::string& actor, const NewUser& request,
                                             bool update_if_exists) {
  TPH_TRY(checkNewUser(request));
  std::string hash = hashPassword(request.password, options_.password_cost);
  return db_.transaction([&](soci::session& sql) -> Result<User> {
    for (const auto& g : request.grants) {
      if (!g.region_code.empty() && !detail::regionExists(sql, g.region_code)) {
        return Error::invalid("roles", "unknown region " + g.region_code);
      }
    }
    auto now = toEpochMs(clock_.now());
    auto existing = detail::findUserByUsername(sql, request.username);
    if (existing && !update_if_exists) return Error::conflict("username is taken", "username");
    std::int64_t id = 0;
    std::string action;
    if (existing) {
      id = existing->user.id;
      detail::updateUser(sql, id, request.display_name, hash, now);
      action = "user.update";
    } else {
      id = detail::insertUser(sql, request, hash, now);
      action = "user.create";
    }
    detail::replaceGrants(sql, id, request.grants, now);
    audit::appendAuditEvent(
        sql, clock_,
        {actor,
         action,
         "user:" + std::to_string(id),
         {{"username", request.username}, {"roles", grantsJson(request.grants)}}});
    return *detail::findUserById(sql, id);
  });
}

Result<User> AuthService::getUser(const Principal& actor, std::int64_t user_id) {
  return db_.read([&](soci::session& sql) -> Result<User> {
    auto user = detail::findUserById(sql, user_id);
    if (!user || !canSeeUser(actor, *user)) return Error::notFound("no such user", "id");
    return *user;
  });
}

Result<std::vector<User>> AuthService::listUsers(const Principal& actor, const UserQuery& query) {
  if (query.limit < 1 || query.limit > kUserListMaxLimit) {
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kUserListMaxLimit));
  }
  if (query.offset < 0) return Error::invalid("offset", "offset must not be negative");
  if (!query.region_code.empty() && !isRegionCode(query.region_code)) {
    return Error::invalid("region", "region must be a six-digit GB/T 2260 code");
  }
  bool all = actor.hasRole(Role::kProvinceAdmin);
  std::vector<std::string> regions;
  for (const auto& g : actor.grants) {
    if (g.role == Role::kRegionAdmin) regions.push_back(g.region_code);
  }
  if (!all && regions.empty())
    return Error::forbidden("only province and region admins list users");
  return db_.read([&](soci::session& sql) -> Result<std::vector<User>> {
    return detail::queryUsers(sql, query, regions, all);
  });
}

Result<ApiKey> AuthService::createApiKey(const Principal& actor, std::int64_t user_id,
                                         const std::string& label) {
  if (label.size() > kApiKeyLabelMaxBytes)
    return Error::invalid("label", "label must be at most 120 bytes");
  return db_.transaction([&](soci::session& sql) -> Result<ApiKey> {
    auto user = detail::findUserById(sql, user_id);
    if (!user || !canSeeUser(actor, *user)) return Error::notFound("no such user", "user_id");
    if (actor.user_id == user->id && !actor.hasRole(Role::kProvinceAdmin)) {
      return Error::forbidden("an admin creates API keys for providers, not for itself");
    }
    if (!principalOf(*user).hasRole(Role::kProvider)) {
      return Error::invalid("user_id", "API keys are for users with the provider role");
    }
    ApiKey key;
    key.key_id = "tk_" + randomHex(8);
    key.secret = randomHex(32);
    key.user_id = user->id;
    key.label = label;
    key.created_at = clock_.now();
    detail::insertApiKey(sql, key);
    audit::appendAuditEvent(sql, clock_,
                            {actor.auditActor(),
                             "api_key.create",
                             "user:" + std::to_string(user->id),
                             {{"key_id", key.key_id}, {"label", label}}});
    return key;
  });
}

Status AuthService::revokeApiKey(const Principal& actor, const std::string& key_id) {
  return db_.transaction([&](soci::session& sql) -> Status {
    auto key = detail::findApiKey(sql, key_id);
    if (!key) return Error::notFound("no such API key", "key_id");
    auto owner = detail::findUserById(sql, key->user_id);
    bool own_key = actor.api_key_id == key_id;
    if (!own_key && (!owner || !canSeeUser(actor, *owner) ||
                     !(actor.hasRole(Role::kProvinceAdmin) || actor.hasRole(Role::kRegionAdmin)))) {
      return Error::notFound("no such API key", "key_id");
    }
    if (!detail::revokeApiKey(sql, key_id, toEpochMs(clock_.now()))) {
      return Error::conflict("API key is already revoked", "key_id");
    }
    audit::appendAuditEvent(sql, clock_,
                            {actor.auditActor(),
                             "api_key.revoke",
                             "user:" + std::to_string(key->user_id),
                             {{"key_id", key_id}}});
    return {};
  });
}

void grantRoleInTransaction(soci::session& sql, const Clock& clock, const std::string& actor,
                            std::int64_t user_id, const RoleGrant& grant) {
  auto grants = detail::loadGrants(sql, user_id);
  if (std::find(grants.begin(), grants.end(), grant) != grants.end()) return;
  grants.push_back(grant);
  detail::replaceGrants(sql, user_id, grants, toEpochMs(clock.now()));
  audit::appendAuditEvent(
      sql, clock,
      {actor,
       "user.role_grant",
       "user:" + std::to_string(user_id),
       {{"role", std::string(roleName(grant.role))}, {"region", grant.region_code}}});
}

}  // namespace tph::auth
