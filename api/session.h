// The `isucoin_session` cookie: "<user_id>.<expiry_micros>.<hex HMAC-SHA256 of the first two>".
// Signed, not encrypted: it carries nothing secret, and any api node holding the secret can
// check it (DESIGN.md: any node can serve any user). A cookie that fails to parse, has a bad
// MAC or has expired is simply no session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/records.h"

namespace isucoin::api {

inline constexpr const char* kSessionCookie = "isucoin_session";

// Raw 32-byte HMAC-SHA256 (OpenSSL).
std::string HmacSha256(std::string_view key, std::string_view message);
std::string HexEncode(std::string_view bytes);

// The value of cookie `name` in a Cookie header ("a=1; isucoin_session=xyz" -> "xyz"), the
// first one when repeated (browsers send the most specific first); surrounding blanks and one
// pair of double quotes removed. nullopt when absent.
std::optional<std::string> FindCookie(std::string_view header, std::string_view name);

class SessionCodec {
 public:
  explicit SessionCodec(std::string secret) : secret_(std::move(secret)) {}
  std::string Sign(events::Id user_id, events::Micros expires_at) const;
  // The user id when the value is authentic and `now` is before its expiry.
  std::optional<events::Id> Verify(std::string_view value, events::Micros now) const;

 private:
  std::string secret_;
};

}  // namespace isucoin::api
