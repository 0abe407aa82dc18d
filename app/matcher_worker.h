// MatcherWorker: the matcher as a running component — recovered from the newest usable
// snapshot plus the logs' tail (replay/startup.h), caught up with every command present, then
// stepping on its own thread, snapshotting now and then. `serve` runs one beside the api;
// `isucoin matcher` runs one while it holds the matcher lease (app/matcher_command.cc).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "commands/matcher.h"
#include "events/log.h"
#include "events/status.h"
#include "replay/startup.h"

namespace isucoin::app {

struct MatcherWorkerOptions {
  std::string name = "matcher";  // prefix of its stderr lines
  const replay::SnapshotStore* snapshots = nullptr;  // where start-up looks; null = none
  replay::SnapshotWriter* writer = nullptr;          // periodic snapshots; null = none
  std::uint64_t snapshot_every = 200'000;            // commands
  std::chrono::seconds snapshot_interval{300};
};

class MatcherWorker {
 public:
  // Recovers and applies every command present before returning, so that whoever starts
  // next (the read model, the api) sees the events of every acknowledged command.
  static Result<std::unique_ptr<MatcherWorker>> Start(events::Log& commands, events::Log& events,
                                                      MatcherWorkerOptions options);
  ~MatcherWorker();  // Stop()s

  // Returns once the thread has stopped; what it appended is durable.
  void Stop();
  // The failure that stopped the thread (an append that failed, a log that broke), if any.
  Status health() const;
  // Offset of the next command to apply (any thread).
  std::uint64_t next_command() const { return next_command_.load(std::memory_order_relaxed); }
  std::size_t open_orders() const { return open_orders_.load(std::memory_order_relaxed); }

 private:
  MatcherWorker(events::Log& commands, std::unique_ptr<commands::Matcher> matcher,
                MatcherWorkerOptions options);
  void Loop();
  void Publish();

  events::Log& commands_;
  std::unique_ptr<commands::Matcher> matcher_;
  const MatcherWorkerOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> next_command_{0};
  std::atomic<std::size_t> open_orders_{0};
  mutable std::mutex health_mu_;
  Status health_;
  std::thread thread_;
};

}  // namespace isucoin::app
