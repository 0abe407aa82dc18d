// ./scripts/bench matcher — the matcher alone, one thread, no I/O.
//
// The workload (documented in the README):
//   * 1,000 users; a book of 100,000 resting orders (buys 9,000–9,999 yen, sells 10,001–11,000,
//     1–10 chairs each), built before timing starts;
//   * then 1,000,000 commands in this mix, drawn with a fixed seed:
//       40 % passive orders near the touch (never crossing),
//       25 % cancels of random open orders,
//       15 % aggressive orders at the best opposite price, 1–3 chairs (most trade),
//       15 % reservation reports for the oldest pending match (95 % all reserved, otherwise
//            one leg fails: auto-cancel, abort and re-match),
//        5 % commit reports for every executed, unsettled trade.
// The stream is recorded once by driving a matcher adaptively (reports need match ids), then
// replayed on fresh matchers: determinism guarantees the replay takes the same decisions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "commands/exchange.h"
#include "events/records.h"

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

class WorkloadRecorder {
 public:
  WorkloadRecorder() : rng_(20181020) {}

  Workload Record() {
    Workload w;
    for (int u = 1; u <= kUsers; ++u) {
      Emit(w.setup, SignupRequested{"user" + std::to_string(u), "bank-" + std::to_string(u),
                                    "$2b$10$hash"});
    }
    for (int i = 0; i < kRestingOrders; ++i) {
      bool buy = i % 2 == 0;
      std::int64_t price = buy ? Uniform(9000, 9999) : Uniform(10001, 11000);
      Emit(w.setup, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 10), price});
    }
    for (int i = 0; i < kMixCommands; ++i) {
      int dice = static_cast<int>(Uniform(0, 99));
      if (dice < 40) {
        Passive(w.mix);
      } else if (dice < 65) {
        if (!CancelOne(w.mix)) Passive(w.mix);
      } else if (dice < 80) {
        Aggressive(w.mix);
      } else if (dice < 95) {
        if (!ReportOne(w.mix)) Passive(w.mix);
      } else {
        if (!CommitAll(w.mix)) Passive(w.mix);
      }
    }
    return w;
  }

 private:
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  Id User() { return Uniform(1, kUsers); }

  void Passive(std::vector<Command>& out) {
    bool buy = Uniform(0, 1) == 0;
    std::int64_t bid = exchange_.best_bid().value_or(9999);
    std::int64_t ask = exchange_.best_ask().value_or(10001);
    std::int64_t price = buy ? std::min(ask - 1, bid - Uniform(0, 50))
                             : std::max(bid + 1, ask + Uniform(0, 50));
    Emit(out, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 10), price});
  }

  void Aggressive(std::vector<Command>& out) {
    bool buy = Uniform(0, 1) == 0;
    auto price = buy ? exchange_.best_ask() : exchange_.best_bid();
    if (!price) return Passive(out);
    Emit(out, OrderPlaced{User(), buy ? Side::kBuy : Side::kSell, Uniform(1, 3), *price});
  }

  bool CancelOne(std::vector<Command>& out) {
    while (!open_.empty()) {
      std::size_t i = static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(open_.size()) - 1));
      auto it = owner_.find(open_[i]);
      Id order = open_[i];
      open_[i] = open_.back();
      open_.pop_back();
      if (it == owner_.end()) continue;  // traded or cancelled since
      Emit(out, CancelRequested{it->second, order});
      return true;
    }
    return false;
  }

  bool ReportOne(std::vector<Command>& out) {
    if (pending_.empty()) return false;
    MatchProposed m = std::move(pending_.front());
    pending_.pop_front();
    ReservationsReported report{m.match_id, {}};
    bool fail_one = Uniform(0, 99) < 5;
    for (std::size_t i = 0; i < m.legs.size(); ++i) {
      if (fail_one && i + 1 == m.legs.size()) {
        report.results.push_back({m.legs[i].order_id, std::nullopt, "credit is insufficient"});
      } else {
        report.results.push_back({m.legs[i].order_id, ++reserve_id_, ""});
      }
    }
    Emit(out, std::move(report));
    return true;
  }

  bool CommitAll(std::vector<Command>& out) {
    if (executed_.empty()) return false;
    Emit(out, CommitsReported{std::move(executed_)});
    executed_.clear();
    return true;
  }

  void Emit(std::vector<Command>& out, CommandBody body) {
    Command cmd{offset_++, time_ += 1000, std::move(body)};
    for (const Event& e : exchange_.apply(cmd)) Observe(e);
    out.push_back(std::move(cmd));
  }

  void Observe(const Event& e) {
    if (auto* a = std::get_if<OrderAccepted>(&e.body)) {
      owner_[a->order_id] = a->user_id;
      open_.push_back(a->order_id);
    } else if (auto* c = std::get_if<OrderCancelled>(&e.body)) {
      owner_.erase(c->order_id);
    } else if (auto* m = std::get_if<MatchProposed>(&e.body)) {
      for (const auto& leg : m->legs) owner_.erase(leg.order_id);
      pending_.push_back(*m);
    } else if (auto* t = std::get_if<TradeExecuted>(&e.body)) {
      executed_.push_back(t->trade_id);
    } else if (auto* ab = std::get_if<MatchAborted>(&e.body)) {
      (void)ab;  // survivors return to the book; they stay out of the cancel pool (simpler)
    }
  }

  std::mt19937_64 rng_;
  Exchange exchange_;
  std::uint64_t offset_ = 0;
  Micros time_ = 1'700'000'000'000'000;
  std::unordered_map<Id, Id> owner_;  // open order -> user
  std::vector<Id> open_;
  std::deque<MatchProposed> pending_;
  std::vector<Id> executed_;
  std::int64_t reserve_id_ = 0;
};

const Workload& TheWorkload() {
  static const Workload w = WorkloadRecorder().Record();
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
