// FileLog throughput: durable appends with 1, 16 and 256 concurrent appenders of 200-byte
// records, sequential reads, and the group-commit gain. A plain main rather than Google
// Benchmark's loop: the appenders are real threads blocking on fdatasync, and what matters is
// aggregate throughput over a fixed wall-clock window.
//
//   ./scripts/bench log [--seconds S]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "events/file_log.h"

namespace {

using isucoin::events::FileLog;
using isucoin::events::Offset;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kRecordBytes = 200;

std::string TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/log-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

struct AppendRun {
  double appends_per_sec;
  double mb_per_sec;
  Offset records;
};

// `threads` appenders, each appending one record at a time (so with one thread every record
// costs its own fdatasync) for `seconds`.
AppendRun Appends(const std::string& dir, int threads, double seconds) {
  auto opened = FileLog::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  FileLog& log = *opened.value();
  std::atomic<bool> go{false}, stop{false};
  std::atomic<std::uint64_t> appended{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::string rec(kRecordBytes, static_cast<char>('a' + t % 26));
      std::uint64_t mine = 0;
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        std::memcpy(rec.data(), &mine, sizeof mine);
        auto r = log.Append(std::span(&rec, 1));
        if (!r.ok()) {
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        ++mine;
      }
      appended.fetch_add(mine);
    });
  }
  const Offset before = log.End();
  const auto t0 = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& t : ts) t.join();
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  const Offset records = log.End() - before;
  if (records != appended.load()) {
    std::fprintf(stderr, "acknowledged %llu but the log grew by %llu\n",
                 static_cast<unsigned long long>(appended.load()),
                 static_cast<unsigned long long>(records));
    std::exit(1);
  }
  (void)log.Close();
  const double per_sec = static_cast<double>(records) / took;
  return {per_sec, per_sec * kRecordBytes / 1e6, log.End()};
}

// Sequential reads of the whole log, in pages of `page` records, repeated for `seconds`.
double Reads(const std::string& dir, std::size_t page, double seconds) {
  isucoin::events::FileLogOptions ro;
  ro.read_only = true;
  auto opened = FileLog::Open(dir, ro);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  FileLog& log = *opened.value();
  const Offset end = log.End();
  std::uint64_t read = 0, bytes = 0;
  const auto t0 = Clock::now();
  double took = 0;
  do {
    for (Offset next = 0; next < end;) {
      auto r = log.Read(next, page);
      if (!r.ok() || r.value().empty()) {
        std::fprintf(stderr, "read: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      next += r.value().size();
      read += r.value().size();
      for (const auto& rec : r.value()) bytes += rec.payload.size();
    }
    took = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (took < seconds);
  if (bytes != read * kRecordBytes) std::exit(1);
  return static_cast<double>(read) / took;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
  }
  const std::string root = TempDir();
  std::printf("FileLog in %s, %zu-byte records, %.1f s per figure\n", root.c_str(), kRecordBytes,
              seconds);

  AppendRun runs[3];
  const int thread_counts[3] = {1, 16, 256};
  for (int i = 0; i < 3; ++i) {
    const std::string dir = root + "/appenders-" + std::to_string(thread_counts[i]);
    runs[i] = Appends(dir, thread_counts[i], seconds);
    std::printf("%4d appenders: %10.0f durable appends/s  %7.1f MB/s  (%llu records)\n",
                thread_counts[i], runs[i].appends_per_sec, runs[i].mb_per_sec,
                static_cast<unsigned long long>(runs[i].records));
    std::fflush(stdout);
  }
  // One appender of single records waits for its own fdatasync every time: that is the
  // one-sync-per-record figure the group commit is measured against.
  const double per_record_sync = runs[0].appends_per_sec;
  const double reads = Reads(root + "/appenders-256", 4096, seconds);
  std::printf("sequential reads: %.0f records/s (pages of 4096 over %llu records)\n", reads,
              static_cast<unsigned long long>(runs[2].records));

  std::error_code ec;
  std::filesystem::remove_all(root, ec);

  std::printf("RESULT log_durable_appends_per_sec_256 %.0f appends/s\n", runs[2].appends_per_sec);
  std::printf("RESULT log_durable_appends_per_sec_16 %.0f appends/s\n", runs[1].appends_per_sec);
  std::printf("RESULT log_durable_appends_per_sec_1 %.0f appends/s\n", runs[0].appends_per_sec);
  std::printf("RESULT log_reads_per_sec %.0f records/s\n", reads);
  std::printf("RESULT log_group_commit_gain %.1f x\n", runs[2].appends_per_sec / per_record_sync);
  std::printf("RESULT log_durable_mb_per_sec_256 %.1f MB/s\n", runs[2].mb_per_sec);
  std::printf("RESULT log_durable_mb_per_sec_16 %.1f MB/s\n", runs[1].mb_per_sec);
  std::printf("RESULT log_durable_mb_per_sec_1 %.1f MB/s\n", runs[0].mb_per_sec);
  return 0;
}
