// Log: an append-only, totally ordered sequence of opaque records (the payloads are encoded
// Commands or Events, see codec.h). The exchange has two: commands and events.
//
// Offsets are dense and start at 0: the n-th record ever appended has offset n. Every
// backend (FileLog, KafkaLog) passes the same conformance suite (tests/events/).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "events/status.h"

namespace isucoin::events {

using Offset = std::uint64_t;

struct LogRecord {
  Offset offset = 0;
  std::string payload;
};

class Log {
 public:
  virtual ~Log() = default;

  // Appends `payloads` in order as one batch. Returns the offset of the first record, and
  // only once every record of the batch is durable (fsync'd, or acknowledged by all in-sync
  // replicas). Safe to call from many threads; concurrent batches never interleave.
  virtual Result<Offset> Append(std::span<const std::string> payloads) = 0;

  // Reads up to `max_records` records starting at `from` (fewer at the durable end).
  // Only durable records are ever returned.
  virtual Result<std::vector<LogRecord>> Read(Offset from, std::size_t max_records) = 0;

  // Blocks until a record with offset >= `offset` is durable or `timeout` passes.
  // Returns the durable end offset (which is <= offset on timeout).
  virtual Offset WaitFor(Offset offset, std::chrono::milliseconds timeout) = 0;

  // One past the last durable record: the offset the next append will get.
  virtual Offset End() const = 0;

  // Flushes and releases the log; later calls fail with Status::Closed.
  virtual Status Close() = 0;
};

}  // namespace isucoin::events
