// application/x-www-form-urlencoded bodies and query strings (Pistache 0.0.5 parses neither
// safely: no form parser, and its query parameters are left percent-encoded).
//
// Decisions (api/README.md): `+` is a space; a `%` not followed by two hex digits is an error;
// a key given twice is an error (which one a client meant is a guess, and guessing differently
// from a proxy or a WAF is how requests get smuggled past checks); empty pairs (`a=1&&b=2`) are
// skipped; a key without `=` has the empty value; decoded keys and values must be valid UTF-8
// (they end up in JSON, which cannot carry anything else).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace isucoin::api {

struct FormResult {
  std::map<std::string, std::string> fields;
  std::string error;  // empty when the input parsed
  bool ok() const { return error.empty(); }
  // nullptr when absent.
  const std::string* Find(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }
};

FormResult ParseForm(std::string_view body);

// Percent-decodes one component; nullopt on a bad escape. `plus_is_space` for form encoding.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

bool IsValidUtf8(std::string_view s);

// A decimal integer in [min, max]: digits only (no sign, no spaces, no exponent), at most
// 2^63-1 before the range check. nullopt otherwise.
std::optional<std::int64_t> ParseInt(std::string_view s, std::int64_t min, std::int64_t max);

}  // namespace isucoin::api
