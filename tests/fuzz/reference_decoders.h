// Independent, deliberately naive re-implementations of the api's decoders, written from their
// specification (api/README.md "Decisions", RFC 3629, RFC 3986) rather than from api/form.cc,
// so that a fuzz target can compare the two on every input.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace isucoin::fuzz {

// RFC 3629 section 4, as a table of byte ranges per position.
inline bool ReferenceUtf8(std::string_view s) {
  auto in = [](unsigned char c, int lo, int hi) { return c >= lo && c <= hi; };
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    std::size_t left = s.size() - i;
    unsigned char c = b(0);
    if (c <= 0x7F) { i += 1; continue; }
    if (in(c, 0xC2, 0xDF)) {
      if (left < 2 || !in(b(1), 0x80, 0xBF)) return false;
      i += 2; continue;
    }
    if (in(c, 0xE0, 0xEF)) {
      if (left < 3) return false;
      int lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (!in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3; continue;
    }
    if (in(c, 0xF0, 0xF4)) {
      if (left < 4) return false;
      int lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4; continue;
    }
    return false;
  }
  return true;
}

inline int ReferenceHex(char c) {
  const std::string_view digits = "0123456789abcdef";
  char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  auto at = digits.find(lower);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

inline std::optional<std::string> ReferencePercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '%') {
      if (in.size() - i < 3 || ReferenceHex(in[i + 1]) < 0 || ReferenceHex(in[i + 2]) < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(ReferenceHex(in[i + 1]) * 16 + ReferenceHex(in[i + 2]));
      i += 3;
    } else {
      out += (plus_is_space && in[i] == '+') ? ' ' : in[i];
      i += 1;
    }
  }
  return out;
}

// The form rules: pairs split on '&', empty pairs skipped, key up to the first '=', both sides
// percent-decoded ('+' = space) and UTF-8, key not empty, no key twice. nullopt = 400.
inline std::optional<std::map<std::string, std::string>> ReferenceForm(std::string_view body) {
  std::map<std::string, std::string> fields;
  std::string pair;
  auto take = [&]() -> bool {
    if (pair.empty()) return true;
    auto eq = pair.find('=');
    auto key = ReferencePercentDecode(std::string_view(pair).substr(0, eq), true);
    auto value = ReferencePercentDecode(
        eq == std::string::npos ? std::string_view() : std::string_view(pair).substr(eq + 1), true);
    if (!key || !value || !ReferenceUtf8(*key) || !ReferenceUtf8(*value) || key->empty()) {
      return false;
    }
    bool fresh = fields.emplace(*key, *value).second;
    pair.clear();
    return fresh;
  };
  for (char c : body) {
    if (c == '&') {
      if (!take()) return std::nullopt;
    } else {
      pair += c;
    }
  }
  if (!take()) return std::nullopt;
  return fields;
}

// Decimal digits only, then the range; anything longer than 2^63-1 is out.
inline std::optional<std::int64_t> ReferenceInt(std::string_view s, std::int64_t min,
                                                std::int64_t max) {
  if (s.empty()) return std::nullopt;
  std::string digits(s);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto first = digits.find_first_not_of('0');
  std::string significant = first == std::string::npos ? "0" : digits.substr(first);
  const std::string kMax = "9223372036854775807";
  if (significant.size() > kMax.size() ||
      (significant.size() == kMax.size() && significant > kMax)) {
    return std::nullopt;
  }
  std::int64_t v = std::stoll(significant);
  if (v < min || v > max) return std::nullopt;
  return v;
}

// Encodes every byte outside RFC 3986's unreserved set, so that decoding gives it back exactly.
inline std::string PercentEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace isucoin::fuzz
