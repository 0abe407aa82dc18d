// PostgresSink: the events log folded into PostgreSQL tables, for SQL audit and analytics
// (DESIGN.md "Read models"; README.md "PostgreSQL read model" lists the tables).
//
// Same facts and visibility as projections::ReadModel: a trade shows in orders.trade_id,
// balances' settled columns and the candles only once settled (TradeSettled); the trades table
// has every executed trade with a `settled` flag. ExchangeReset returns every table to the
// genesis, kept in genesis_* copies written at GenesisCompleted.
//
// Exactly-once: the sink keeps an image of its tables in memory (loaded from them at start),
// folds a batch of events into it (up to max_batch_events, or what arrived within
// max_batch_delay), then writes the rows the batch changed AND the log position (events offset
// + last applied Sequence) in one transaction. A crash anywhere loses the uncommitted batch
// only; the next start resumes at the stored position. Events at or below the stored Sequence
// are dropped (events/applied_sequence.h).
//
// One sink per schema. Not thread-safe apart from Start/Stop/position/health.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "events/log.h"
#include "events/status.h"

namespace isucoin::projections {

struct PostgresSinkOptions {
  std::string conninfo;           // libpq conninfo or URL
  std::string schema = "isucoin";  // PostgreSQL schema holding the tables
  int utc_offset_seconds = 9 * 3600;  // candle buckets follow the exchange's clock
  std::size_t max_batch_events = 5000;
  std::chrono::milliseconds max_batch_delay{100};
};

struct PostgresSinkStats {
  std::uint64_t events_applied = 0;
  std::uint64_t transactions = 0;
  std::uint64_t undecodable = 0;  // records skipped because they did not decode
};

class PostgresSink {
 public:
  PostgresSink(events::Log& log, PostgresSinkOptions options);
  ~PostgresSink();  // Stop()s
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  // Connects, migrates the schema, loads the tables and the position, then follows the log
  // on a thread. Database errors after Start are retried (reconnect and reload) and reported
  // by health() meanwhile.
  Status Start();
  // Commits nothing further; whatever was committed stays (the next start resumes there).
  void Stop();

  // Applies everything below `end` (synchronously, in batches) without a thread: for tools
  // and tests. Start() must not have been called.
  Status RunUntil(events::Offset end);

  events::Offset position() const { return position_.load(); }  // committed events offset
  Status health() const;
  PostgresSinkStats stats() const;

 private:
  struct Impl;
  void Loop();

  events::Log& log_;
  PostgresSinkOptions options_;
  std::unique_ptr<Impl> impl_;
  std::atomic<events::Offset> position_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  Status health_;
  std::thread thread_;
};

// Rebuilds the PostgreSQL read model from the events log, from offset 0 up to (excluding)
// `until_offset` (the whole log when empty): folds the events in memory, COPYs every table
// into a fresh schema `<schema>_rebuild`, then swaps it in for `schema` in one transaction
// (the old schema is dropped), so readers see either the old or the complete new tables.
// The position stored is `until_offset`: a live sink started afterwards continues from there.
// Stop any live sink of `schema` first.
struct ReplayToPostgresResult {
  events::Offset end = 0;  // events read: [0, end)
  std::uint64_t events_applied = 0;
  std::uint64_t rows = 0;  // rows COPYed
};
Result<ReplayToPostgresResult> ReplayToPostgres(events::Log& log, const std::string& conninfo,
                                                const std::string& schema,
                                                std::optional<events::Offset> until_offset,
                                                int utc_offset_seconds = 9 * 3600);

}  // namespace isucoin::projections
