// TradingMix: a realistic, seeded stream of commands for benchmarks and generated histories
// (bench/matcher_bench.cc, HistoryGenerator). A shadow Exchange applies every command it makes,
// so reports name real match ids and cancels name real open orders.
//
//   Setup:  `users` sign-ups, then a resting book of `resting_orders` (buys 9,000–9,999 yen,
//           sells 10,001–11,000, 1–10 chairs each);
//   Step:   40 % passive orders near the touch (never crossing), 25 % cancels of random open
//           orders, 15 % aggressive orders at the best opposite price (1–3 chairs, most trade),
//           15 % reservation reports for the oldest pending match (95 % all reserved, else the
//           last leg fails: auto-cancel, abort, re-match), 5 % commit reports for every
//           executed, unsettled trade.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "commands/exchange.h"
#include "events/records.h"

namespace isucoin::tools {

struct TradingMixOptions {
  int users = 1000;
  int resting_orders = 100'000;
  std::uint64_t seed = 20181020;
  events::Micros start_time = 1'700'000'000'000'000;
  events::Micros step = 1000;        // µs between commands
  std::uint64_t first_offset = 0;    // offset of the first command made
};

class TradingMix {
 public:
  explicit TradingMix(TradingMixOptions options);

  void Setup(std::vector<events::Command>& out);      // sign-ups and the resting book
  void Step(std::vector<events::Command>& out);       // one command of the mix
  void SettleAll(std::vector<events::Command>& out);  // report every pending match, commit all

  const commands::Exchange& shadow() const { return shadow_; }

 private:
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi);
  events::Id User();
  void Emit(std::vector<events::Command>& out, events::CommandBody body);
  void Observe(const events::Event& e);
  void Passive(std::vector<events::Command>& out);
  void Aggressive(std::vector<events::Command>& out);
  bool CancelOne(std::vector<events::Command>& out);
  bool ReportOne(std::vector<events::Command>& out);
  bool CommitAll(std::vector<events::Command>& out);

  TradingMixOptions options_;
  std::mt19937_64 rng_;
  commands::Exchange shadow_;
  std::uint64_t offset_;
  events::Micros time_;
  std::unordered_map<events::Id, events::Id> owner_;  // open order -> user
  std::vector<events::Id> open_;                      // cancel candidates (may be stale)
  std::deque<events::MatchProposed> pending_;
  std::vector<events::Id> executed_;
  std::int64_t reserve_id_ = 0;
  std::vector<events::Event> scratch_;
};

}  // namespace isucoin::tools
