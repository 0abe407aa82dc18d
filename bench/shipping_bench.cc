// Log delivery latency under load: ~2,000 actions/s for ~10 s go through the Shipper to the
// simulator (tools/isusim, default latencies), each action appended to the events log as it
// happens. Latency = action time → the simulator's receive time of the record (what SPEC.md's
// 10 s bound is about); the shipper's own histogram (action → 200 received) is printed too.
// Target: p99 ≤ 2 s.
//
//   ./scripts/bench shipping [--seconds S] [--rate ACTIONS_PER_SEC]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "effects/shipper.h"
#include "events/memory_log.h"
#include "events/time_format.h"
#include "tests/effects/shipping_events.h"
#include "tests/support/isusim_process.h"

namespace {

using namespace std::chrono_literals;
using isucoin::effects::testing::ActionGenerator;
using isucoin::effects::testing::Encode;

double Percentile(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5));
  return static_cast<double>(v[i]);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int rate = 2000;  // events (≈ actions) per second
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--rate") == 0) rate = std::atoi(argv[i + 1]);
  }
  isucoin::test_support::IsusimProcess sim({"--latency", "default"});
  isucoin::events::MemoryLog log;
  isucoin::effects::ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  isucoin::effects::Shipper shipper(log, options);
  if (!shipper.Start().ok()) return 1;

  // A round is 10 events; append one tick's worth every 10 ms, stamped with the current time.
  ActionGenerator gen;
  const int rounds_per_tick = std::max(1, rate / 100 / 10);
  std::size_t events_appended = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto next = t0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(seconds)) {
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::vector<isucoin::events::Event> batch;
    for (int r = 0; r < rounds_per_tick; ++r) {
      auto round = gen.Round(now_us);
      batch.insert(batch.end(), round.begin(), round.end());
    }
    events_appended += batch.size();
    if (!log.Append(Encode(batch)).ok()) return 1;
    next += 10ms;
    std::this_thread::sleep_until(next);
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool delivered = shipper.WaitDelivered(log.End(), 30s);
  shipper.Stop();

  std::vector<std::int64_t> latency_ms;
  for (const auto& r : sim.Logs()) {
    auto t = isucoin::events::ParseTime(r["time"].get<std::string>());
    if (t.ok()) latency_ms.push_back(r["received_at_ms"].get<std::int64_t>() - t.value() / 1000);
  }
  const auto& m = shipper.metrics();
  std::printf("actions: %zu events in %.1f s (%.0f/s), %llu records, %zu received%s\n",
              events_appended, took, events_appended / took,
              static_cast<unsigned long long>(m.records_read.load()), latency_ms.size(),
              delivered ? "" : " (NOT all delivered within 30 s)");
  std::printf("requests: %llu (%.1f/s), 429: %llu, unavailable: %llu, records/request: %.0f\n",
              static_cast<unsigned long long>(m.requests_sent.load()),
              m.requests_sent.load() / took, static_cast<unsigned long long>(m.rate_limited.load()),
              static_cast<unsigned long long>(m.unavailable.load()),
              m.requests_sent.load() ? double(m.records_delivered.load()) / m.requests_sent.load() : 0.0);
  std::printf("shipper histogram (action -> 200): p50 <= %.0f ms, p99 <= %.0f ms, max %.0f ms\n",
              m.delivery_latency.PercentileMicros(50) / 1000.0,
              m.delivery_latency.PercentileMicros(99) / 1000.0,
              m.delivery_latency.MaxMicros() / 1000.0);
  std::printf("RESULT log_delivery_p50_ms %.0f ms\n", Percentile(latency_ms, 0.50));
  std::printf("RESULT log_delivery_p99_ms %.0f ms\n", Percentile(latency_ms, 0.99));
  std::printf("RESULT log_delivery_max_ms %.0f ms\n", Percentile(latency_ms, 1.0));
  return delivered ? 0 : 1;
}
