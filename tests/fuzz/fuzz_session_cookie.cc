// Fuzz target: the session cookie, from the Cookie header to a user id — FindCookie (the
// header) and SessionCodec::Verify (the signed value), api/session.h. The input is split at its
// first newline: before it a Cookie header, after it a cookie value. Properties:
//   - FindCookie returns a piece of the header without ';', and finds a pair appended after
//     a header that does not name the cookie;
//   - a raw value never verifies (forging needs the secret; the fuzzer does not have it);
//   - the value signed with the secret verifies exactly when it is "<user>.<expiry>" with a
//     user id 1..2^63-1 and an expiry 0..2^63-1 after `now` (reference decoder), giving that
//     user; with any byte of its MAC changed, or at its expiry, it does not.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "api/session.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reference_decoders.h"

using namespace isucoin;

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789";
constexpr std::int64_t kNow = 1'700'000'000'000'000;  // µs, late 2023
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

void CheckHeader(std::string_view header) {
  auto value = api::FindCookie(header, api::kSessionCookie);
  if (value) {
    FUZZ_CHECK(value->find(';') == std::string::npos);
    FUZZ_CHECK(header.find(*value) != std::string_view::npos);
    FUZZ_CHECK(header.find(api::kSessionCookie) != std::string_view::npos);
  }
  if (header.find(api::kSessionCookie) != std::string_view::npos) return;
  // A token of cookie-octets (RFC 6265), made from the header's own bytes.
  std::string token;
  for (char c : header) {
    if (c > 0x20 && c < 0x7f && c != ';' && c != '"' && c != ',' && c != '\\') token += c;
  }
  std::string extended = std::string(header) + "; " + api::kSessionCookie + "=" + token;
  FUZZ_CHECK(api::FindCookie(extended, api::kSessionCookie) == token);
}

// What Verify must answer for the signed form of `payload`.
std::optional<events::Id> Expected(std::string_view payload) {
  auto dot = payload.find('.');
  if (dot == std::string_view::npos || payload.find('.', dot + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto user = fuzz::ReferenceInt(payload.substr(0, dot), 1, kMax);
  auto expiry = fuzz::ReferenceInt(payload.substr(dot + 1), 0, kMax);
  if (!user || !expiry || kNow >= *expiry) return std::nullopt;
  return user;
}

void CheckValue(std::string_view raw) {
  const api::SessionCodec codec{std::string(kSecret)};
  // The raw bytes as a cookie: the fuzzer cannot know the MAC, so nothing may verify unless
  // the input happens to carry the right one (only a committed corpus file could).
  if (auto forged = codec.Verify(raw, kNow)) {
    auto dot2 = raw.find('.', raw.find('.') + 1);
    FUZZ_CHECK(raw.substr(dot2 + 1) ==
               api::HexEncode(api::HmacSha256(kSecret, raw.substr(0, dot2))));
  }
  // The raw bytes as the signed payload.
  std::string signed_value = std::string(raw) + "." + api::HexEncode(api::HmacSha256(kSecret, raw));
  auto user = codec.Verify(signed_value, kNow);
  FUZZ_CHECK(user == Expected(raw));
  if (!user) return;
  for (std::size_t i = raw.size() + 1; i < signed_value.size(); ++i) {
    std::string tampered = signed_value;
    tampered[i] = tampered[i] == '0' ? '1' : '0';
    FUZZ_CHECK(!codec.Verify(tampered, kNow));
  }
  FUZZ_CHECK(!api::SessionCodec("another-secret").Verify(signed_value, kNow));
  // Sign/Verify round trip for the same user; expired at its expiry.
  auto expiry = fuzz::ReferenceInt(raw.substr(raw.find('.') + 1), 0, kMax);
  FUZZ_CHECK(codec.Verify(codec.Sign(*user, *expiry), kNow) == user);
  FUZZ_CHECK(!codec.Verify(codec.Sign(*user, *expiry), *expiry));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  CheckHeader(input.substr(0, nl));
  CheckValue(nl == std::string_view::npos ? input : input.substr(nl + 1));
  return 0;
}
