// How much work the heavy randomized tests do (property-test streams, SIGKILL crash rounds).
//
// ISUCOIN_TEST_SCALE is a factor on the counts written in the tests. Unset — every normal run,
// `./scripts/test` and CI's plain run — it is 1: today's full counts. `./scripts/test
// --sanitize=...` sets it lower (scripts/sanitizers/env.sh) because sanitized binaries run 5-20x
// slower; every test still runs, on fewer random cases.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace isucoin::test_support {

inline double TestScale() {
  const char* s = std::getenv("ISUCOIN_TEST_SCALE");
  if (s == nullptr || *s == '\0') return 1.0;
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  return (end != s && v > 0 && std::isfinite(v)) ? v : 1.0;
}

// n scaled by ISUCOIN_TEST_SCALE, never below `at_least` (nor below 1).
inline std::uint64_t Scaled(std::uint64_t n, std::uint64_t at_least = 1) {
  const double scaled = std::ceil(static_cast<double>(n) * TestScale());
  return std::max<std::uint64_t>({static_cast<std::uint64_t>(scaled), at_least, 1});
}

}  // namespace isucoin::test_support
