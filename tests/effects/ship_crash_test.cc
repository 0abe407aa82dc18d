// `isucoin ship` under SIGKILL: the shipper runs as a child process over a FileLog directory
// while this test appends events as they happen; the child is killed -9 mid-flight twice and
// restarted. Every record must reach the simulator (duplicates allowed after a crash — they
// are counted and printed — none lost, none unexpected), each within SPEC.md's 10 s.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "events/file_log.h"
#include "events/time_format.h"
#include "tests/effects/shipping_events.h"
#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using test_support::IsusimProcess;
using testing::ActionGenerator;
using testing::Canonical;
using testing::Encode;
using testing::ExpectedRecords;

pid_t StartShip(const std::string& dir, const IsusimProcess& sim, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) ::dup2(fd, 2);
    ::execl(ISUCOIN_PATH, ISUCOIN_PATH, "ship", "--data", dir.c_str(), "--logger",
            sim.logger_url().c_str(), "--logger-appid", sim.appid().c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(ShipCrashTest, KilledMidFlightAndRestartedDeliversEveryRecord) {
  // Requests take 100 ms at the logger, so some are always in flight when the kill lands.
  IsusimProcess sim({"--logger-ms", "100"});
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("ship-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto opened = events::FileLog::Open(dir + "/events");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  events::FileLog& log = *opened.value();

  ActionGenerator gen;
  std::vector<events::Event> all;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until) {
      const events::Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
      std::vector<events::Event> batch;
      for (int i = 0; i < 5; ++i) {
        auto r = gen.Round(now);
        batch.insert(batch.end(), r.begin(), r.end());
      }
      ASSERT_TRUE(log.Append(Encode(batch)).ok());
      all.insert(all.end(), batch.begin(), batch.end());
      std::this_thread::sleep_for(10ms);
    }
    writing = false;
  });

  const std::string child_log = dir + "/ship.stderr";
  pid_t child = StartShip(dir, sim, child_log);
  ASSERT_GT(child, 0);
  for (int kill_at_ms : {800, 1700}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_at_ms) / 2);
    ::kill(child, SIGKILL);
    const int status = Reap(child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "exited early: " << status;
    child = StartShip(dir, sim, child_log);
    ASSERT_GT(child, 0);
  }
  writer.join();
  ASSERT_FALSE(writing.load());

  const auto expected = ExpectedRecords(all);
  std::map<std::string, int> wanted;
  for (const auto& r : expected) wanted[r] = 0;
  std::size_t received = 0, distinct = 0, unexpected = 0;
  std::int64_t worst_ms = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (distinct < wanted.size() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    for (const auto& r : sim.Logs(received)) {
      ++received;
      auto it = wanted.find(Canonical(r["tag"], r["time"], r["data"]));
      if (it == wanted.end()) {
        ++unexpected;
        continue;
      }
      if (it->second++ == 0) ++distinct;
      auto t = events::ParseTime(r["time"].get<std::string>());
      if (t.ok()) worst_ms = std::max(worst_ms, r["received_at_ms"].get<std::int64_t>() - t.value() / 1000);
    }
  }
  ::kill(child, SIGTERM);
  const int status = Reap(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  std::size_t missing = 0, duplicates = 0;
  for (const auto& [record, n] : wanted) {
    missing += n == 0;
    duplicates += n > 1 ? n - 1 : 0;
  }
  EXPECT_EQ(missing, 0u) << "records lost across kill -9 (child stderr: " << child_log << ")";
  EXPECT_EQ(unexpected, 0u);
  EXPECT_LE(worst_ms, 10'000);
  std::printf("ship crash: %zu records, %zu received, %zu duplicates after 2 kills, worst %lld ms\n",
              expected.size(), received, duplicates, static_cast<long long>(worst_ms));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isucoin::effects
