// Turns HTTP requests into Bank / Logger calls: app id check, latency, failure injection,
// request statistics and the test-only /admin API. Runs on the HTTP loop thread only, so nothing
// here is locked.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>

#include "tools/isusim/bank.h"
#include "tools/isusim/http_server.h"
#include "tools/isusim/logger.h"

namespace isusim {

struct Latencies {
  std::chrono::milliseconds check{50};
  std::chrono::milliseconds reserve{70};
  std::chrono::milliseconds commit{300};
  std::chrono::milliseconds cancel{80};
  std::chrono::milliseconds logger{10};
};

struct Faults {
  double fail_rate = 0;   // answered 500, nothing applied
  double slow_rate = 0;   // answered slow_ms later than usual
  int64_t slow_ms = 0;
  double drop_rate = 0;   // applied, then the connection is closed without an answer
};

struct SimulatorConfig {
  std::set<std::string> appids{"isucoin-dev"};
  Latencies latency;
  Faults faults;
  int64_t reservation_ttl_ms = 300000;
  uint64_t seed = 1;
};

class Simulator {
 public:
  explicit Simulator(SimulatorConfig config);

  Reply HandleBank(const HttpRequest& req);
  Reply HandleLogger(const HttpRequest& req);

  Bank& bank() { return bank_; }

 private:
  Reply HandleAdmin(const HttpRequest& req);
  // Draws the injected fault for one service call and adds its delay to `reply`. Returns true
  // when the request must fail with 500 without being applied.
  bool InjectFaults(Reply& reply);
  // Wraps the reply so the request's final status is counted once it is known.
  void Count(const std::string& service, const std::string& path, Reply& reply);
  // "" when the Bearer app id is accepted, else the 401 message.
  std::string AuthProblem(const HttpRequest& req, std::string* appid) const;

  SimulatorConfig config_;
  Faults faults_;
  std::mt19937_64 rng_;
  Bank bank_;
  Logger logger_;
  // service → path → status ("200", "dropped", ...) → count
  std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>> stats_;
};

// Unix time in milliseconds: what reserved_at_ms and received_at_ms report.
int64_t NowMs();

}  // namespace isusim
