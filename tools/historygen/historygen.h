// History generator: drives the real Matcher over two logs with a realistic command mix, to
// produce large histories for the replay benchmark and tests (bench/replay_bench.cc).
//
// The mix is TradingMix (trading_mix.h), the same as bench/matcher_bench.cc's.
// Commands are appended in batches and the Matcher applies them (so the events log is the
// real one, exactly-once sequences included); a shadow Exchange fed the same commands tells
// the generator what happened (deterministic, so it sees what the Matcher decided).
#pragma once

#include <cstdint>
#include <memory>
#include <random>

#include "commands/exchange.h"
#include "commands/matcher.h"
#include "events/log.h"
#include "events/status.h"

namespace isucoin::tools {

struct HistoryOptions {
  int users = 1000;
  int resting_orders = 20'000;
  std::uint64_t seed = 20181020;
  events::Micros start_time = 1'700'000'000'000'000;
  events::Micros step = 1000;  // µs between commands
  std::size_t batch = 512;     // commands per append
};

class HistoryGenerator {
 public:
  HistoryGenerator(events::Log& commands, events::Log& events, HistoryOptions options = {});
  ~HistoryGenerator();

  // Appends commands until the events log holds at least `min_events` records (users and the
  // resting book first). When `settle_all`, ends with a commit report for every trade.
  Status Generate(std::uint64_t min_events, bool settle_all = true);
  commands::Matcher& matcher() { return *matcher_; }

 private:
  struct State;
  Status Flush();
  events::Log& commands_;
  events::Log& events_;
  std::unique_ptr<commands::Matcher> matcher_;
  std::unique_ptr<State> state_;
};

}  // namespace isucoin::tools
