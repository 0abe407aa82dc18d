// A small real history (HistoryGenerator: the real Matcher over MemoryLogs) shared by the
// replay tests, and helpers to copy a log while tampering with it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "events/memory_log.h"
#include "tools/historygen/historygen.h"

namespace isucoin::replay_test {

struct History {
  events::MemoryLog commands;
  events::MemoryLog events;
};

inline std::vector<std::string> Payloads(events::Log& log) {
  std::vector<std::string> out;
  auto records = log.Read(0, log.End()).value();
  for (auto& r : records) out.push_back(std::move(r.payload));
  return out;
}

inline void Fill(events::Log& log, const std::vector<std::string>& payloads) {
  if (!payloads.empty()) (void)log.Append(payloads).value();
}

// Generates at least `min_events` events (small book so that it stays fast).
inline void Generate(events::Log& commands, events::Log& events, std::uint64_t min_events,
                     bool settle_all = true) {
  tools::HistoryOptions options;
  options.users = 50;
  options.resting_orders = 500;
  options.batch = 64;
  tools::HistoryGenerator gen(commands, events, options);
  auto s = gen.Generate(min_events, settle_all);
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

}  // namespace isucoin::replay_test
