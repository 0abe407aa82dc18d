#include "api/session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>

#include "api/form.h"

namespace isucoin::api {

std::string HmacSha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string HexEncode(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

namespace {
std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::string> FindCookie(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto semi = header.find(';', pos);
    if (semi == std::string_view::npos) semi = header.size();
    auto pair = TrimBlanks(header.substr(pos, semi - pos));
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && TrimBlanks(pair.substr(0, eq)) == name) {
      auto value = TrimBlanks(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
    pos = semi + 1;
  }
  return std::nullopt;
}

std::string SessionCodec::Sign(events::Id user_id, events::Micros expires_at) const {
  std::string payload = std::to_string(user_id) + "." + std::to_string(expires_at);
  return payload + "." + HexEncode(HmacSha256(secret_, payload));
}

std::optional<events::Id> SessionCodec::Verify(std::string_view value,
                                               events::Micros now) const {
  auto dot1 = value.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  auto dot2 = value.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  std::string_view payload = value.substr(0, dot2);
  std::string_view mac = value.substr(dot2 + 1);
  std::string expected = HexEncode(HmacSha256(secret_, payload));
  // Constant time: a timing difference would let a forger learn the MAC byte by byte.
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  auto user = ParseInt(value.substr(0, dot1), 1, kMax);
  auto expiry = ParseInt(value.substr(dot1 + 1, dot2 - dot1 - 1), 0, kMax);
  if (!user || !expiry || now >= *expiry) return std::nullopt;
  return *user;
}

}  // namespace isucoin::api
