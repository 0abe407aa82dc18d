// Proof that rejected requests changed nothing: the commands log, read as a separate reader
// (FileLog read_only, beside the running writer), between two offsets taken from the server's
// own /metrics (isucoin_log_end_offset{log="commands"}). Commands of the api's types are counted
// by type and compared with the answers that say they were appended; the settlement worker's
// own commands (ReservationsReported, CommitsReported) are counted apart.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace isucoin::httpfuzz {

struct CommandCounts {
  std::map<std::string, std::uint64_t> by_type;
  std::uint64_t records = 0;
  std::uint64_t undecodable = 0;
  std::string error;  // set when the log could not be read
};

// The commands in [from, to) of the FileLog in `commands_dir`.
CommandCounts CountCommands(const std::string& commands_dir, std::uint64_t from, std::uint64_t to);

}  // namespace isucoin::httpfuzz
