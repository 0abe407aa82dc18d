// Snapshot files (DESIGN.md "Replay and audit"): the matcher's state or a read model at a log
// offset, so that start-up replays only the tail of the logs.
//
//   header (36 bytes, little-endian):
//     magic "ISUSNAP\0" · u32 version (1) · u32 kind · u64 offset · u64 body length ·
//     u32 CRC-32C of the 32 bytes before it
//   body (body length bytes) · u32 CRC-32C of the body
//
// `offset` is the next record of the log the state does NOT include: commands log for the
// matcher (Exchange::Snapshot() bytes), events log for a read model (ReadModel::Serialize()).
// A file is written to a temporary name, fsynced, renamed into place and the directory
// fsynced: a crash leaves the old set or the new one, never a half-written file under a
// snapshot's name. Anything that fails a check is skipped with a warning, never trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace isucoin::replay {

enum class SnapshotKind : std::uint32_t { kMatcher = 1, kReadModel = 2 };
const char* SnapshotKindName(SnapshotKind kind);  // "matcher" / "readmodel"

inline constexpr std::uint32_t kSnapshotVersion = 1;
inline constexpr std::size_t kSnapshotHeaderBytes = 36;

struct SnapshotData {
  SnapshotKind kind = SnapshotKind::kMatcher;
  std::uint64_t offset = 0;
  std::string body;
  std::string path;
};

// The bytes of a whole snapshot file.
std::string EncodeSnapshot(SnapshotKind kind, std::uint64_t offset, std::string_view body);
// Checks magic, version, both CRCs and the length; Corruption names what failed.
Result<SnapshotData> DecodeSnapshot(std::string_view file);

// Durably: temporary file, fsync, rename, directory fsync.
Status WriteSnapshotFile(const std::string& path, SnapshotKind kind, std::uint64_t offset,
                         std::string_view body);
Result<SnapshotData> ReadSnapshotFile(const std::string& path);

struct SnapshotEntry {
  std::string path;
  SnapshotKind kind = SnapshotKind::kMatcher;
  std::uint64_t offset = 0;  // from the name; the header is checked on load
};

// A directory of snapshot files named <kind>-<offset, 20 digits>.snap.
class SnapshotStore {
 public:
  // Warnings (a corrupt file skipped, a failed prune) go here; stderr by default.
  using WarningSink = std::function<void(const std::string&)>;
  explicit SnapshotStore(std::string dir, std::size_t keep = 3, WarningSink warn = {});

  const std::string& dir() const { return dir_; }
  // Writes a snapshot (creating the directory), then deletes all but the newest `keep` of
  // that kind. Returns the file's path.
  Result<std::string> Write(SnapshotKind kind, std::uint64_t offset, std::string_view body);
  // The snapshots of one kind, newest (highest offset) first.
  std::vector<SnapshotEntry> List(SnapshotKind kind) const;
  // The newest valid snapshot of `kind` whose offset is <= max_offset; invalid files are
  // skipped with a warning naming them. nullopt when there is none.
  std::optional<SnapshotData> LoadNewest(
      SnapshotKind kind, std::uint64_t max_offset = std::numeric_limits<std::uint64_t>::max()) const;

 private:
  void Warn(const std::string& message) const;
  std::string dir_;
  std::size_t keep_;
  WarningSink warn_;
};

}  // namespace isucoin::replay
