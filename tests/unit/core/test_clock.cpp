#include <gtest/gtest.h>

#include "core/clock.h"

namespace tph {
namespace {

using namespace std::chrono;

TEST(Clock, FormatsAndParsesIso8601) {
  auto t = parseIso8601("2026-03-01T08:00:00.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatIso8601(*t), "2026-03-01T08:00:00.250Z");
  auto offset = parseIso8601("2026-03-01T16:00:00+08:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(formatIso8601(*offset), "2026-03-01T08:00:00.000Z");
  EXPECT_FALSE(parseIso8601("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parseIso8601("2026-03-01T08:00:00"));
  EXPECT_FALSE(parseIso8601("2026-03-01T25:00:00Z"));
  EXPECT_FALSE(parseIso8601("yesterday"));
  EXPECT_FALSE(parseIso8601("2026-03-01T08:00:00Zjunk"));
}

TEST(Clock, ShanghaiDayStartIsTheInverseOfShanghaiDay) {
  auto start = shanghaiDayStart("2026-03-02");
  ASSERT_TRUE(start);
  EXPECT_EQ(*start, *parseIso8601("2026-03-01T16:00:00Z"));
  EXPECT_EQ(shanghaiDay(*start), "2026-03-02");
  EXPECT_FALSE(shanghaiDayStart("2026-3-2"));
  EXPECT_FALSE(shanghaiDayStart("2026-02-30"));
  EXPECT_FALSE(shanghaiDayStart("yesterday"));
}

TEST(Clock, ShanghaiDayIsUtcPlusEight) {
  EXPECT_EQ(shanghaiDay(*parseIso8601("2026-03-01T15:59:59Z")), "2026-03-01");
  EXPECT_EQ(shanghaiDay(*parseIso8601("2026-03-01T16:00:00Z")), "2026-03-02");
}

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(*parseIso8601("2026-01-01T00:00:00Z"));
  auto before = clock.now();
  clock.advance(minutes(5));
  EXPECT_EQ(clock.now() - before, minutes(5));
  EXPECT_EQ(fromEpochMs(toEpochMs(before)), before);
}

}  // namespace
}  // namespace tph
