#include "events/file_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace isucoin::events {

namespace fs = std::filesystem;
using segment::FrameState;
using segment::IndexEntry;
using segment::kFrameHeaderSize;
using segment::kHeaderSize;

struct FileLog::Segment {
  std::string path;
  Offset base = 0;
  int fd = -1;
  // Guarded by meta_mu_ (written only by the committer, or by Load/Refresh).
  std::uint64_t size = 0;  // bytes readers may read: only whole, durable records
  Offset end = 0;          // one past its last durable record
  std::vector<IndexEntry> index;
  std::uint64_t last_indexed = kHeaderSize;

  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(int fd, const char* p, std::size_t n, std::uint64_t at, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::IOError(Errno("write", path));
    p += w;
    n -= static_cast<std::size_t>(w);
    at += static_cast<std::uint64_t>(w);
  }
  return Status::Ok();
}

std::uint32_t FrameLength(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

FileLog::FileLog(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}

FileLog::~FileLog() { Close(); }

std::string FileLog::SegmentPath(Offset base) const {
  return dir_ + "/" + segment::FileName(base);
}

Result<std::unique_ptr<FileLog>> FileLog::Open(const std::string& dir, Options options) {
  if (options.segment_bytes < kHeaderSize + kFrameHeaderSize) {
    return Status::Invalid("segment_bytes too small");
  }
  if (options.index_interval_bytes == 0) return Status::Invalid("index_interval_bytes is 0");
  std::error_code ec;
  if (options.read_only) {
    if (!fs::is_directory(dir, ec)) return Status::NotFound("no log directory " + dir);
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  }
  std::unique_ptr<FileLog> log(new FileLog(dir, options));
  log->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (log->dir_fd_ < 0) return Status::IOError(Errno("open", dir));
  if (!options.read_only) {
    if (Status s = log->TakeWriterLock(); !s.ok()) return s;
  }
  if (Status s = log->Load(); !s.ok()) return s;
  if (!options.read_only) log->committer_ = std::thread([l = log.get()] { l->CommitLoop(); });
  return log;
}

Status FileLog::TakeWriterLock() {
  const std::string path = dir_ + "/LOCK";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::IOError(Errno("open", path));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::IOError(Errno("flock", path));
    char pid[32] = {};
    ssize_t n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(lock_fd_);
    lock_fd_ = -1;
    return Status::Busy("log " + dir_ + " already has a writer (pid " + holder +
                        " holds " + path + "); a FileLog allows one writer, open read-only "
                        "to read it");
  }
  // For the message a second writer gets; the flock, not this text, is the lock.
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) == 0) (void)!::pwrite(lock_fd_, me.data(), me.size(), 0);
  return Status::Ok();
}

