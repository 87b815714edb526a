// Sealed personal values: they open only under their key and for their column, an altered one
// does not open, values kept from before sealing pass through, and the key file is private.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/field_cipher.h"

namespace tph {
namespace {

TEST(FieldCipherTest, SealsAndOpensForTheSameColumnOnly) {
  auto cipher = FieldCipher::generate();
  auto sealed = cipher.seal("13800138000", "content_ideas.contact");
  EXPECT_TRUE(FieldCipher::isSealed(sealed));
  EXPECT_EQ(sealed.find("13800138000"), std::string::npos);
  EXPECT_EQ(FieldCipher::keyIdOf(sealed), cipher.keyId());
  EXPECT_EQ(*cipher.open(sealed, "content_ideas.contact"), "13800138000");
  // A fresh nonce each time: equal contacts do not look equal at rest.
  EXPECT_NE(cipher.seal("13800138000", "content_ideas.contact"), sealed);

  auto moved = cipher.open(sealed, "merchants.contact");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().field, "merchants.contact");
  EXPECT_THROW(cipher.reveal(sealed, "merchants.contact"), std::runtime_error);
}

TEST(FieldCipherTest, AlteredOrForeignValuesDoNotOpen) {
  auto cipher = FieldCipher::generate();
  auto sealed = cipher.seal("alice@example.cn", "methodology_proposals.contact");
  std::string altered = sealed;
  altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cipher.open(altered, "methodology_proposals.contact").ok());
  EXPECT_FALSE(cipher.open("sealed:1:" + cipher.keyId() + ":%%%", "x").ok());

  auto other = FieldCipher::generate();
  auto foreign = other.open(sealed, "methodology_proposals.contact");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find(cipher.keyId()), std::string::npos);
}

TEST(FieldCipherTest, EmptyStaysEmptyAndClearTextFromBeforePassesThrough) {
  auto cipher = FieldCipher::generate();
  EXPECT_EQ(cipher.seal("", "merchants.contact"), "");
  EXPECT_EQ(*cipher.open("", "merchants.contact"), "");
  EXPECT_EQ(*cipher.open("0755-1234", "merchants.contact"), "0755-1234");
  EXPECT_FALSE(FieldCipher::isSealed("0755-1234"));
}

TEST(FieldCipherTest, FingerprintsAreKeyedAndPerColumn) {
  auto cipher = FieldCipher::generate();
  auto a = cipher.fingerprint("203.0.113.7", "content_ideas.client_address");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, cipher.fingerprint("203.0.113.7", "content_ideas.client_address"));
  EXPECT_NE(a, cipher.fingerprint("203.0.113.8", "content_ideas.client_address"));
  EXPECT_NE(a, cipher.fingerprint("203.0.113.7", "other.column"));
  EXPECT_NE(a, FieldCipher::generate().fingerprint("203.0.113.7", "content_ideas.client_address"));
}

TEST(FieldCipherTest, KeyFileIsCreatedPrivateAndLoadsTheSameKey) {
  auto dir = std::filesystem::temp_directory_path() / ("tph_key_" + randomHex(4));
  auto file = dir / "var" / "data.key";
  EXPECT_FALSE(FieldCipher::load(file).ok());
  auto created = FieldCipher::loadOrCreate(file);
  ASSERT_TRUE(created.ok()) << created.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto loaded = FieldCipher::load(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->keyId(), created->keyId());
  EXPECT_EQ(*loaded->open(created->seal("x", "c"), "c"), "x");
  std::ofstream(file, std::ios::trunc) << "not-a-key\n";
  auto broken = FieldCipher::load(file);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().field, "data_key");
  std::filesystem::remove_all(dir);
}

TEST(FieldCipherTest, ProcessesStartingTogetherAgreeOnOneKey) {
  auto dir = std::filesystem::temp_directory_path() / ("tph_key_" + randomHex(4));
  auto file = dir / "data.key";
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto key = FieldCipher::loadOrCreate(file);
      ids[i] = key.ok() ? key->keyId() : key.error().message;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no staging left
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tph
