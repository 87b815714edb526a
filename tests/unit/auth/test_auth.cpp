#include <gtest/gtest.h>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "core/crypto.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::auth {
namespace {

using namespace std::chrono_literals;
using testing::TestDatabase;

constexpr const char* kPassword = "green-travel-42";

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() : clock_(testing::testEpoch()), auth_(t_.db(), clock_, options()) {
    region::RegionService regions(t_.db(), clock_);
    auto loaded = regions.load({{"440000", "", "province", "广东省", "Guangdong"},
                                {"440100", "440000", "city", "广州市", "Guangzhou"},
                                {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                               "test");
    EXPECT_TRUE(loaded.ok());
  }

  static AuthOptions options() {
    AuthOptions o;
    o.password_cost = PasswordCost::kMinimum;
    return o;
  }

  User makeUser(const std::string& name, std::vector<RoleGrant> grants) {
    auto user = auth_.createUserAsSystem("test", {name, kPassword, name, std::move(grants)}, false);
    EXPECT_TRUE(user.ok()) << user.error().message;
    return *user;
  }

  Principal principal(const User& user) {
    return Principal{user.id, user.username, user.display_name, user.grants, {}};
  }

  ApiKey providerKey() {
    auto admin = makeUser("prov_admin", {{Role::kProvinceAdmin, "440000"}});
    auto provider = makeUser("metro_feed", {{Role::kProvider, "440300"}});
    auto key = auth_.createApiKey(principal(admin), provider.id, "metro");
    EXPECT_TRUE(key.ok()) << key.error().message;
    return *key;
  }

  SignedRequest sign(const ApiKey& key, const std::string& body, std::int64_t ts_offset_s = 0,
                     std::string nonce = "") {
    SignedRequest r;
    r.method = "POST";
    r.target = "/api/v1/ingest/batches";
    r.key_id = key.key_id;
    r.timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count() +
        ts_offset_s);
    r.nonce = nonce.empty() ? randomHex(12) : nonce;
    r.body = body;
    r.signature =
        hmacSha256Hex(key.secret, signingString(r.method, r.target, r.timestamp, r.nonce, body));
    return r;
  }

  TestDatabase t_;
  ManualClock clock_;
  AuthService auth_;
};

TEST_F(AuthTest, RegisterGivesOnlyTheResidentRoleAndIsAudited) {
  auto user =
      auth_.registerResident({"xiaolv", kPassword, "小绿", {{Role::kProvinceAdmin, "440000"}}});
  ASSERT_TRUE(user.ok()) << user.error().message;
  ASSERT_EQ(user->grants.size(), 1u);
  EXPECT_EQ(user->grants[0].role, Role::kResident);
  auto report = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.events_checked, 2);  // the region load, then the registration
}

TEST_F(AuthTest, RegisterRefusesTakenNamesAndWeakPasswordsNamingTheField) {
  ASSERT_TRUE(auth_.registerResident({"xiaolv", kPassword, "a", {}}).ok());
  auto taken = auth_.registerResident({"xiaolv", kPassword, "b", {}});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  EXPECT_EQ(taken.error().field, "username");
  auto weak = auth_.registerResident({"other", "short1", "b", {}});
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().field, "password");
  auto letters = auth_.registerResident({"other", "onlyletterspassword", "b", {}});
  EXPECT_EQ(letters.error().field, "password");
  auto bad_name = auth_.registerResident({"Bad Name", kPassword, "b", {}});
  EXPECT_EQ(bad_name.error().field, "username");
}

TEST_F(AuthTest, LoginIssuesATokenThatExpiresAndDiesAtLogout) {
  makeUser("alice", {{Role::kResident, ""}});
  auto login = auth_.login("alice", kPassword, "127.0.0.1");
  ASSERT_TRUE(login.ok()) << login.error().message;
  EXPECT_EQ(login->token.size(), 64u);
  auto me = auth_.authenticateToken(login->token);
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->username, "alice");

  clock_.advance(options().session_ttl + 1s);
  EXPECT_EQ(auth_.authenticateToken(login->token).error().code, ErrorCode::kUnauthenticated);

  auto second = auth_.login("alice", kPassword, "127.0.0.1");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(auth_.logout(second->token).ok());
  EXPECT_FALSE(auth_.authenticateToken(second->token).ok());
  EXPECT_FALSE(auth_.logout(second->token).ok());
}

