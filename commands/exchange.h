// Exchange: the matcher. A pure, deterministic state machine fed the commands log
// (rules: commands/MATCHING.md). It knows nothing of HTTP, Kafka, PostgreSQL or the bank.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/records.h"
#include "events/status.h"

namespace isucoin::commands {

class ExchangeState;  // defined in exchange_state.h

class Exchange {
 public:
  Exchange();
  ~Exchange();
  Exchange(Exchange&&) noexcept;
  Exchange& operator=(Exchange&&) noexcept;

  // Applies one command and returns the events it produced (possibly none), each tagged with
  // Sequence{cmd.offset, i} and cmd.time.
  std::vector<events::Event> apply(const events::Command& cmd);
  // Same, appending to `out` (lets hot loops reuse one vector).
  void apply(const events::Command& cmd, std::vector<events::Event>& out);

  // The whole state, genesis included, as canonical bytes (deterministic for a given state).
  std::string Snapshot() const;
  static Result<Exchange> Restore(std::string_view snapshot);
  // FNV-1a 64 of Snapshot(): equal states, equal hashes.
  std::uint64_t StateHash() const;

  // Read-only views for tests, benchmarks and audits.
  std::size_t open_order_count() const;
  std::optional<std::int64_t> best_bid() const;  // highest open (unlocked) buy price
  std::optional<std::int64_t> best_ask() const;  // lowest open (unlocked) sell price
  std::size_t crossing_order_count() const;      // see OrderBook::CrossingCount

 private:
  explicit Exchange(std::unique_ptr<ExchangeState> state);
  std::unique_ptr<ExchangeState> state_;
};

}  // namespace isucoin::commands
