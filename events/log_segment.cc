#include "events/log_segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "events/crc32c.h"

namespace isucoin::events::segment {
namespace {

// Little-endian on disk whatever the host; every supported host is little-endian, so these
// compile to plain loads and stores.
void Put32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void Put64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
std::uint32_t Get32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint64_t Get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Where(const std::string& path, std::uint64_t position, Offset offset) {
  return "segment " + path + " at byte " + std::to_string(position) + " (log offset " +
         std::to_string(offset) + ")";
}

Status ReadAll(const std::string& path, std::uint64_t from, std::string* out,
               std::uint64_t* file_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Status::IOError("stat " + path + ": " + std::strerror(e));
  }
  *file_bytes = static_cast<std::uint64_t>(st.st_size);
  out->clear();
  if (*file_bytes > from) out->resize(*file_bytes - from);
  std::size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::pread(fd, out->data() + done, out->size() - done,
                        static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Status::IOError("read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;  // shrunk while we read: what we have is what there is
    done += static_cast<std::size_t>(n);
  }
  out->resize(done);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

std::string FileName(Offset base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu%s", static_cast<unsigned long long>(base_offset),
                kSuffix);
  return buf;
}

bool ParseFileName(std::string_view name, Offset* base_offset) {
  const std::string_view suffix(kSuffix);
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, *base_offset);
  return ec == std::errc() && ptr == name.data() + 20;
}

std::string EncodeHeader(Offset base_offset) {
  std::string h(kHeaderSize, '\0');
  std::memcpy(h.data(), kMagic, sizeof kMagic);
  Put32(h.data() + 8, kVersion);
  Put32(h.data() + 12, 0);  // flags, none defined
  Put64(h.data() + 16, base_offset);
  Put32(h.data() + 24, 0);  // reserved
  Put32(h.data() + 28, Crc32c(h.data(), 28));
  return h;
}

void AppendFrame(std::string_view payload, std::string* out) {
  const std::size_t at = out->size();
  out->resize(at + kFrameHeaderSize + payload.size());
  char* p = out->data() + at;
  Put32(p, static_cast<std::uint32_t>(payload.size()));
  std::memcpy(p + kFrameHeaderSize, payload.data(), payload.size());
  std::uint32_t crc = Crc32c(p, 4);
  crc = Crc32cExtend(crc, p + kFrameHeaderSize, payload.size());
  Put32(p + 4, crc);
}

FrameState CheckFrame(const char* p, std::size_t available, std::uint32_t* payload_len) {
  if (available < kFrameHeaderSize) return FrameState::kIncomplete;
  const std::uint32_t len = Get32(p);
  if (len > kMaxPayload) return FrameState::kBad;
  if (available - kFrameHeaderSize < len) return FrameState::kIncomplete;
  std::uint32_t crc = Crc32c(p, 4);
  crc = Crc32cExtend(crc, p + kFrameHeaderSize, len);
  if (crc != Get32(p + 4)) return FrameState::kBad;
  *payload_len = len;
  return FrameState::kWhole;
}

Result<ScanResult> Scan(const std::string& path, const ScanFrom& from,
                        std::uint32_t index_interval_bytes) {
  ScanResult r;
  const std::uint64_t start = from.check_header ? 0 : from.position;
  std::string buf;
  if (Status s = ReadAll(path, start, &buf, &r.file_bytes); !s.ok()) return s;

  std::uint64_t pos = from.position;
  Offset offset = from.offset;
  if (from.check_header) {
    if (buf.size() < kHeaderSize) {
      return Status::Corruption("segment " + path + ": header is " + std::to_string(buf.size()) +
                                " bytes, want " + std::to_string(kHeaderSize));
    }
    const char* h = buf.data();
    if (std::memcmp(h, kMagic, sizeof kMagic) != 0) {
      return Status::Corruption("segment " + path + ": bad magic, not a FileLog segment");
    }
    if (Crc32c(h, 28) != Get32(h + 28)) {
      return Status::Corruption("segment " + path + ": header checksum mismatch");
    }
    if (Get32(h + 8) != kVersion) {
      return Status::Corruption("segment " + path + ": unsupported format version " +
                                std::to_string(Get32(h + 8)));
    }
    offset = Get64(h + 16);
    pos = kHeaderSize;
  }
  r.base_offset = offset;
  // The segment start needs no entry: a reader with no entry below its offset starts there.
  std::uint64_t last_indexed = from.last_indexed > kHeaderSize ? from.last_indexed : kHeaderSize;
  const std::uint64_t end = start + buf.size();
  auto at = [&](std::uint64_t p) { return buf.data() + (p - start); };

  while (pos < end) {
    std::uint32_t len = 0;
    FrameState st = CheckFrame(at(pos), end - pos, &len);
    if (st != FrameState::kWhole) {
      // Is there any whole record after the damage? If so the damage is in the middle.
      for (std::uint64_t q = pos + 1; q + kFrameHeaderSize <= end; ++q) {
        std::uint32_t qlen = 0;
        if (CheckFrame(at(q), end - q, &qlen) == FrameState::kWhole) {
          r.stop = ScanResult::Stop::kCorrupt;
          r.problem = "corrupt record in " + Where(path, pos, offset) +
                      (st == FrameState::kBad ? ": bad length or checksum" : ": cut short") +
                      "; a whole record follows at byte " + std::to_string(q);
          break;
        }
      }
      if (r.stop != ScanResult::Stop::kCorrupt) {
        r.stop = ScanResult::Stop::kTornTail;
        r.problem = "torn tail in " + Where(path, pos, offset) + ": " +
                    std::to_string(end - pos) + " bytes after the last whole record";
      }
      break;
    }
    if (pos - last_indexed >= index_interval_bytes) {
      r.index.push_back({offset, pos});
      last_indexed = pos;
    }
    pos += kFrameHeaderSize + len;
    ++offset;
  }
  r.end_offset = offset;
  r.valid_bytes = pos;
  return r;
}

}  // namespace isucoin::events::segment