TEST_F(AuthTest, ARevocationByAnotherProcessTakesEffectWithinTheCacheTtl) {
  makeUser("alice", {{Role::kResident, ""}});
  auto login = auth_.login("alice", kPassword, "127.0.0.1");
  ASSERT_TRUE(auth_.authenticateToken(login->token).ok());
  t_.exec("UPDATE sessions SET revoked_at_ms = 1");  // as another node's logout would
  clock_.advance(options().session_cache_ttl + 1ms);
  EXPECT_EQ(auth_.authenticateToken(login->token).error().code, ErrorCode::kUnauthenticated);
}

TEST_F(AuthTest, TokensAreStoredOnlyAsHashes) {
  makeUser("alice", {{Role::kResident, ""}});
  auto login = auth_.login("alice", kPassword, "127.0.0.1");
  ASSERT_TRUE(login.ok());
  auto stored = t_.db().read([](soci::session& sql) {
    std::string h;
    sql << "SELECT token_hash FROM sessions", soci::into(h);
    return h;
  });
  EXPECT_EQ(stored, sha256Hex(login->token));
}

TEST_F(AuthTest, FailedLoginsAreThrottledPerUsernameUntilTheWindowPasses) {
  makeUser("alice", {{Role::kResident, ""}});
  for (int i = 0; i < options().max_failures_per_username; ++i) {
    auto r = auth_.login("alice", "wrong-password-1", "10.0.0." + std::to_string(i));
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  }
  auto blocked = auth_.login("alice", kPassword, "10.0.0.99");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kRateLimited);
  clock_.advance(options().login_throttle_window + 1s);
  EXPECT_TRUE(auth_.login("alice", kPassword, "10.0.0.99").ok());
}

TEST_F(AuthTest, FailedLoginsAreThrottledPerAddress) {
  makeUser("alice", {{Role::kResident, ""}});
  for (int i = 0; i < options().max_failures_per_address; ++i) {
    (void)auth_.login("nobody" + std::to_string(i), "wrong-password-1", "10.9.9.9");
  }
  auto blocked = auth_.login("alice", kPassword, "10.9.9.9");
  EXPECT_EQ(blocked.error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(auth_.login("alice", kPassword, "10.9.9.10").ok());
}

TEST_F(AuthTest, AdminsCreateUsersOnlyWithinTheirReach) {
  auto province = principal(makeUser("gd_admin", {{Role::kProvinceAdmin, "440000"}}));
  auto shenzhen = principal(makeUser("sz_admin", {{Role::kRegionAdmin, "440300"}}));
  auto resident = principal(makeUser("alice", {{Role::kResident, ""}}));

  EXPECT_TRUE(
      auth_.createUser(province, {"gz_admin", kPassword, "GZ", {{Role::kRegionAdmin, "440100"}}})
          .ok());
  EXPECT_TRUE(
      auth_.createUser(shenzhen, {"sz_merchant", kPassword, "M", {{Role::kMerchant, "440300"}}})
          .ok());

  auto outside =
      auth_.createUser(shenzhen, {"gz_merchant", kPassword, "M", {{Role::kMerchant, "440100"}}});
  EXPECT_EQ(outside.error().code, ErrorCode::kForbidden);
  auto escalate =
      auth_.createUser(shenzhen, {"boss", kPassword, "B", {{Role::kProvinceAdmin, "440000"}}});
  EXPECT_EQ(escalate.error().code, ErrorCode::kForbidden);
  auto not_admin = auth_.createUser(resident, {"x_user", kPassword, "X", {{Role::kResident, ""}}});
  EXPECT_EQ(not_admin.error().code, ErrorCode::kForbidden);
  auto unknown_region =
      auth_.createUser(province, {"y_user", kPassword, "Y", {{Role::kRegionAdmin, "449900"}}});
  EXPECT_EQ(unknown_region.error().field, "roles");
  auto no_region =
      auth_.createUser(province, {"z_user", kPassword, "Z", {{Role::kRegionAdmin, ""}}});
  EXPECT_EQ(no_region.error().field, "roles");
}

TEST_F(AuthTest, RegionAdminsListOnlyTheirRegionsUsers) {
  auto province = principal(makeUser("gd_admin", {{Role::kProvinceAdmin, "440000"}}));
  auto shenzhen = principal(makeUser("sz_admin", {{Role::kRegionAdmin, "440300"}}));
  makeUser("sz_shop", {{Role::kMerchant, "440300"}});
  makeUser("gz_shop", {{Role::kMerchant, "440100"}});
  auto mine = auth_.listUsers(shenzhen, {.role = Role::kMerchant});
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].username, "sz_shop");
  auto all = auth_.listUsers(province, {.role = Role::kMerchant});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto gz_user = auth_.listUsers(province, {.text = "gz_"});
  ASSERT_EQ(gz_user->size(), 1u);
  EXPECT_FALSE(auth_.getUser(shenzhen, (*gz_user)[0].id).ok());
}

