// Replay into memory: the events log folded into a projections::ReadModel, from the start or
// from a read-model snapshot, up to an offset or a time (the state as of an incident).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "events/log.h"
#include "events/records.h"
#include "events/status.h"
#include "projections/read_model.h"

namespace isucoin::replay {

struct MemoryReplayOptions {
  int utc_offset_seconds = 9 * 3600;
  std::optional<std::uint64_t> until_offset;  // apply events with offset < this
  std::optional<events::Micros> until_time;   // apply events with time <= this (then stop)
  // Start from this model, which covers events before `from_offset` (a snapshot).
  std::optional<projections::ReadModel> start;
  std::uint64_t from_offset = 0;
};

struct MemoryReplay {
  projections::ReadModel model;
  std::uint64_t next_offset = 0;  // first event not applied
  std::uint64_t events_read = 0;  // records read by this replay (not counting the snapshot)
  std::optional<events::Micros> last_event_time;
};

Result<MemoryReplay> ReplayIntoMemory(events::Log& events, MemoryReplayOptions options);

// The human summary `isucoin replay --to memory` prints.
std::string DescribeModel(const projections::ReadModel& model, int utc_offset_seconds);

}  // namespace isucoin::replay
