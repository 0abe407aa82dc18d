// The on-disk format of FileLog segments (events/LOG_FORMAT.md): encoding a segment header and
// record frames, and scanning a segment file to find its whole records, its sparse index and
// the first bad byte. Shared by FileLog::Open, FileLog::Read and FileLog::Verify so the three
// can never disagree about what a valid log is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/log.h"
#include "events/status.h"

namespace isucoin::events::segment {

inline constexpr char kMagic[8] = {'I', 'S', 'U', 'C', 'L', 'O', 'G', '\n'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 32;
inline constexpr std::size_t kFrameHeaderSize = 8;  // length u32 + crc32c u32
// Bounds a length read from disk so that a damaged length field is recognised as damage
// rather than as a request to read gigabytes.
inline constexpr std::uint32_t kMaxPayload = 256u << 20;
inline constexpr const char* kSuffix = ".seg";

// "<dir>/<base offset, 20 digits>.seg": names sort in offset order.
std::string FileName(Offset base_offset);
// The base offset a segment file name encodes; false for any other file.
bool ParseFileName(std::string_view name, Offset* base_offset);

std::string EncodeHeader(Offset base_offset);
// Appends one frame (length, crc32c over length+payload, payload) to `out`.
void AppendFrame(std::string_view payload, std::string* out);

// What a frame at some position holds.
enum class FrameState {
  kWhole,      // a complete record whose checksum matches
  kIncomplete, // the bytes end before the frame does
  kBad,        // a length out of bounds or a checksum mismatch
};
FrameState CheckFrame(const char* p, std::size_t available, std::uint32_t* payload_len);

struct IndexEntry {
  Offset offset;
  std::uint64_t position;  // byte position of the record's frame in its segment file
};

struct ScanResult {
  Offset base_offset = 0;
  Offset end_offset = 0;        // one past the last whole record before the first problem
  std::uint64_t valid_bytes = 0;  // file position just after that record
  std::uint64_t file_bytes = 0;
  std::vector<IndexEntry> index;  // sparse, ascending; appended to, from the scan's start
  // Set when the scan stopped before the end of the file.
  enum class Stop { kEndOfFile, kTornTail, kCorrupt } stop = Stop::kEndOfFile;
  std::string problem;  // names the file, byte position and offset
};

struct ScanFrom {
  std::uint64_t position = kHeaderSize;  // where whole records are known to start
  Offset offset = 0;                     // the offset of the record at `position`
  std::uint64_t last_indexed = 0;        // position of the last index entry already known
  bool check_header = true;
};

// Reads `path` from `from` to its end, checking every frame. A problem followed by no whole
// record anywhere after it is a torn tail (only the last segment may have one); a problem with
// a whole record somewhere after it means bytes in the middle of the log went bad: kCorrupt.
// Fails only when the file cannot be read or its header is wrong.
Result<ScanResult> Scan(const std::string& path, const ScanFrom& from,
                        std::uint32_t index_interval_bytes);

}  // namespace isucoin::events::segment