Result<std::vector<Offset>> FileLog::ListSegments() const {
  std::vector<Offset> bases;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    Offset base = 0;
    if (segment::ParseFileName(name, &base)) {
      bases.push_back(base);
    } else if (!options_.read_only && name.size() > 4 &&
               name.compare(name.size() - 4, 4, ".tmp") == 0) {
      // A segment whose creation never finished: it was never renamed, so never used.
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
  if (ec) return Status::IOError("list " + dir_ + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  return bases;
}

Status FileLog::AdoptSegment(Offset base, bool is_last, std::optional<Offset> expected_base) {
  const std::string path = SegmentPath(base);
  auto scanned = segment::Scan(path, segment::ScanFrom{}, options_.index_interval_bytes);
  if (!scanned.ok()) return scanned.status();
  segment::ScanResult& r = scanned.value();
  if (r.base_offset != base) {
    return Status::Corruption("segment " + path + ": header says base offset " +
                              std::to_string(r.base_offset) + ", the name says " +
                              std::to_string(base));
  }
  if (expected_base && *expected_base != base) {
    return Status::Corruption("segment " + path + " starts at offset " + std::to_string(base) +
                              " but the previous segment ends at " +
                              std::to_string(*expected_base) + ": records are missing");
  }
  using Stop = segment::ScanResult::Stop;
  if (r.stop == Stop::kCorrupt) return Status::Corruption(r.problem);
  if (r.stop == Stop::kTornTail && !is_last) {
    // Only the newest segment can be mid-commit; an older one was synced whole before the
    // next was created.
    return Status::Corruption(r.problem + "; only the last segment may end mid-record");
  }
  const bool writable = is_last && !options_.read_only;
  auto seg = std::make_shared<Segment>();
  seg->path = path;
  seg->base = base;
  seg->fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (seg->fd < 0) return Status::IOError(Errno("open", path));
  if (r.stop == Stop::kTornTail && writable) {
    // The tail was never acknowledged (its sync never returned): cut it so that new records
    // follow the last whole one.
    if (::ftruncate(seg->fd, static_cast<off_t>(r.valid_bytes)) != 0 || ::fdatasync(seg->fd) != 0) {
      return Status::IOError(Errno("truncate torn tail of", path));
    }
    truncated_bytes_ = r.file_bytes - r.valid_bytes;
  }
  seg->size = r.valid_bytes;
  seg->end = r.end_offset;
  seg->index = std::move(r.index);
  if (!seg->index.empty()) seg->last_indexed = seg->index.back().position;
  std::lock_guard lk(meta_mu_);
  segments_.push_back(std::move(seg));
  return Status::Ok();
}

Status FileLog::Load() {
  auto bases = ListSegments();
  if (!bases.ok()) return bases.status();
  std::optional<Offset> expected;
  for (std::size_t i = 0; i < bases.value().size(); ++i) {
    const bool last = i + 1 == bases.value().size();
    if (Status s = AdoptSegment(bases.value()[i], last, expected); !s.ok()) return s;
    std::lock_guard lk(meta_mu_);
    expected = segments_.back()->end;
  }
  if (segments_.empty() && !options_.read_only) {
    if (Status s = CreateSegment(0); !s.ok()) return s;
  }
  const Offset end = expected.value_or(0);
  next_offset_ = end;
  durable_end_.store(end, std::memory_order_release);
  return Status::Ok();
}

Status FileLog::CreateSegment(Offset base) {
  const std::string path = SegmentPath(base);
  const std::string tmp = path + ".tmp";
  const std::string header = segment::EncodeHeader(base);
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(Errno("create", tmp));
  Status s = WriteAll(fd, header.data(), header.size(), 0, tmp);
  if (s.ok() && ::fdatasync(fd) != 0) s = Status::IOError(Errno("sync", tmp));
  // Renamed only once the header is durable, so a file with a segment's name always has one.
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Status::IOError(Errno("rename", tmp));
  // The new name must survive a crash before any record acknowledged in it does.
  if (s.ok() && ::fsync(dir_fd_) != 0) s = Status::IOError(Errno("sync directory", dir_));
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  auto seg = std::make_shared<Segment>();
  seg->path = path;
  seg->base = base;
  seg->fd = fd;
  seg->size = kHeaderSize;
  seg->end = base;
  std::lock_guard lk(meta_mu_);
  segments_.push_back(std::move(seg));
  return Status::Ok();
}

Result<Offset> FileLog::Append(std::span<const std::string> payloads) {
  if (options_.read_only) return Status::Invalid("log " + dir_ + " is open read-only");
  std::size_t bytes = 0;
  for (const auto& p : payloads) {
    if (p.size() > segment::kMaxPayload) {
      return Status::Invalid("record of " + std::to_string(p.size()) + " bytes exceeds the " +
                             std::to_string(segment::kMaxPayload) + "-byte limit");
    }
    bytes += kFrameHeaderSize + p.size();
  }
  // Checksums are computed here, on the appender's thread, so the committer only copies.
  thread_local std::string frames;
  frames.clear();
  frames.reserve(bytes);
  for (const auto& p : payloads) segment::AppendFrame(p, &frames);

  Offset first = 0, target = 0;
  bool wake = false;
  {
    std::lock_guard lk(queue_mu_);
    if (closing_) return Status::Closed("log " + dir_ + " is closed");
    if (!failed_.ok()) return failed_;
    first = next_offset_;
    if (payloads.empty()) return first;
    next_offset_ += payloads.size();
    target = next_offset_;
    pending_.append(frames);
    wake = committer_idle_;
  }
  if (frames.capacity() > (1u << 20)) std::string().swap(frames);
  if (wake) work_cv_.notify_one();

  for (;;) {
    const std::uint32_t gen = commit_generation_.load(std::memory_order_acquire);
    if (durable_end_.load(std::memory_order_acquire) >= target) return first;
    if (failed_flag_.load(std::memory_order_acquire)) {
      std::lock_guard lk(queue_mu_);
      return failed_;
    }
    commit_generation_.wait(gen, std::memory_order_acquire);
  }
}

void FileLog::CommitLoop() {
  std::string writing;
  for (;;) {
    Offset end = 0;
    {
      std::unique_lock lk(queue_mu_);
      committer_idle_ = true;
      work_cv_.wait(lk, [&] { return !pending_.empty() || closing_; });
      committer_idle_ = false;
      if (pending_.empty()) return;  // closing, and everything queued is committed
      pending_.swap(writing);
      end = next_offset_;
    }
    const Offset first = durable_end_.load(std::memory_order_relaxed);
    Status s = Commit(writing, first, end);
    writing.clear();
    if (!s.ok()) {
      Fail(std::move(s));
      continue;
    }
    durable_end_.store(end, std::memory_order_release);
    WakeWaiters();
  }
}

Status FileLog::Commit(const std::string& frames, Offset first, Offset end) {
  std::shared_ptr<Segment> active;
  {
    std::lock_guard lk(meta_mu_);
    active = segments_.back();
  }
  if (active->size >= options_.segment_bytes && active->end > active->base) {
    if (Status s = CreateSegment(first); !s.ok()) return s;
    std::lock_guard lk(meta_mu_);
    active = segments_.back();
  }
  if (Status s = WriteAll(active->fd, frames.data(), frames.size(), active->size, active->path);
      !s.ok()) {
    return s;
  }
  if (::fdatasync(active->fd) != 0) return Status::IOError(Errno("sync", active->path));

  // Only the committer changes the active segment, so reading its fields here is safe.
  std::vector<IndexEntry> entries;
  std::uint64_t last_indexed = active->last_indexed;
  std::uint64_t pos = active->size;
  Offset off = first;
  for (std::size_t i = 0; i < frames.size(); ++off) {
    if (pos - last_indexed >= options_.index_interval_bytes) {
      entries.push_back({off, pos});
      last_indexed = pos;
    }
    const std::size_t frame = kFrameHeaderSize + FrameLength(frames.data() + i);
    i += frame;
    pos += frame;
  }
  std::lock_guard lk(meta_mu_);
  active->index.insert(active->index.end(), entries.begin(), entries.end());
  active->last_indexed = last_indexed;
  active->size = pos;
  active->end = end;
  return Status::Ok();
}

void FileLog::Fail(Status s) {
  {
    std::lock_guard lk(queue_mu_);
    // What reached the file is unknown after a failed write or sync (and a retried fsync can
    // report success for pages the kernel already dropped), so acknowledge nothing more.
    if (failed_.ok()) failed_ = std::move(s);
    pending_.clear();
  }
  failed_flag_.store(true, std::memory_order_release);
  WakeWaiters();
}

void FileLog::WakeWaiters() {
  commit_generation_.fetch_add(1, std::memory_order_release);
  commit_generation_.notify_all();
  { std::lock_guard lk(follow_mu_); }  // a follower between its check and its wait sees us
  follow_cv_.notify_all();
}

Result<std::vector<LogRecord>> FileLog::Read(Offset from, std::size_t max_records) {
  if (closed_.load(std::memory_order_acquire)) {
    return Status::Closed("log " + dir_ + " is closed");
  }
  std::vector<LogRecord> out;
  const Offset end = End();
  if (from >= end || max_records == 0) return out;
  const Offset limit = from + std::min<Offset>(max_records, end - from);
  out.reserve(std::min<Offset>(limit - from, 1 << 16));
  Offset next = from;
  while (next < limit) {
    std::shared_ptr<Segment> seg;
    std::uint64_t position = kHeaderSize, size = 0;
    Offset position_offset = 0;
    {
      std::lock_guard lk(meta_mu_);
      if (segments_.empty()) return Status::Closed("log " + dir_ + " is closed");
      auto it = std::upper_bound(segments_.begin(), segments_.end(), next,
                                 [](Offset o, const auto& s) { return o < s->base; });
      if (it == segments_.begin()) return Status::Corruption("no segment holds offset " + std::to_string(next));
      seg = *std::prev(it);
      position_offset = seg->base;
      auto ix = std::upper_bound(seg->index.begin(), seg->index.end(), next,
                                 [](Offset o, const IndexEntry& e) { return o < e.offset; });
      if (ix != seg->index.begin()) {
        position = std::prev(ix)->position;
        position_offset = std::prev(ix)->offset;
      }
      size = seg->size;
    }
    const std::size_t before = out.size();
    if (Status s = ReadSegment(*seg, position, position_offset, size, next, limit, &out);
        !s.ok()) {
      return s;
    }
    if (out.size() == before) {
      return Status::Corruption("segment " + seg->path + " holds no record at offset " +
                                std::to_string(next));
    }
    next = out.back().offset + 1;
  }
  return out;
}

Status FileLog::ReadSegment(const Segment& seg, std::uint64_t position, Offset position_offset,
                            std::uint64_t size, Offset from, Offset limit,
                            std::vector<LogRecord>* out) {
  // Sized for the request (from the index entry up to the records asked for), so a follower
  // reading a few records does not read a megabyte.
  constexpr std::size_t kMaxChunk = 1 << 20;
  const std::uint64_t wanted = options_.index_interval_bytes + (limit - from) * 256 + 4096;
  std::string buf;
  std::uint64_t buf_pos = position;  // file position of buf[0]
  std::size_t at = 0;                // parse position in buf
  auto fill = [&](std::size_t need) -> Status {
    // Keep the unparsed tail, read at least `need` more bytes than it holds.
    buf.erase(0, at);
    buf_pos += at;
    at = 0;
    const std::uint64_t file_left = size - (buf_pos + buf.size());
    std::size_t want = std::max<std::size_t>(need, std::min<std::uint64_t>(wanted, kMaxChunk));
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, file_left));
    const std::size_t old = buf.size();
    buf.resize(old + want);
    std::size_t done = 0;
    while (done < want) {
      ssize_t n = ::pread(seg.fd, buf.data() + old + done, want - done,
                          static_cast<off_t>(buf_pos + old + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(Errno("read", seg.path));
      if (n == 0) {
        return Status::Corruption("segment " + seg.path + " is shorter than its " +
                                  std::to_string(size) + " durable bytes");
      }
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  };

  Offset off = position_offset;
  while (off < limit && buf_pos + at < size) {
    std::uint32_t len = 0;
    FrameState st = segment::CheckFrame(buf.data() + at, buf.size() - at, &len);
    if (st == FrameState::kIncomplete) {
      const std::size_t have = buf.size() - at;
      std::size_t need = kFrameHeaderSize;
      if (have >= kFrameHeaderSize) need = kFrameHeaderSize + FrameLength(buf.data() + at);
      if (buf_pos + at + need > size) {
        return Status::Corruption("record in segment " + seg.path + " at byte " +
                                  std::to_string(buf_pos + at) + " (log offset " +
                                  std::to_string(off) + ") runs past the durable end");
      }
      if (Status s = fill(need - have); !s.ok()) return s;
      continue;
    }
    if (st == FrameState::kBad) {
      return Status::Corruption("corrupt record in segment " + seg.path + " at byte " +
                                std::to_string(buf_pos + at) + " (log offset " +
                                std::to_string(off) + "): bad length or checksum");
    }
    if (off >= from) {
      out->push_back(LogRecord{off, std::string(buf.data() + at + kFrameHeaderSize, len)});
    }
    at += kFrameHeaderSize + len;
    ++off;
  }
  return Status::Ok();
}

Offset FileLog::WaitFor(Offset offset, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (options_.read_only) {
    // Another process writes: no notification crosses processes, so poll the files.
    for (;;) {
      if (End() > offset || closed_.load()) return End();
      (void)Refresh();
      if (End() > offset) return End();
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return End();
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          deadline - now, std::chrono::milliseconds(5)));
    }
  }
  std::unique_lock lk(follow_mu_);
  follow_cv_.wait_until(lk, deadline, [&] { return End() > offset || closed_.load(); });
  return End();
}

Result<Offset> FileLog::Refresh() {
  if (!options_.read_only) return End();
  if (closed_.load()) return Status::Closed("log " + dir_ + " is closed");
  std::lock_guard rl(refresh_mu_);
  // Listed before the last segment is rescanned: a segment that exists now was created
  // after its predecessor was synced whole, so the rescan sees that predecessor complete.
  auto bases = ListSegments();
  if (!bases.ok()) return bases.status();
  std::shared_ptr<Segment> last;
  {
    std::lock_guard lk(meta_mu_);
    if (!segments_.empty()) last = segments_.back();
  }
  Offset end = 0;
  if (last) {
    segment::ScanFrom from;
    {
      std::lock_guard lk(meta_mu_);
      from.position = last->size;
      from.offset = last->end;
      from.last_indexed = last->last_indexed;
    }
    from.check_header = false;
    auto r = segment::Scan(last->path, from, options_.index_interval_bytes);
    if (!r.ok()) return r.status();
    if (r.value().stop == segment::ScanResult::Stop::kCorrupt) {
      return Status::Corruption(r.value().problem);
    }
    std::lock_guard lk(meta_mu_);
    auto& idx = r.value().index;
    last->index.insert(last->index.end(), idx.begin(), idx.end());
    if (!last->index.empty()) last->last_indexed = last->index.back().position;
    last->size = r.value().valid_bytes;
    last->end = r.value().end_offset;
    end = last->end;
  }
  std::optional<Offset> expected;
  if (last) expected = end;
  const auto& all = bases.value();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (last && all[i] <= last->base) continue;
    if (Status s = AdoptSegment(all[i], i + 1 == all.size(), expected); !s.ok()) return s;
    std::lock_guard lk(meta_mu_);
    expected = end = segments_.back()->end;
  }
  if (end > durable_end_.load()) {
    durable_end_.store(end, std::memory_order_release);
    WakeWaiters();
  }
  return End();
}

