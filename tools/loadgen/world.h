// What every simulated client shares: the options, the statistics, the acknowledgement log,
// the stop signal, and the exchange-wide checks that span users (an order id is never handed
// out twice).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "tools/loadgen/acknowledged_log.h"
#include "tools/loadgen/http_client.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/stats.h"

namespace isucoin::loadgen {

class StopSignal {
 public:
  void Stop();
  bool stopped() const;
  // Sleeps unless stopped meanwhile; false when stopped.
  bool SleepFor(std::chrono::duration<double> d);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

// Waits between retries while the server is unavailable: 100 ms doubling to 2 s, ±25 %
// jitter so that a few hundred users do not reconnect in lockstep after a restart.
class Backoff {
 public:
  explicit Backoff(std::mt19937_64* rng) : rng_(rng) {}
  std::chrono::duration<double> Next();
  void Reset() { delay_s_ = 0.1; }

 private:
  std::mt19937_64* rng_;
  double delay_s_ = 0.1;
};

// A seed for one stream of random choices of one client: --seed, the client's index and a
// stream number, so that each client's schedule depends on nothing else.
std::uint64_t SeedFor(std::uint64_t seed, std::uint64_t index, std::uint64_t stream);

struct World {
  World(const Options& o, Stats& s, AcknowledgedLog& a, StopSignal& st)
      : options(o), stats(s), acknowledged(a), stop(st) {}

  const Options& options;
  Stats& stats;
  AcknowledgedLog& acknowledged;
  StopSignal& stop;

  // False (and a violation is recorded) when `order_id` was already acknowledged to anyone:
  // ids are never reused, not even across restarts.
  bool FirstAcknowledgement(std::int64_t order_id);

 private:
  std::mutex mu_;
  std::set<std::int64_t> acknowledged_ids_;
};

// Records the request in the statistics and classifies the answer:
//  - no answer: nullopt (unavailable/timeout/transport counted as errors);
//  - a status outside `allowed`: an `unexpected_status` violation (the answer is still
//    returned so the caller can react); 5xx statuses are counted as errors `http_5xx <route>`;
//  - non-2xx answers must carry {"error": "..."}.
std::optional<HttpResponse> Answered(World& world, Route route, HttpResponse response,
                                     std::initializer_list<long> allowed);

}  // namespace isucoin::loadgen
