#include "replay/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "events/crc32c.h"

namespace isucoin::replay {

namespace {

constexpr char kMagic[8] = {'I', 'S', 'U', 'S', 'N', 'A', 'P', '\0'};

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t GetLE(std::string_view in, std::size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(in[pos + i])) << (8 * i);
  return v;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IOError(Errno("open " + dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(Errno("fsync " + dir));
  return Status::Ok();
}

std::string FileName(SnapshotKind kind, std::uint64_t offset) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%020llu.snap", SnapshotKindName(kind),
                static_cast<unsigned long long>(offset));
  return buf;
}

}  // namespace

const char* SnapshotKindName(SnapshotKind kind) {
  return kind == SnapshotKind::kMatcher ? "matcher" : "readmodel";
}

std::string EncodeSnapshot(SnapshotKind kind, std::uint64_t offset, std::string_view body) {
  std::string out;
  out.reserve(kSnapshotHeaderBytes + body.size() + 4);
  out.append(kMagic, sizeof kMagic);
  PutU32(out, kSnapshotVersion);
  PutU32(out, static_cast<std::uint32_t>(kind));
  PutU64(out, offset);
  PutU64(out, body.size());
  PutU32(out, events::Crc32c(out.data(), out.size()));
  out.append(body);
  PutU32(out, events::Crc32c(body.data(), body.size()));
  return out;
}

Result<SnapshotData> DecodeSnapshot(std::string_view file) {
  if (file.size() < kSnapshotHeaderBytes + 4) return Status::Corruption("shorter than a header");
  if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) return Status::Corruption("bad magic");
  if (GetLE(file, 32, 4) != events::Crc32c(file.data(), 32)) {
    return Status::Corruption("header checksum mismatch");
  }
  const auto version = GetLE(file, 8, 4);
  if (version != kSnapshotVersion) {
    return Status::Corruption("unknown version " + std::to_string(version));
  }
  const auto kind = GetLE(file, 12, 4);
  if (kind != 1 && kind != 2) return Status::Corruption("unknown kind " + std::to_string(kind));
  const std::uint64_t length = GetLE(file, 24, 8);
  if (length != file.size() - kSnapshotHeaderBytes - 4) {
    return Status::Corruption("body length " + std::to_string(length) + " but the file holds " +
                              std::to_string(file.size() - kSnapshotHeaderBytes - 4) +
                              " bytes (truncated or appended to)");
  }
  std::string_view body = file.substr(kSnapshotHeaderBytes, length);
  if (GetLE(file, kSnapshotHeaderBytes + length, 4) != events::Crc32c(body.data(), body.size())) {
    return Status::Corruption("body checksum mismatch");
  }
  return SnapshotData{static_cast<SnapshotKind>(kind), GetLE(file, 16, 8), std::string(body), {}};
}

Status WriteSnapshotFile(const std::string& path, SnapshotKind kind, std::uint64_t offset,
                         std::string_view body) {
  const std::string bytes = EncodeSnapshot(kind, offset, body);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(Errno("open " + tmp));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Status::IOError(Errno("write " + tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Status::IOError(Errno("fsync " + tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::close(fd) != 0) return Status::IOError(Errno("close " + tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::IOError(Errno("rename " + tmp));
    ::unlink(tmp.c_str());
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

Result<SnapshotData> ReadSnapshotFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("cannot read " + path);
  auto decoded = DecodeSnapshot(bytes);
  if (!decoded.ok()) return Status::Corruption(path + ": " + decoded.status().message());
  SnapshotData data = std::move(decoded).value();
  data.path = path;
  return data;
}

SnapshotStore::SnapshotStore(std::string dir, std::size_t keep, WarningSink warn)
    : dir_(std::move(dir)), keep_(std::max<std::size_t>(keep, 1)), warn_(std::move(warn)) {}

void SnapshotStore::Warn(const std::string& message) const {
  if (warn_) {
    warn_(message);
  } else {
    std::fprintf(stderr, "isucoin: warning: %s\n", message.c_str());
  }
}

Result<std::string> SnapshotStore::Write(SnapshotKind kind, std::uint64_t offset,
                                         std::string_view body) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::IOError("cannot create " + dir_ + ": " + ec.message());
  const std::string path = dir_ + "/" + FileName(kind, offset);
  if (Status s = WriteSnapshotFile(path, kind, offset, body); !s.ok()) return s;
  std::vector<SnapshotEntry> all = List(kind);
  for (std::size_t i = keep_; i < all.size(); ++i) {
    if (std::filesystem::remove(all[i].path, ec); ec) {
      Warn("cannot delete old snapshot " + all[i].path + ": " + ec.message());
    }
  }
  return path;
}

std::vector<SnapshotEntry> SnapshotStore::List(SnapshotKind kind) const {
  std::vector<SnapshotEntry> out;
  std::error_code ec;
  const std::string prefix = std::string(SnapshotKindName(kind)) + "-";
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != prefix.size() + 20 + 5 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 5, 5, ".snap") != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.push_back(SnapshotEntry{entry.path().string(), kind, std::stoull(digits)});
  }
  std::sort(out.begin(), out.end(),
            [](const SnapshotEntry& a, const SnapshotEntry& b) { return a.offset > b.offset; });
  return out;
}

std::optional<SnapshotData> SnapshotStore::LoadNewest(SnapshotKind kind,
                                                      std::uint64_t max_offset) const {
  for (const SnapshotEntry& entry : List(kind)) {
    if (entry.offset > max_offset) continue;
    auto data = ReadSnapshotFile(entry.path);
    if (!data.ok()) {
      Warn("skipping snapshot: " + data.status().message());  // the message names the file
      continue;
    }
    if (data.value().kind != kind || data.value().offset != entry.offset) {
      Warn("skipping snapshot " + entry.path + ": header says " +
           SnapshotKindName(data.value().kind) + " at " + std::to_string(data.value().offset) +
           ", not what its name says");
      continue;
    }
    return std::move(data).value();
  }
  return std::nullopt;
}

}  // namespace isucoin::replay
