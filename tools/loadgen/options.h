// Command-line flags of `loadgen` (README.md "Flags").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace isucoin::loadgen {

struct Options {
  std::string target = "http://127.0.0.1:5000";  // the exchange
  std::string bank_admin;                         // isusim's bank URL (its /admin API)
  double duration_s = 60;
  int users = 20;
  double ramp_s = 10;      // users join evenly over this many seconds
  int attackers = 1;
  std::uint64_t seed = 1;
  std::string acknowledged;  // append-only JSON lines of acknowledgements
  std::string json;          // the report as JSON
  std::string bank_prefix;   // prefix of the bank ids created (default: from seed and time)
  std::int64_t credit = 100'000'000'000;  // yen per user account: reservations never fail
  double info_interval_s = 1.0;
  double order_interval_s = 1.5;
  int timeout_ms = 10'000;   // a request slower than this makes its user leave
  double sample_every_s = 5;
  std::uint64_t expect_trades = 0;  // exit 1 when fewer trades of the users were seen
};

// Parses argv; on error or --help prints usage (to stderr or stdout) and returns nullopt with
// *exit_code set.
std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code);

}  // namespace isucoin::loadgen
