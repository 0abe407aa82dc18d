#include "events/time_format.h"

#include <gtest/gtest.h>

namespace isucoin::events {
namespace {

constexpr int kTokyo = 9 * 3600;

TEST(TimeFormatTest, FormatsInTheExchangesZoneWithMicroseconds) {
  // 2018-10-16T00:00:00.123456Z
  const Micros t = 1'539'648'000'123'456;
  EXPECT_EQ(FormatTime(t, kTokyo), "2018-10-16T09:00:00.123456+09:00");
  EXPECT_EQ(FormatTime(t - 123'456, kTokyo), "2018-10-16T09:00:00+09:00");
  EXPECT_EQ(FormatTime(t, 0), "2018-10-16T00:00:00.123456+00:00");
  EXPECT_EQ(FormatTime(t, -(5 * 3600 + 30 * 60)), "2018-10-15T18:30:00.123456-05:30");
}

TEST(TimeFormatTest, ParsesWhatItFormatsAndOtherZones) {
  const Micros t = 1'539'648'000'123'456;
  EXPECT_EQ(ParseTime("2018-10-16T09:00:00.123456+09:00").value(), t);
  EXPECT_EQ(ParseTime("2018-10-16T00:00:00.123456Z").value(), t);
  EXPECT_EQ(ParseTime("2018-10-16T00:00:00.123456789Z").value(), t);  // nanoseconds cut
  EXPECT_EQ(ParseTime("2018-10-16T09:00:00+09:00").value(), t - 123'456);
  EXPECT_EQ(ParseTime("2018-10-16T09:00:00.1+09:00").value(), t - 23'456);
}

TEST(TimeFormatTest, RefusesWhatIsNotATime) {
  for (const char* bad : {"", "2018-10-16", "2018-13-16T09:00:00+09:00",
                          "2018-02-30T09:00:00+09:00", "2018-10-16T24:00:00+09:00",
                          "2018-10-16T09:00:00", "2018-10-16T09:00:00+9", "2018-10-16T09:00:00.+09:00",
                          "2018-10-16T09:00:00.1234567890+09:00", "x018-10-16T09:00:00Z"}) {
    auto r = ParseTime(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("time \""), std::string::npos);
    }
  }
  EXPECT_FALSE(ParseUtcOffset("+24:00").ok());
  EXPECT_EQ(ParseUtcOffset("-03:30").value(), -(3 * 3600 + 30 * 60));
}

}  // namespace
}  // namespace isucoin::events
