// FileLog under SIGKILL: a child process appends batches from several threads and reports
// every acknowledged batch through a pipe; the parent kills it at a random moment, then checks
// that every acknowledged record survived byte for byte and that everything the log serves is
// a whole record some appender wrote. The same directory is reused across runs, so each run
// also recovers from the previous run's crash (torn tails, half-created segments).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "events/file_log.h"
#include "events/log_segment.h"
#include "tests/support/test_scale.h"

namespace isucoin::events {
namespace {

namespace fs = std::filesystem;

// What the child reports after each acknowledged Append: one write of a few bytes to a pipe,
// atomic (< PIPE_BUF) even with several threads writing.
struct Ack {
  std::uint64_t first;
  std::uint32_t run, thread, batch, count;
};

// The payload of record `i` of a batch: derivable from its identity, so the parent can check
// every byte of everything the log serves, acknowledged or not. Sizes vary from a few bytes to
// 48 KiB so that some group commits are large enough for SIGKILL to stop a write half-way.
std::string Payload(std::uint32_t run, std::uint32_t thread, std::uint32_t batch,
                    std::uint32_t i) {
  std::string p = std::to_string(run) + ":" + std::to_string(thread) + ":" +
                  std::to_string(batch) + ":" + std::to_string(i) + ":";
  std::uint64_t x = run * 1000003ull + thread * 10007ull + batch * 101ull + i;
  auto next = [&x] {  // an LCG: cheap, since the parent regenerates every payload every run
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(x >> 33);
  };
  const std::size_t size = (next() % 16 == 0) ? 1024 + next() % (48 * 1024) : next() % 400;
  for (std::size_t k = 0; k < size; ++k) p.push_back(static_cast<char>('a' + next() % 26));
  return p;
}

bool ParseIdentity(const std::string& p, std::uint32_t id[4]) {
  std::size_t at = 0;
  for (int k = 0; k < 4; ++k) {
    std::size_t colon = p.find(':', at);
    if (colon == std::string::npos) return false;
    id[k] = static_cast<std::uint32_t>(std::strtoul(p.substr(at, colon - at).c_str(), nullptr, 10));
    at = colon + 1;
  }
  return true;
}

FileLogOptions CrashOptions() {
  FileLogOptions o;
  o.segment_bytes = 512 * 1024;  // rolls often, so some kills land on a segment's creation
  o.index_interval_bytes = 1024;
  return o;
}

[[noreturn]] void RunChild(const std::string& dir, std::uint32_t run, int out_fd) {
  auto log = FileLog::Open(dir, CrashOptions());
  if (!log.ok()) {
    std::fprintf(stderr, "child: %s\n", log.status().ToString().c_str());
    std::_Exit(3);
  }
  const int threads = 1 + static_cast<int>(run % 6);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(run * 31 + static_cast<std::uint32_t>(t));
      for (std::uint32_t b = 0;; ++b) {
        const std::uint32_t n = 1 + rng() % 6;
        std::vector<std::string> batch;
        for (std::uint32_t i = 0; i < n; ++i) {
          batch.push_back(Payload(run, static_cast<std::uint32_t>(t), b, i));
        }
        auto r = log.value()->Append(batch);
        if (!r.ok()) std::_Exit(4);
        Ack ack{r.value(), run, static_cast<std::uint32_t>(t), b, n};
        if (::write(out_fd, &ack, sizeof ack) != sizeof ack) std::_Exit(5);
      }
    });
  }
  for (auto& t : ts) t.join();
  std::_Exit(0);
}

// Cuts the last segment at a random point after the last acknowledged record, sometimes
// followed by zeros.
void Tear(const std::string& dir, const std::map<Offset, std::string>& acknowledged,
          std::mt19937& rng) {
  Offset last_base = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    Offset b = 0;
    if (segment::ParseFileName(e.path().filename().string(), &b)) last_base = std::max(last_base, b);
  }
  const std::string path = dir + "/" + segment::FileName(last_base);
  std::uint64_t keep = segment::kHeaderSize;  // bytes holding acknowledged records
  // Unacknowledged records can sit between acknowledged ones (another thread's batch whose
  // ack never made it out): cut only after the last acknowledged record's end, found by
  // walking the records actually in the file.
  if (!acknowledged.empty() && acknowledged.rbegin()->first >= last_base) {
    FileLogOptions ro = CrashOptions();
    ro.read_only = true;
    auto log = FileLog::Open(dir, ro);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto recs = log.value()->Read(last_base, acknowledged.rbegin()->first - last_base + 1);
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    keep = segment::kHeaderSize;
    for (const auto& r : recs.value()) keep += segment::kFrameHeaderSize + r.payload.size();
  }
  const std::uint64_t size = fs::file_size(path);
  if (size <= keep) return;
  const std::uint64_t cut = keep + rng() % (size - keep + 1);
  fs::resize_file(path, cut);
  if (rng() % 3 == 0) fs::resize_file(path, cut + rng() % 8192);  // zeros, as after a power loss
}

