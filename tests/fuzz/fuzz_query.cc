// Fuzz target: the request target of GET /info?cursor=N and DELETE /order/{id} — the parts of
// the request line the routes decode themselves (Pistache 0.0.5 leaves them percent-encoded).
// The input is a request target ("/info?cursor=12", "/order/7"); the code below is the routes'
// decoding (routes_info.cc, routes_orders.cc) on top of api/form.h. Properties:
//   - the query decodes with the form rules, like the reference decoder;
//   - an accepted cursor is 0..2^63-1 and is exactly the decimal the client sent (leading zeros
//     aside): printing it and parsing the print gives it back;
//   - an accepted order id is 1..2^63-1 and the path's id text is all digits;
//   - a static path that passes the web-root guard never escapes it (no "/.", no NUL, no '\').
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "api/form.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reference_decoders.h"

using namespace isucoin;

namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

void CheckInfoQuery(std::string_view query) {
  api::FormResult form = api::ParseForm(query);
  FUZZ_CHECK(form.ok() == fuzz::ReferenceForm(query).has_value());
  if (!form.ok()) return;
  const std::string* text = form.Find("cursor");
  if (text == nullptr || text->empty()) return;  // cursor 0
  auto cursor = api::ParseInt(*text, 0, kMaxId);
  FUZZ_CHECK(cursor == fuzz::ReferenceInt(*text, 0, kMaxId));
  if (!cursor) return;
  FUZZ_CHECK(*cursor >= 0);
  FUZZ_CHECK(api::ParseInt(std::to_string(*cursor), 0, kMaxId) == cursor);
  auto significant = text->find_first_not_of('0');
  FUZZ_CHECK(std::to_string(*cursor) ==
             (significant == std::string::npos ? "0" : text->substr(significant)));
}

void CheckOrderPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/order/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return;
  std::string_view id_text = path.substr(kPrefix.size());
  auto id = api::ParseInt(id_text, 1, kMaxId);
  FUZZ_CHECK(id == fuzz::ReferenceInt(id_text, 1, kMaxId));
  if (!id) return;
  FUZZ_CHECK(*id >= 1);
  FUZZ_CHECK(id_text.find_first_not_of("0123456789") == std::string_view::npos);
}

// routes_static.cc's guard, as written there.
void CheckStaticPath(std::string_view raw_path) {
  auto path = api::PercentDecode(raw_path, false);
  FUZZ_CHECK(path == fuzz::ReferencePercentDecode(raw_path, false));
  bool served = path && !path->empty() && (*path)[0] == '/' &&
                path->find('\0') == std::string::npos && path->find("/.") == std::string::npos &&
                path->find('\\') == std::string::npos;
  if (!served) return;
  // Every component is a plain name: never "." or "..", never hidden.
  std::size_t pos = 1;
  while (pos <= path->size()) {
    auto slash = path->find('/', pos);
    if (slash == std::string::npos) slash = path->size();
    std::string_view part = std::string_view(*path).substr(pos, slash - pos);
    FUZZ_CHECK(part.empty() || part[0] != '.');
    pos = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  CheckInfoQuery(query);
  CheckOrderPath(path);
  CheckStaticPath(path);
  return 0;
}