std::size_t FileLog::segment_count() const {
  std::lock_guard lk(meta_mu_);
  return segments_.size();
}

Status FileLog::Close() {
  std::lock_guard cl(close_mu_);
  if (closed_.load()) return Status::Ok();
  {
    std::lock_guard lk(queue_mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  closed_.store(true, std::memory_order_release);
  WakeWaiters();
  {
    std::lock_guard lk(meta_mu_);
    segments_.clear();  // readers still holding a segment keep its descriptor until done
  }
  if (dir_fd_ >= 0) ::close(dir_fd_);
  dir_fd_ = -1;
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the writer lock
  lock_fd_ = -1;
  std::lock_guard lk(queue_mu_);
  return failed_;
}

LogVerifyReport FileLog::Verify(const std::string& dir) {
  LogVerifyReport report;
  Options options;
  options.read_only = true;  // never lists-and-deletes .tmp files, never truncates
  FileLog probe(dir, options);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    report.status = Status::NotFound("no log directory " + dir);
    return report;
  }
  auto bases = probe.ListSegments();
  if (!bases.ok()) {
    report.status = bases.status();
    return report;
  }
  std::optional<Offset> expected;
  for (std::size_t i = 0; i < bases.value().size(); ++i) {
    const Offset base = bases.value()[i];
    const std::string path = probe.SegmentPath(base);
    ++report.segments;
    auto r = segment::Scan(path, segment::ScanFrom{}, options.index_interval_bytes);
    if (!r.ok()) {
      report.status = r.status();
      return report;
    }
    report.bytes += r.value().file_bytes;
    if (r.value().base_offset != base) {
      report.status = Status::Corruption("segment " + path + ": header says base offset " +
                                         std::to_string(r.value().base_offset));
      return report;
    }
    if (expected && *expected != base) {
      report.status = Status::Corruption("segment " + path + " starts at offset " +
                                         std::to_string(base) + " but the previous ends at " +
                                         std::to_string(*expected));
      return report;
    }
    report.records += r.value().end_offset - base;
    using Stop = segment::ScanResult::Stop;
    const bool last = i + 1 == bases.value().size();
    if (r.value().stop == Stop::kCorrupt || (r.value().stop == Stop::kTornTail && !last)) {
      report.status = Status::Corruption(r.value().problem);
      return report;
    }
    if (r.value().stop == Stop::kTornTail) report.torn_tail = r.value().problem;
    expected = r.value().end_offset;
  }
  return report;
}

}  // namespace isucoin::events
