// Fuzz target: application/x-www-form-urlencoded bodies (api/form.h), the parser every POST
// route runs on untrusted bytes. Properties, beyond not crashing:
//   - ParseForm, PercentDecode, IsValidUtf8 and ParseInt agree with naive reference decoders
//     written from the rules (reference_decoders.h): same accept/reject, same values;
//   - an accepted form has non-empty UTF-8 keys and UTF-8 values (they go into JSON records),
//     and re-encoding its fields canonically parses back to the same fields;
//   - empty pairs do not matter: "&" + body + "&" parses like body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/form.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reference_decoders.h"

using namespace isucoin;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  FUZZ_CHECK(api::IsValidUtf8(body) == fuzz::ReferenceUtf8(body));
  for (bool plus : {true, false}) {
    FUZZ_CHECK(api::PercentDecode(body, plus) == fuzz::ReferencePercentDecode(body, plus));
  }
  // The ranges the routes use: amount/price, cursor, order ids.
  FUZZ_CHECK(api::ParseInt(body, 1, 1'000'000'000) == fuzz::ReferenceInt(body, 1, 1'000'000'000));
  FUZZ_CHECK(api::ParseInt(body, 0, INT64_MAX) == fuzz::ReferenceInt(body, 0, INT64_MAX));

  api::FormResult form = api::ParseForm(body);
  auto reference = fuzz::ReferenceForm(body);
  FUZZ_CHECK(form.ok() == reference.has_value());
  if (!form.ok()) return 0;
  FUZZ_CHECK(form.fields == *reference);

  std::string canonical;
  for (const auto& [key, value] : form.fields) {
    FUZZ_CHECK(!key.empty());
    FUZZ_CHECK(fuzz::ReferenceUtf8(key) && fuzz::ReferenceUtf8(value));
    // What the routes do with a field: put it in a JSON record. Must not throw.
    FUZZ_CHECK(!nlohmann::json(value).dump().empty());
    if (!canonical.empty()) canonical += '&';
    canonical += fuzz::PercentEncode(key) + "=" + fuzz::PercentEncode(value);
  }
  api::FormResult again = api::ParseForm(canonical);
  FUZZ_CHECK(again.ok() && again.fields == form.fields);

  api::FormResult padded = api::ParseForm("&" + std::string(body) + "&");
  FUZZ_CHECK(padded.ok() && padded.fields == form.fields);
  return 0;
}