TEST(FileLogCrashTest, EveryAcknowledgedRecordSurvivesSigkill) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/filelog-crash-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  // 60 rounds, times ISUCOIN_TEST_SCALE (tests/support/test_scale.h): unset in normal runs, so
  // all 60; fewer under sanitizers.
  const int kRuns = static_cast<int>(test_support::Scaled(60, 10));
  std::mt19937 rng(12345);
  std::map<Offset, std::string> acknowledged;  // every record ever acknowledged, by offset
  int runs_with_torn_tail = 0;
  const auto started = std::chrono::steady_clock::now();

  for (std::uint32_t run = 0; run < static_cast<std::uint32_t>(kRuns); ++run) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(dir, run, fds[1]);
    }
    ::close(fds[1]);

    // Drain acknowledgements while the child runs, so its pipe never fills and blocks it.
    std::string acks;
    auto drain = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char buf[1 << 16];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) return false;
      acks.append(buf, static_cast<std::size_t>(n));
      return true;
    };
    const auto kill_at =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(5 + rng() % 120);
    while (std::chrono::steady_clock::now() < kill_at) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          kill_at - std::chrono::steady_clock::now());
      drain(static_cast<int>(std::max<std::int64_t>(1, left.count())));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own: status " << status;
    while (drain(0)) {
    }
    ::close(fds[0]);

    ASSERT_EQ(acks.size() % sizeof(Ack), 0u);
    for (std::size_t at = 0; at < acks.size(); at += sizeof(Ack)) {
      Ack a;
      std::memcpy(&a, acks.data() + at, sizeof a);
      for (std::uint32_t i = 0; i < a.count; ++i) {
        auto [it, fresh] = acknowledged.emplace(a.first + i, Payload(a.run, a.thread, a.batch, i));
        ASSERT_TRUE(fresh) << "offset " << a.first + i << " acknowledged twice";
      }
    }

    // SIGKILL tears a record only when it lands inside a large write. A power loss can leave
    // any prefix of the unacknowledged bytes, or zeros past them: simulate that on half of
    // the runs, anywhere after the last acknowledged record.
    if (rng() % 2 == 0) Tear(dir, acknowledged, rng);

    // Verify first: it must see no corruption, only possibly a torn tail, and change nothing.
    auto report = FileLog::Verify(dir);
    ASSERT_TRUE(report.ok()) << "run " << run << ": " << report.status.ToString();

    auto log = FileLog::Open(dir, CrashOptions());
    ASSERT_TRUE(log.ok()) << "run " << run << ": " << log.status().ToString();
    if (log.value()->truncated_bytes_on_open() > 0) ++runs_with_torn_tail;
    const Offset end = log.value()->End();
    ASSERT_EQ(end, report.records);
    if (!acknowledged.empty()) {
      ASSERT_GT(end, acknowledged.rbegin()->first);
    }
    // Everything served is whole and was written by some appender; acknowledged ones exactly.
    for (Offset next = 0; next < end;) {
      auto r = log.value()->Read(next, 4096);
      ASSERT_TRUE(r.ok()) << "run " << run << ": " << r.status().ToString();
      ASSERT_FALSE(r.value().empty());
      for (const auto& rec : r.value()) {
        ASSERT_EQ(rec.offset, next);
        std::uint32_t id[4];
        ASSERT_TRUE(ParseIdentity(rec.payload, id)) << "offset " << next;
        ASSERT_EQ(rec.payload, Payload(id[0], id[1], id[2], id[3])) << "offset " << next;
        auto ack = acknowledged.find(next);
        if (ack != acknowledged.end()) {
          ASSERT_EQ(rec.payload, ack->second) << "offset " << next;
        }
        ++next;
      }
    }
    ASSERT_TRUE(log.value()->Close().ok());
  }
  const auto took = std::chrono::steady_clock::now() - started;
  std::printf("%d runs, %zu acknowledged records, %d runs recovered a torn tail, %.1f s\n", kRuns,
              acknowledged.size(), runs_with_torn_tail,
              std::chrono::duration<double>(took).count());
  EXPECT_GT(acknowledged.size(), 0u);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace isucoin::events
