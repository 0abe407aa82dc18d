#include "api/session.h"

#include <gtest/gtest.h>

namespace isucoin::api {
namespace {

TEST(HmacTest, Rfc4231Vectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: key = 20 bytes of 0x0b.
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(SessionTest, SignVerifyRoundTrip) {
  SessionCodec codec("secret");
  auto v = codec.Sign(42, 1000);
  EXPECT_EQ(codec.Verify(v, 999), 42);
  EXPECT_EQ(codec.Verify(v, 1000), std::nullopt);  // expired
}

TEST(SessionTest, TamperedOrForgedIsSignedOut) {
  SessionCodec codec("secret");
  std::string v = codec.Sign(42, 1000);
  std::string other_user = "43" + v.substr(2);
  EXPECT_EQ(codec.Verify(other_user, 0), std::nullopt);
  std::string flipped = v;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(codec.Verify(flipped, 0), std::nullopt);
  EXPECT_EQ(SessionCodec("other").Verify(v, 0), std::nullopt);
  for (const char* junk : {"", ".", "..", "42", "42.1000", "42.1000.", "a.b.c", "-1.5.x"}) {
    EXPECT_EQ(codec.Verify(junk, 0), std::nullopt) << junk;
  }
}

}  // namespace
}  // namespace isucoin::api
