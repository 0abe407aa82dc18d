// Fixed exchanges run before the random ones: the framing bugs the fuzzer found, kept as
// checks so that the short ctest catches them coming back (tools/httpfuzz/README.md).
#pragma once

#include <string>
#include <vector>

#include "tools/httpfuzz/exchange_under_test.h"

namespace isucoin::httpfuzz {

// One line per regression that failed, empty when all held. Must run while nothing else
// appends to the commands log (it compares the log's end before and after).
std::vector<std::string> RunRegressions(ExchangeUnderTest& x);

}  // namespace isucoin::httpfuzz
