#include "api/form.h"

#include <gtest/gtest.h>

namespace isucoin::api {
namespace {

TEST(FormTest, DecodesPercentAndPlus) {
  auto f = ParseForm("name=%E6%A4%85+%E5%AD%90&bank_id=a%2Bb&empty=&flag");
  ASSERT_TRUE(f.ok()) << f.error;
  EXPECT_EQ(*f.Find("name"), "椅 子");
  EXPECT_EQ(*f.Find("bank_id"), "a+b");
  EXPECT_EQ(*f.Find("empty"), "");
  EXPECT_EQ(*f.Find("flag"), "");
  EXPECT_EQ(f.Find("missing"), nullptr);
}

TEST(FormTest, SkipsEmptyPairs) {
  auto f = ParseForm("&&a=1&&");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.fields.size(), 1u);
}

TEST(FormTest, RejectsMalformed) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%G1=2", "a=1&a=2", "=1", "a=%FF",
                          "a=%C0%80", "a=%ED%A0%80"}) {
    EXPECT_FALSE(ParseForm(bad).ok()) << bad;
  }
}

TEST(FormTest, PercentDecodeKeepsPlusInPaths) {
  EXPECT_EQ(*PercentDecode("/a+b%20c", false), "/a+b c");
  EXPECT_FALSE(PercentDecode("%", false).has_value());
}

TEST(ParseIntTest, AcceptsOnlyDecimalInRange) {
  EXPECT_EQ(ParseInt("42", 1, 100), 42);
  EXPECT_EQ(ParseInt("007", 1, 100), 7);
  EXPECT_EQ(ParseInt("9223372036854775807", 0, INT64_MAX), INT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "1.0", "abc",
                          "9223372036854775808", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseInt(bad, 0, INT64_MAX).has_value()) << bad;
  }
  EXPECT_FALSE(ParseInt("0", 1, 100).has_value());
  EXPECT_FALSE(ParseInt("101", 1, 100).has_value());
}

}  // namespace
}  // namespace isucoin::api
