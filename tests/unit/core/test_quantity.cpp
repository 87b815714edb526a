#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/quantity.h"
#include "core/region_code.h"
#include "core/result.h"

namespace tph {
namespace {

TEST(Quantity, AddsSubtractsAndCompares) {
  Grams a(1500), b(250);
  EXPECT_EQ((a + b).value(), 1750);
  EXPECT_EQ((a - b).value(), 1250);
  EXPECT_EQ((b * 4).value(), 1000);
  EXPECT_LT(b, a);
  a += Grams(1);
  EXPECT_EQ(a, Grams(1501));
  EXPECT_EQ(Points(7).toString(), "7 pt");
}

TEST(Quantity, OverflowIsAnErrorNotAWrap) {
  Fen max(std::numeric_limits<std::int64_t>::max());
  EXPECT_THROW(max + Fen(1), QuantityOverflow);
  Fen min(std::numeric_limits<std::int64_t>::min());
  EXPECT_THROW(min - Fen(1), QuantityOverflow);
  EXPECT_THROW(-min, QuantityOverflow);
  EXPECT_THROW(Units(std::numeric_limits<std::int64_t>::max() / 2 + 1) * 2, QuantityOverflow);
}

TEST(Quantity, RoundsHalfToEvenOnce) {
  EXPECT_EQ(roundHalfEvenToGrams(0.5).value(), 0);
  EXPECT_EQ(roundHalfEvenToGrams(1.5).value(), 2);
  EXPECT_EQ(roundHalfEvenToGrams(2.5).value(), 2);
  EXPECT_EQ(roundHalfEvenToGrams(-2.5).value(), -2);
  EXPECT_EQ(roundHalfEvenToGrams(467.0000001).value(), 467);
  EXPECT_EQ(roundHalfEvenToGrams(93.4 * 5).value(), 467);
  EXPECT_THROW(roundHalfEvenToGrams(std::numeric_limits<double>::infinity()), QuantityOverflow);
  EXPECT_THROW(roundHalfEvenToGrams(std::nan("")), QuantityOverflow);
  EXPECT_THROW(roundHalfEvenToGrams(1e19), QuantityOverflow);
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Error::invalid("password", "too short");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "password");
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_THROW(bad.value(), BadResultAccess);
  EXPECT_STREQ(toString(ErrorCode::kNotFound), "not_found");
  Status done;
  EXPECT_TRUE(done.ok());
}

Status failsThrough() {
  TPH_TRY(Status(Error::conflict("taken", "username")));
  return {};
}

TEST(Result, TryPropagatesTheError) {
  auto s = failsThrough();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "username");
}

TEST(RegionCode, PrefixesAndAncestors) {
  EXPECT_EQ(regionPrefix("440000"), "44");
  EXPECT_EQ(regionPrefix("440300"), "4403");
  EXPECT_EQ(regionPrefix("440305"), "440305");
  EXPECT_EQ(regionPrefix("abc"), "abc");
  EXPECT_EQ(regionAndAncestors("440305"), (std::vector<std::string>{"440000", "440300", "440305"}));
  EXPECT_EQ(regionAndAncestors("440300"), (std::vector<std::string>{"440000", "440300"}));
  EXPECT_EQ(regionAndAncestors("440000"), std::vector<std::string>{"440000"});
  EXPECT_TRUE(regionAndAncestors("4403").empty());
}

TEST(RegionCode, CoversDescendantsOnly) {
  EXPECT_TRUE(isRegionCode("440300"));
  EXPECT_FALSE(isRegionCode("44030"));
  EXPECT_FALSE(isRegionCode("44030x"));
  EXPECT_EQ(regionLevel("440000"), RegionLevel::kProvince);
  EXPECT_EQ(regionLevel("440300"), RegionLevel::kCity);
  EXPECT_EQ(regionLevel("440305"), RegionLevel::kCounty);
  EXPECT_TRUE(regionCovers("440000", "440305"));
  EXPECT_TRUE(regionCovers("440300", "440305"));
  EXPECT_TRUE(regionCovers("440300", "440300"));
  EXPECT_FALSE(regionCovers("440300", "440100"));
  EXPECT_FALSE(regionCovers("440300", "440000"));
  EXPECT_FALSE(regionCovers("440305", "440306"));
  EXPECT_FALSE(regionCovers("450000", "440300"));
}

}  // namespace
}  // namespace tph
