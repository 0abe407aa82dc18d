// The properties both record-codec fuzz targets check (commands log and events log):
//   1. strict decode, encode, decode again gives an equal value, and the encoding is a fixed
//      point (encode(decode(encode(v))) == encode(v)): what the matcher wrote is read back as
//      written, on every replay;
//   2. the fast decoder agrees with the strict codec on every input: accept/reject, the value,
//      and the error message (fast_decode.h promises "the result is always the codec's own");
//   3. the fast path, when it takes an input itself, decodes what the codec decodes;
//   4. the fast path does take the canonical encoding of its frequent types when every string
//      is plain ASCII and every integer has at most 18 digits — otherwise it is silently slow.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "events/codec.h"
#include "events/fast_decode.h"
#include "tests/fuzz/fuzz_check.h"

namespace isucoin::fuzz {

// Every string plain printable ASCII without escapes, every integer within 18 digits: the
// shapes fast_decode.cc's Cursor reads.
inline bool PlainForFastPath(const nlohmann::json& j) {
  if (j.is_string()) {
    for (unsigned char c : j.get_ref<const std::string&>()) {
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
    }
    return true;
  }
  if (j.is_number_unsigned()) return j.get<std::uint64_t>() <= 999'999'999'999'999'999ull;
  if (j.is_number_integer()) {
    auto v = j.get<std::int64_t>();
    return v >= -999'999'999'999'999'999ll && v <= 999'999'999'999'999'999ll;
  }
  if (j.is_array() || j.is_object()) {
    for (const auto& item : j) {
      if (!PlainForFastPath(item)) return false;
    }
  }
  return true;
}

// `Codec` provides: using Record; Decode(payload); Encode(record); DecodeFast(payload);
// TryFast(payload, out); TypeName(record); and kFastTypes (a set of type names) plus
// FastTakes(record) for the type-specific exceptions the fast path leaves to the codec.
template <typename Codec>
void CheckCodec(std::string_view payload) {
  auto strict = Codec::Decode(payload);
  auto fast = Codec::DecodeFast(payload);
  FUZZ_CHECK(strict.ok() == fast.ok());
  if (!strict.ok()) {
    FUZZ_CHECK(strict.status().message() == fast.status().message());
  } else {
    FUZZ_CHECK(strict.value() == fast.value());
  }
  typename Codec::Record taken;
  if (Codec::TryFast(payload, taken)) {
    FUZZ_CHECK(strict.ok());
    FUZZ_CHECK(taken == strict.value());
  }
  if (!strict.ok()) return;

  const auto& record = strict.value();
  std::string encoded = Codec::Encode(record);
  auto again = Codec::Decode(encoded);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value() == record);
  FUZZ_CHECK(Codec::Encode(again.value()) == encoded);

  // The canonical encoding of a frequent type must take the fast path.
  if (Codec::kFastTypes.contains(Codec::TypeName(record)) && Codec::FastTakes(record) &&
      PlainForFastPath(nlohmann::json::parse(encoded))) {
    typename Codec::Record canonical;
    FUZZ_CHECK(Codec::TryFast(encoded, canonical));
    FUZZ_CHECK(canonical == record);
  }
}

}  // namespace isucoin::fuzz
