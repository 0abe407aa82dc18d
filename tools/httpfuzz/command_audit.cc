#include "tools/httpfuzz/command_audit.h"

#include "events/codec.h"
#include "events/file_log.h"

namespace isucoin::httpfuzz {

CommandCounts CountCommands(const std::string& commands_dir, std::uint64_t from, std::uint64_t to) {
  CommandCounts counts;
  auto log = events::FileLog::Open(commands_dir, {.read_only = true});
  if (!log.ok()) {
    counts.error = log.status().ToString();
    return counts;
  }
  std::uint64_t next = from;
  while (next < to) {
    auto batch = log.value()->Read(next, 4096);
    if (!batch.ok()) {
      counts.error = batch.status().ToString();
      return counts;
    }
    if (batch.value().empty()) {
      counts.error = "the log ends at " + std::to_string(next) + ", before " + std::to_string(to);
      return counts;
    }
    for (const auto& record : batch.value()) {
      if (record.offset >= to) return counts;
      ++counts.records;
      auto command = events::DecodeCommand(record.payload, record.offset);
      if (!command.ok()) {
        ++counts.undecodable;
      } else {
        ++counts.by_type[events::CommandTypeName(command.value().body)];
      }
      next = record.offset + 1;
    }
  }
  return counts;
}

}  // namespace isucoin::httpfuzz
