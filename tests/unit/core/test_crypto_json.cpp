#include <gtest/gtest.h>

#include "core/canonical_json.h"
#include "core/crypto.h"

namespace tph {
namespace {

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HexRoundTripsAndRejectsJunk) {
  EXPECT_EQ(toHex("\x01\xab"), "01ab");
  EXPECT_EQ(fromHex("01ab"), std::string("\x01\xab"));
  EXPECT_FALSE(fromHex("0"));
  EXPECT_FALSE(fromHex("zz"));
  EXPECT_EQ(randomHex(32).size(), 64u);
  EXPECT_NE(randomHex(16), randomHex(16));
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
}

TEST(CanonicalJson, SortsKeysAndDropsWhitespace) {
  auto v = nlohmann::json::parse(R"({ "b": 1, "a": {"z": [1, 2], "y": "碳"}, "A": null })");
  EXPECT_EQ(canonicalJson(v), R"({"A":null,"a":{"y":"碳","z":[1,2]},"b":1})");
}

TEST(CanonicalJson, RefusesInvalidUtf8) {
  nlohmann::json v = std::string("\xff\xfe");
  EXPECT_THROW(canonicalJson(v), nlohmann::json::type_error);
}

}  // namespace
}  // namespace tph
