// Start-up from snapshots: the matcher and a read model resume from the newest valid snapshot
// that fits the logs and replay only the tail; with no usable snapshot, from the start.
// Used by `isucoin serve` (app/embedded_exchange.cc), `isucoin snapshot` and the benchmark.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "commands/matcher.h"
#include "events/log.h"
#include "events/status.h"
#include "replay/memory_replay.h"
#include "replay/snapshot_file.h"

namespace isucoin::replay {

struct MatcherStart {
  std::unique_ptr<commands::Matcher> matcher;
  std::optional<std::uint64_t> snapshot_offset;  // the snapshot used, if any
};

// Recover()s a new Matcher over the logs, from the newest usable matcher snapshot in `store`
// (may be null). Snapshots that are corrupt, do not restore or do not fit the logs are
// skipped with a warning (an older one is tried, then a full recovery).
Result<MatcherStart> StartMatcher(events::Log& commands, events::Log& events,
                                  const SnapshotStore* store);

struct ReadModelStart {
  MemoryReplay replay;
  std::optional<std::uint64_t> snapshot_offset;
};

// Folds the events log into a read model, from the newest usable read-model snapshot.
Result<ReadModelStart> StartReadModel(events::Log& events, const SnapshotStore* store,
                                      int utc_offset_seconds);

// Writes snapshots on its own thread, so the matcher and projection threads only pay for
// serializing. One pending snapshot per kind: a newer one replaces one not yet written.
class SnapshotWriter {
 public:
  explicit SnapshotWriter(SnapshotStore store);
  ~SnapshotWriter();  // writes what is pending, then stops
  void Submit(SnapshotKind kind, std::uint64_t offset, std::string body);
  std::uint64_t written() const;

 private:
  void Loop();
  SnapshotStore store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<std::uint64_t, std::string>> pending_[2];
  bool stop_ = false;
  std::uint64_t written_ = 0;
  std::thread thread_;
};

}  // namespace isucoin::replay
