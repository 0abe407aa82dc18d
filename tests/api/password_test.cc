#include "api/password.h"

#include <gtest/gtest.h>

namespace isucoin::api {
namespace {

TEST(PasswordTest, HashIs2bWithCostAndVerifies) {
  auto h = HashPassword("chair", 4);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->rfind("$2b$04$", 0), 0u) << *h;
  EXPECT_TRUE(VerifyPassword("chair", *h));
  EXPECT_FALSE(VerifyPassword("chairs", *h));
  EXPECT_NE(*HashPassword("chair", 4), *h);  // fresh salt
}

TEST(PasswordTest, VerifiesImportedPrefixes) {
  // Known vector (OpenBSD bcrypt, "U*U"), valid under $2a$ and $2b$; $2y$ is the same algorithm.
  const std::string a = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
  EXPECT_TRUE(VerifyPassword("U*U", a));
  EXPECT_TRUE(VerifyPassword("U*U", "$2b$" + a.substr(4)));
  EXPECT_TRUE(VerifyPassword("U*U", "$2y$" + a.substr(4)));
  EXPECT_FALSE(VerifyPassword("U*V", a));
}

TEST(PasswordTest, MalformedHashNeverMatches) {
  for (const char* bad : {"", "plain", "$2b$", "$1$abc$def", "*0"}) {
    EXPECT_FALSE(VerifyPassword("", bad)) << bad;
    EXPECT_FALSE(VerifyPassword("x", bad)) << bad;
  }
}

}  // namespace
}  // namespace isucoin::api
