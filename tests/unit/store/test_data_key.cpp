// The data key a database is sealed under: registered with the database on first use, and a
// different key refused afterwards (changing nothing); clear values from before sealing began are
// sealed in place.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/crypto.h"
#include "store/data_key.h"
#include "test_database.h"

namespace tph::store {
namespace {

namespace fs = std::filesystem;

class DataKeyTest : public ::testing::Test {
 protected:
  DataKeyTest() : dir_(fs::temp_directory_path() / ("tph_dk_" + randomHex(4))) {}
  ~DataKeyTest() override { fs::remove_all(dir_); }

  std::vector<std::string> registered() {
    return t_.db().read([](soci::session& sql) {
      soci::rowset<std::string> rows = (sql.prepare << "SELECT key_id FROM data_keys");
      return std::vector<std::string>(rows.begin(), rows.end());
    });
  }

  testing::TestDatabase t_;
  ManualClock clock_{*parseIso8601("2026-05-01T00:00:00Z")};
  fs::path dir_;
};

TEST_F(DataKeyTest, TheFirstKeyIsRegisteredAndAnotherRefused) {
  auto file = dir_ / "data.key";
  ASSERT_TRUE(attachDataKey(t_.db(), file, clock_).ok());
  auto key_id = store::dataCipher().keyId();
  EXPECT_EQ(registered(), std::vector<std::string>{key_id});
  ASSERT_TRUE(attachDataKey(t_.db(), file, clock_).ok());  // again: the same key
  EXPECT_EQ(store::dataCipher().keyId(), key_id);

  auto other = dir_ / "other.key";
  auto refused = attachDataKey(t_.db(), other, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "data_key");
  EXPECT_NE(refused.error().message.find(key_id), std::string::npos);
  EXPECT_FALSE(fs::exists(other));  // no stray key file made for a database that has one
  EXPECT_EQ(store::dataCipher().keyId(), key_id);
  EXPECT_EQ(registered(), std::vector<std::string>{key_id});

  ASSERT_TRUE(FieldCipher::loadOrCreate(other).ok());
  refused = attachDataKey(t_.db(), other, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("sealed under " + key_id), std::string::npos);
  EXPECT_EQ(store::dataCipher().keyId(), key_id);
}

TEST_F(DataKeyTest, ClearValuesFromBeforeAreSealedInPlace) {
  ASSERT_TRUE(attachDataKey(t_.db(), dir_ / "data.key", clock_).ok());
  const auto& cipher = store::dataCipher();
  auto sealed = t_.db().transaction([&](soci::session& sql) -> Result<std::int64_t> {
    sql << "CREATE TABLE seal_probe (id BIGINT PRIMARY KEY, contact TEXT NOT NULL)";
    sql << "INSERT INTO seal_probe (id, contact) VALUES (1, '0755-1234')";
    sql << "INSERT INTO seal_probe (id, contact) VALUES (2, '')";
    std::string already = cipher.seal("13800138000", "seal_probe.contact");
    sql << "INSERT INTO seal_probe (id, contact) VALUES (3, :c)", soci::use(already);
    return sealPlainColumn(sql, cipher, "seal_probe", "id", "contact");
  });
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*sealed, 1);
  t_.db().read([&](soci::session& sql) {
    std::string one, two, three;
    sql << "SELECT contact FROM seal_probe WHERE id = 1", soci::into(one);
    sql << "SELECT contact FROM seal_probe WHERE id = 2", soci::into(two);
    sql << "SELECT contact FROM seal_probe WHERE id = 3", soci::into(three);
    EXPECT_TRUE(FieldCipher::isSealed(one));
    EXPECT_EQ(cipher.reveal(one, "seal_probe.contact"), "0755-1234");
    EXPECT_EQ(two, "");
    EXPECT_EQ(cipher.reveal(three, "seal_probe.contact"), "13800138000");
  });
  auto again = t_.db().transaction([&](soci::session& sql) -> Result<std::int64_t> {
    return sealPlainColumn(sql, cipher, "seal_probe", "id", "contact");
  });
  EXPECT_EQ(*again, 0);
}

}  // namespace
}  // namespace tph::store