TEST_F(AuthTest, SignedRequestsAreAcceptedOnceAndOnlyWhenIntact) {
  auto key = providerKey();
  auto good = sign(key, R"([{"id":1}])");
  auto principal = auth_.authenticateSigned(good);
  ASSERT_TRUE(principal.ok()) << principal.error().message;
  EXPECT_EQ(principal->username, "metro_feed");
  EXPECT_EQ(principal->api_key_id, key.key_id);

  auto replay = auth_.authenticateSigned(good);
  ASSERT_FALSE(replay.ok());
  EXPECT_NE(replay.error().message.find("nonce"), std::string::npos);

  auto tampered = sign(key, R"([{"id":1}])");
  tampered.body = R"([{"id":2}])";
  EXPECT_NE(auth_.authenticateSigned(tampered).error().message.find("signature"),
            std::string::npos);

  auto stale = sign(key, "{}", -301);
  EXPECT_NE(auth_.authenticateSigned(stale).error().message.find("X-Tph-Timestamp"),
            std::string::npos);
  EXPECT_TRUE(auth_.authenticateSigned(sign(key, "{}", -299)).ok());

  auto wrong_key = sign(key, "{}");
  wrong_key.key_id = "tk_unknown";
  EXPECT_FALSE(auth_.authenticateSigned(wrong_key).ok());
}

TEST_F(AuthTest, RevokedKeysStopWorking) {
  auto key = providerKey();
  auto admin = auth_.login("prov_admin", kPassword, "127.0.0.1");
  ASSERT_TRUE(admin.ok());
  auto who = auth_.authenticateToken(admin->token);
  ASSERT_TRUE(auth_.revokeApiKey(*who, key.key_id).ok());
  EXPECT_FALSE(auth_.authenticateSigned(sign(key, "{}")).ok());
  EXPECT_EQ(auth_.revokeApiKey(*who, key.key_id).error().code, ErrorCode::kConflict);
}

TEST_F(AuthTest, ApiKeysAreOnlyForProviders) {
  auto admin = principal(makeUser("gd_admin", {{Role::kProvinceAdmin, "440000"}}));
  auto resident = makeUser("alice", {{Role::kResident, ""}});
  auto key = auth_.createApiKey(admin, resident.id, "");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().field, "user_id");
}

TEST_F(AuthTest, PasswordsAreArgon2idHashes) {
  auto hash = hashPassword(kPassword, PasswordCost::kMinimum);
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verifyPassword(kPassword, hash));
  EXPECT_FALSE(verifyPassword("green-travel-43", hash));
}

}  // namespace
}  // namespace tph::auth
