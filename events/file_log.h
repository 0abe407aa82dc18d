// FileLog: the embedded Log backend (DESIGN.md "The two logs"; format in LOG_FORMAT.md).
//
// A directory of segment files holding framed, checksummed records. Appends from any number
// of threads are gathered by one committer thread into group commits: one write and one
// fdatasync acknowledge every batch queued while the previous sync ran, so durability costs
// one sync per group, not per record.
//
// Opening scans every segment, checking every checksum, and rebuilds the in-memory sparse
// index (there is no index file to keep consistent; opening costs one sequential read of the
// log). A torn tail of the last segment — the bytes of a group commit that was never
// acknowledged — is cut back to the last whole record; damage with a whole record after it is
// Corruption, reported with the segment file, byte position and log offset, and Open fails.
//
// One writer per directory, enforced with flock on <dir>/LOCK. Readers in the same process
// share the writer's FileLog (WaitFor is woken by every commit). Readers in other processes
// open with `read_only`: they take no lock, never modify a file, see the log as of Open, and
// pick up later appends with Refresh() (WaitFor polls it). Caveat: another process reads
// records as soon as the writer has written them, slightly before their fdatasync returns —
// they survive a writer crash but, for that instant, not a power loss.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "events/log.h"
#include "events/log_segment.h"
#include "events/status.h"

namespace isucoin::events {

struct FileLogOptions {
  // A segment is closed once it holds this many bytes (the group commit that crosses the
  // size still ends in it), bounding what a retention job or a copy deals with at once.
  std::uint64_t segment_bytes = 64ull << 20;
  // One in-memory index entry per this many bytes of records: a Read starts scanning at
  // most this far before its offset.
  std::uint32_t index_interval_bytes = 4096;
  // Never writes, never takes the writer lock, never truncates a torn tail (just stops at it).
  bool read_only = false;
};

// What FileLog::Verify found; nothing is modified to find it.
struct LogVerifyReport {
  std::uint64_t records = 0;   // whole records before the first problem
  std::uint64_t segments = 0;  // segment files examined
  std::uint64_t bytes = 0;     // total size of the segment files
  // OK, or the first problem (Corruption names segment, byte position and offset). A torn
  // tail is not a problem: Open would cut it back and lose nothing acknowledged.
  Status status;
  std::optional<std::string> torn_tail;  // describes it when the last segment has one
  bool ok() const { return status.ok(); }
};

class FileLog final : public Log {
 public:
  using Options = FileLogOptions;

  // Creates `dir` (and missing parents) when it does not exist, unless read-only.
  static Result<std::unique_ptr<FileLog>> Open(const std::string& dir, Options options = {});
  static LogVerifyReport Verify(const std::string& dir);

  ~FileLog() override;
  FileLog(const FileLog&) = delete;
  FileLog& operator=(const FileLog&) = delete;

  Result<Offset> Append(std::span<const std::string> payloads) override;
  Result<std::vector<LogRecord>> Read(Offset from, std::size_t max_records) override;
  Offset WaitFor(Offset offset, std::chrono::milliseconds timeout) override;
  Offset End() const override { return durable_end_.load(std::memory_order_acquire); }
  Status Close() override;

  // Read-only logs: takes in what the writer appended since Open or the last Refresh.
  Result<Offset> Refresh();

  // How many bytes Open cut from a torn tail (0 when the log was clean).
  std::uint64_t truncated_bytes_on_open() const { return truncated_bytes_; }
  std::size_t segment_count() const;

 private:
  struct Segment;
  FileLog(std::string dir, Options options);

  Status TakeWriterLock();
  Status Load();  // scans every segment, fills segments_, cuts a torn tail
  // Scans the segment named for `base` and appends it to segments_; `expected_base` is where
  // the previous segment ended (nullopt for the first).
  Status AdoptSegment(Offset base, bool is_last, std::optional<Offset> expected_base);
  Result<std::vector<Offset>> ListSegments() const;
  Status CreateSegment(Offset base);  // durably: header synced, file renamed, directory synced
  Status Commit(const std::string& frames, Offset first, Offset end);
  void CommitLoop();
  void Fail(Status s);
  void WakeWaiters();
  // Appends the records [from, limit) that `seg` holds to `out`, scanning from `position`
  // (the frame of record `position_offset`) up to its durable `size`.
  Status ReadSegment(const Segment& seg, std::uint64_t position, Offset position_offset,
                     std::uint64_t size, Offset from, Offset limit, std::vector<LogRecord>* out);
  std::string SegmentPath(Offset base) const;

  const std::string dir_;
  const Options options_;
  int lock_fd_ = -1;
  int dir_fd_ = -1;
  std::uint64_t truncated_bytes_ = 0;

  // Segments and their sparse indexes; readers hold a shared_ptr while reading unlocked.
  mutable std::mutex meta_mu_;
  std::vector<std::shared_ptr<Segment>> segments_;

  // The append queue: frames already encoded and in offset order.
  std::mutex queue_mu_;
  std::condition_variable work_cv_;
  std::string pending_;
  Offset next_offset_ = 0;  // offset the next queued record gets
  bool committer_idle_ = false;
  bool closing_ = false;
  Status failed_;  // sticky: after a failed write or sync, nothing more is acknowledged

  std::atomic<Offset> durable_end_{0};
  std::atomic<bool> failed_flag_{false};
  std::atomic<bool> closed_{false};
  // Bumped after every commit; appenders futex-wait on it (one wake for the whole group,
  // no mutex to fight over on the way out).
  std::atomic<std::uint32_t> commit_generation_{0};
  // WaitFor's followers sleep here.
  std::mutex follow_mu_;
  std::condition_variable follow_cv_;

  std::mutex refresh_mu_;  // read-only: one Refresh at a time
  std::mutex close_mu_;
  std::thread committer_;
};

}  // namespace isucoin::events
