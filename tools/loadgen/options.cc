#include "tools/loadgen/options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace isucoin::loadgen {

namespace {

constexpr char kUsage[] = R"(usage: loadgen --bank-admin URL [flags]

Simulated ISUCOIN users against a running exchange; every answer checked against SPEC.md.
  --target URL          the exchange (default http://127.0.0.1:5000)
  --bank-admin URL      the simulator's bank URL: user accounts are created with its
                        POST /admin/accounts (required)
  --duration S          seconds of load (default 60); SIGINT/SIGTERM stop earlier, with a report
  --users N             simulated users (default 20)
  --ramp S              users join evenly over S seconds (default 10)
  --attackers N         brute-force attackers, each on its own bank_id (default 1)
  --seed N              seed of every user's schedule and choices (default 1)
  --acknowledged FILE   append one JSON line per acknowledged user/order/cancel
  --json FILE           write the report as JSON
  --bank-prefix P       prefix of created bank ids (default lg<seed>-<unix time>)
  --credit YEN          credit of each user's bank account (default 100000000000)
  --info-interval S     GET /info period per user (default 1)
  --order-interval S    mean time between trading actions per user (default 1.5)
  --timeout-ms N        a request slower than this makes its user leave (default 10000)
  --sample-every S      timeline resolution (default 5)
  --expect-trades N     exit 1 when the users saw fewer than N trades (default 0)
Exit status: 0 clean, 1 SPEC violations (or too few trades), 2 usage.
)";

bool ParseNumber(const char* text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text, &end);
  return end != text && *end == '\0' && *out >= 0;
}

}  // namespace

std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code) {
  Options o;
  *exit_code = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      *exit_code = 0;
      return std::nullopt;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "loadgen: %s needs a value\n%s", flag.c_str(), kUsage);
      return std::nullopt;
    }
    const char* value = argv[++i];
    double number = 0;
    const bool numeric = ParseNumber(value, &number);
    auto need_number = [&]() {
      if (!numeric) std::fprintf(stderr, "loadgen: %s wants a non-negative number, not %s\n", flag.c_str(), value);
      return numeric;
    };
    if (flag == "--target") {
      o.target = value;
    } else if (flag == "--bank-admin") {
      o.bank_admin = value;
    } else if (flag == "--acknowledged") {
      o.acknowledged = value;
    } else if (flag == "--json") {
      o.json = value;
    } else if (flag == "--bank-prefix") {
      o.bank_prefix = value;
    } else if (flag == "--duration") {
      if (!need_number()) return std::nullopt;
      o.duration_s = number;
    } else if (flag == "--users") {
      if (!need_number()) return std::nullopt;
      o.users = static_cast<int>(number);
    } else if (flag == "--ramp") {
      if (!need_number()) return std::nullopt;
      o.ramp_s = number;
    } else if (flag == "--attackers") {
      if (!need_number()) return std::nullopt;
      o.attackers = static_cast<int>(number);
    } else if (flag == "--seed") {
      if (!need_number()) return std::nullopt;
      o.seed = static_cast<std::uint64_t>(number);
    } else if (flag == "--credit") {
      if (!need_number()) return std::nullopt;
      o.credit = static_cast<std::int64_t>(number);
    } else if (flag == "--info-interval") {
      if (!need_number()) return std::nullopt;
      o.info_interval_s = number;
    } else if (flag == "--order-interval") {
      if (!need_number()) return std::nullopt;
      o.order_interval_s = number;
    } else if (flag == "--timeout-ms") {
      if (!need_number()) return std::nullopt;
      o.timeout_ms = static_cast<int>(number);
    } else if (flag == "--sample-every") {
      if (!need_number() || number <= 0) return std::nullopt;
      o.sample_every_s = number;
    } else if (flag == "--expect-trades") {
      if (!need_number()) return std::nullopt;
      o.expect_trades = static_cast<std::uint64_t>(number);
    } else {
      std::fprintf(stderr, "loadgen: unknown flag %s\n%s", flag.c_str(), kUsage);
      return std::nullopt;
    }
  }
  if (o.bank_admin.empty()) {
    std::fprintf(stderr, "loadgen: --bank-admin is required\n%s", kUsage);
    return std::nullopt;
  }
  while (!o.target.empty() && o.target.back() == '/') o.target.pop_back();
  while (!o.bank_admin.empty() && o.bank_admin.back() == '/') o.bank_admin.pop_back();
  if (o.bank_prefix.empty()) {
    // Bank ids must be new on every run against the same exchange (sign-up answers 409 for a
    // taken bank_id): the time makes them so; the schedule still depends only on --seed.
    o.bank_prefix = "lg" + std::to_string(o.seed) + "-" + std::to_string(std::time(nullptr));
  }
  *exit_code = 0;
  return o;
}

}  // namespace isucoin::loadgen
