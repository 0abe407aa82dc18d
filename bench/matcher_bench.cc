// ./scripts/bench matcher — the matcher alone, one thread, no I/O.
//
// The workload: tools/historygen/trading_mix.h with 1,000 users and a book of 100,000 resting
// orders built before timing starts, then 1,000,000 commands of its mix (passive orders,
// cancels, aggressive orders, reservation reports with some failures, commit reports), drawn
// with a fixed seed. The stream is recorded once, then replayed on fresh matchers:
// determinism guarantees every replay takes the same decisions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "commands/exchange.h"
#include "events/records.h"
#include "tools/historygen/trading_mix.h"

namespace {

using namespace isucoin::events;
using isucoin::commands::Exchange;

constexpr int kUsers = 1000;
constexpr int kRestingOrders = 100'000;
constexpr int kMixCommands = 1'000'000;

struct Workload {
  std::vector<Command> setup;  // users + resting book
  std::vector<Command> mix;    // what is timed
};

// Recorded once by driving a matcher adaptively (reports need match ids).
const Workload& TheWorkload() {
  static const Workload w = [] {
    Workload w;
    isucoin::tools::TradingMix mix(isucoin::tools::TradingMixOptions{
        .users = kUsers, .resting_orders = kRestingOrders});
    mix.Setup(w.setup);
    while (w.mix.size() < static_cast<std::size_t>(kMixCommands)) mix.Step(w.mix);
    return w;
  }();
  return w;
}

Exchange Prepared() {
  Exchange exchange;
  for (const Command& c : TheWorkload().setup) exchange.apply(c);
  return exchange;
}

double g_best_commands_per_sec = 0;
std::size_t g_events = 0;
std::size_t g_crossing_after = 0;
std::size_t g_open_after = 0;

void BM_MatcherMix(benchmark::State& state) {
  const auto& mix = TheWorkload().mix;
  std::vector<Event> out;
  out.reserve(64);
  for (auto _ : state) {
    Exchange exchange = Prepared();
    std::size_t events = 0;
    auto start = std::chrono::steady_clock::now();
    for (const Command& c : mix) {
      out.clear();
      exchange.apply(c, out);
      events += out.size();
    }
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    g_crossing_after = exchange.crossing_order_count();
    g_open_after = exchange.open_order_count();
    state.SetIterationTime(seconds);
    g_best_commands_per_sec = std::max(g_best_commands_per_sec, mix.size() / seconds);
    g_events = events;
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * mix.size()));
}
BENCHMARK(BM_MatcherMix)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// Per-command latency: each apply timed on its own (the clock read costs ~20 ns and is included).
void LatencyPercentiles(double* p50, double* p99, double* p999) {
  Exchange exchange = Prepared();
  std::vector<Event> out;
  std::vector<std::int64_t> ns;
  ns.reserve(TheWorkload().mix.size());
  for (const Command& c : TheWorkload().mix) {
    out.clear();
    auto t0 = std::chrono::steady_clock::now();
    exchange.apply(c, out);
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return static_cast<double>(ns[static_cast<std::size_t>(q * (ns.size() - 1))]); };
  *p50 = at(0.50);
  *p99 = at(0.99);
  *p999 = at(0.999);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::fprintf(stderr, "recording the workload (%d resting orders, %d commands)...\n",
               kRestingOrders, kMixCommands);
  const Workload& w = TheWorkload();
  {
    Exchange e = Prepared();
    std::fprintf(stderr, "book before the mix: %zu open orders\n", e.open_order_count());
  }
  benchmark::RunSpecifiedBenchmarks();
  double p50 = 0, p99 = 0, p999 = 0;
  LatencyPercentiles(&p50, &p99, &p999);
  std::printf("mix: %zu commands -> %zu events; after it %zu open orders, %zu of them crossing\n",
              w.mix.size(), g_events, g_open_after, g_crossing_after);
  std::printf("RESULT matcher_commands_per_sec %.0f commands/s\n", g_best_commands_per_sec);
  std::printf("RESULT matcher_command_p50_ns %.0f ns\n", p50);
  std::printf("RESULT matcher_command_p99_ns %.0f ns\n", p99);
  std::printf("RESULT matcher_command_p999_ns %.0f ns\n", p999);
  benchmark::Shutdown();
  return 0;
}
