// The Log conformance suite (see log_conformance.h for how a backend instantiates it).
#include "tests/events/log_conformance.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "events/applied_sequence.h"

namespace isucoin::conformance {
namespace {

using events::AppliedSequence;
using events::Log;
using events::LogRecord;
using events::Offset;
using events::Sequence;
using namespace std::chrono_literals;

// A backend with no log for this binary (e.g. Kafka without a broker) simply has no instance.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LogConformanceTest);

std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Reads [from, to) whatever the backend's page size, failing the test on error or stall.
std::vector<LogRecord> ReadRange(Log& log, Offset from, Offset to) {
  std::vector<LogRecord> out;
  Offset next = from;
  int empty_reads = 0;
  while (next < to) {
    auto r = log.Read(next, static_cast<std::size_t>(to - next));
    if (!r.ok()) {
      ADD_FAILURE() << "Read(" << next << ") failed: " << r.status().ToString();
      break;
    }
    if (r.value().empty()) {
      // Durable records must be readable; allow a backend a moment to fetch, not forever.
      if (++empty_reads > 200) {
        ADD_FAILURE() << "Read(" << next << ") keeps returning nothing below end " << to;
        break;
      }
      std::this_thread::sleep_for(10ms);
      continue;
    }
    for (auto& rec : r.value()) {
      if (rec.offset != next) {
        ADD_FAILURE() << "expected offset " << next << ", got " << rec.offset;
        return out;
      }
      if (next >= to) break;
      out.push_back(std::move(rec));
      ++next;
    }
  }
  return out;
}

std::vector<std::string> Payloads(const std::vector<LogRecord>& recs) {
  std::vector<std::string> out;
  for (const auto& r : recs) out.push_back(r.payload);
  return out;
}

// Toy events for the dedupe tests: "cause:index:body". The real codec is not needed to show
// the rule, and keeping it out makes the suite independent of the records' evolution.
std::string ToyEvent(std::uint64_t cause, std::uint32_t index, const std::string& body) {
  return std::to_string(cause) + ":" + std::to_string(index) + ":" + body;
}
struct ToyDecoded {
  Sequence seq;
  std::string body;
};
ToyDecoded DecodeToy(const std::string& payload) {
  ToyDecoded d;
  auto c1 = payload.find(':');
  auto c2 = payload.find(':', c1 + 1);
  d.seq.cause = std::stoull(payload.substr(0, c1));
  d.seq.index = static_cast<std::uint32_t>(std::stoul(payload.substr(c1 + 1, c2 - c1 - 1)));
  d.body = payload.substr(c2 + 1);
  return d;
}

// A deterministic toy matcher: command c produces (c % 3) + 1 events.
std::vector<std::string> ToyMatch(std::uint64_t command_offset, const std::string& command) {
  std::vector<std::string> out;
  const auto n = static_cast<std::uint32_t>(command_offset % 3 + 1);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(ToyEvent(command_offset, i, command));
  return out;
}

// A consumer applying the toy events log from 0 with the exactly-once rule.
std::vector<std::string> ConsumeWithDedupe(Log& log) {
  AppliedSequence applied;
  std::vector<std::string> effects;
  for (const auto& rec : ReadRange(log, 0, log.End())) {
    ToyDecoded ev = DecodeToy(rec.payload);
    if (applied.ShouldApply(ev.seq)) {
      effects.push_back(rec.payload);
      applied.MarkApplied(ev.seq);
    }
  }
  return effects;
}

std::string Sanitize(std::string s) {
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return s;
}

}  // namespace

std::string LogConformanceTest::Key(const std::string& role) {
  static std::atomic<unsigned> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  std::string key = Sanitize(std::string(info->name()) + "-" + role) + "-" +
                    std::to_string(::getpid()) + "-" + std::to_string(now % 1000000000) + "-" +
                    std::to_string(counter++);
  keys_.push_back(key);
  return key;
}

std::unique_ptr<Log> LogConformanceTest::Open(const std::string& key) {
  auto log = GetParam().open(key);
  EXPECT_NE(log, nullptr) << GetParam().name << " failed to open log " << key;
  return log;
}

void LogConformanceTest::TearDown() {
  if (!GetParam().destroy) return;
  for (const auto& k : keys_) GetParam().destroy(k);
}

namespace {

TEST_P(LogConformanceTest, NewLogIsEmpty) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->End(), 0u);
  auto r = log->Read(0, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.value().empty());
}

TEST_P(LogConformanceTest, OrderAndDenseOffsets) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  const auto want = Numbered("record-", 50);
  for (std::size_t i = 0; i < want.size(); ++i) {
    auto r = log->Append(std::span<const std::string>(&want[i], 1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value(), i);
    EXPECT_EQ(log->End(), i + 1);  // acknowledged means durable means visible
  }
  auto got = ReadRange(*log, 0, want.size());
  EXPECT_EQ(Payloads(got), want);
}

TEST_P(LogConformanceTest, BatchAppendGetsConsecutiveOffsets) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  const auto a = Numbered("a", 5), b = Numbered("b", 3), c = Numbered("c", 1);
  auto ra = log->Append(a);
  auto rb = log->Append(b);
  auto rc = log->Append(c);
  ASSERT_TRUE(ra.ok() && rb.ok() && rc.ok());
  EXPECT_EQ(ra.value(), 0u);
  EXPECT_EQ(rb.value(), 5u);
  EXPECT_EQ(rc.value(), 8u);
  EXPECT_EQ(log->End(), 9u);
  std::vector<std::string> want = a;
  want.insert(want.end(), b.begin(), b.end());
  want.insert(want.end(), c.begin(), c.end());
  EXPECT_EQ(Payloads(ReadRange(*log, 0, 9)), want);
}

TEST_P(LogConformanceTest, PayloadsAreOpaqueBytes) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string big(64 * 1024, '\0');
  std::mt19937 rng(7);
  for (char& ch : big) ch = static_cast<char>(rng());
  const std::vector<std::string> want = {all_bytes, "", big, std::string("\0\0\0", 3), "x"};
  auto r = log->Append(want);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Payloads(ReadRange(*log, 0, want.size())), want);
}

TEST_P(LogConformanceTest, ReadFromTheMiddle) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  const auto want = Numbered("m", 100);
  ASSERT_TRUE(log->Append(want).ok());
  auto r = log->Read(37, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r.value().empty());
  ASSERT_LE(r.value().size(), 10u);
  for (std::size_t i = 0; i < r.value().size(); ++i) {
    EXPECT_EQ(r.value()[i].offset, 37 + i);
    EXPECT_EQ(r.value()[i].payload, want[37 + i]);
  }
  // Near the end a read returns what there is, not more.
  auto tail = ReadRange(*log, 95, 100);
  ASSERT_EQ(tail.size(), 5u);
  EXPECT_EQ(tail.back().payload, "m99");
  auto r2 = log->Read(95, 50);
  ASSERT_TRUE(r2.ok());
  EXPECT_LE(r2.value().size(), 5u);
}

TEST_P(LogConformanceTest, ReadAtOrPastTheEndReturnsNothing) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Numbered("e", 3)).ok());
  auto at_end = log->Read(3, 10);
  ASSERT_TRUE(at_end.ok()) << at_end.status().ToString();
  EXPECT_TRUE(at_end.value().empty());
  // Far past the end: either an error or nothing, never records.
  auto past = log->Read(1000, 10);
  if (past.ok()) {
    EXPECT_TRUE(past.value().empty());
  }
  auto zero = log->Read(0, 0);
  if (zero.ok()) {
    EXPECT_TRUE(zero.value().empty());
  }
}

TEST_P(LogConformanceTest, WaitForTimesOutAtTheEnd) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Numbered("w", 2)).ok());
  // Already durable: no wait.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(log->WaitFor(1, 5s), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  // Nothing coming: returns the end once the timeout passes.
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(log->WaitFor(2, 100ms), 2u);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 90ms);
  EXPECT_LT(waited, 5s);
}

TEST_P(LogConformanceTest, FollowTheTailAcrossThreads) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  constexpr int kBatches = 60, kPerBatch = 5;
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      auto r = log->Append(Numbered("b" + std::to_string(b) + "-", kPerBatch));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (b % 7 == 0) std::this_thread::sleep_for(2ms);  // let the reader catch up and wait
    }
  });
  std::vector<std::string> seen;
  Offset next = 0;
  const Offset total = kBatches * kPerBatch;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (next < total && std::chrono::steady_clock::now() < deadline) {
    const Offset end = log->WaitFor(next, 2s);
    if (end <= next) continue;
    auto r = log->Read(next, 64);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (auto& rec : r.value()) {
      ASSERT_EQ(rec.offset, next);
      seen.push_back(std::move(rec.payload));
      ++next;
    }
  }
  writer.join();
  ASSERT_EQ(next, total);
  std::vector<std::string> want;
  for (int b = 0; b < kBatches; ++b) {
    for (auto& p : Numbered("b" + std::to_string(b) + "-", kPerBatch)) want.push_back(p);
  }
  EXPECT_EQ(seen, want);
}

TEST_P(LogConformanceTest, ConcurrentBatchesAreContiguousAndNeverInterleave) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8, kBatchesPerThread = 25;
  struct Acked {
    Offset first;
    std::vector<std::string> batch;
  };
  std::vector<std::vector<Acked>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int b = 0; b < kBatchesPerThread; ++b) {
        const int n = 1 + static_cast<int>(rng() % 8);
        auto batch = Numbered("t" + std::to_string(t) + "b" + std::to_string(b) + "-", n);
        auto r = log->Append(batch);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
        acked[t].push_back({r.value(), std::move(batch)});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::size_t total = 0;
  for (auto& v : acked) {
    for (auto& a : v) total += a.batch.size();
  }
  ASSERT_EQ(log->End(), total);
  auto all = ReadRange(*log, 0, total);
  ASSERT_EQ(all.size(), total);
  std::vector<bool> covered(total, false);
  for (auto& v : acked) {
    Offset prev_first = 0;
    bool first_batch = true;
    for (auto& a : v) {
      // One thread's batches land in the order it appended them.
      if (!first_batch) {
        EXPECT_GT(a.first, prev_first);
      }
      first_batch = false;
      prev_first = a.first;
      for (std::size_t i = 0; i < a.batch.size(); ++i) {
        ASSERT_LT(a.first + i, total);
        EXPECT_EQ(all[a.first + i].payload, a.batch[i]) << "at offset " << a.first + i;
        EXPECT_FALSE(covered[a.first + i]) << "offset " << a.first + i << " acked twice";
        covered[a.first + i] = true;
      }
    }
  }
  EXPECT_EQ(std::count(covered.begin(), covered.end(), false), 0);
}

TEST_P(LogConformanceTest, ReopenKeepsEverything) {
  const std::string key = Key();
  std::vector<std::string> want = Numbered("first-", 20);
  {
    auto log = Open(key);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(std::span(want).first(7)).ok());
    ASSERT_TRUE(log->Append(std::span(want).subspan(7)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  {
    auto log = Open(key);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->End(), 20u);
    EXPECT_EQ(Payloads(ReadRange(*log, 0, 20)), want);
    auto more = Numbered("second-", 5);
    auto r = log->Append(more);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value(), 20u);  // offsets continue, no gap, no reuse
    want.insert(want.end(), more.begin(), more.end());
    ASSERT_TRUE(log->Close().ok());
  }
  {
    auto log = Open(key);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->End(), 25u);
    EXPECT_EQ(Payloads(ReadRange(*log, 0, 25)), want);
    // No Close(): destroying the log must release it just the same.
  }
  {
    auto log = Open(key);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->End(), 25u);
  }
}

TEST_P(LogConformanceTest, CallsAfterCloseFailWithClosed) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Numbered("c", 2)).ok());
  ASSERT_TRUE(log->Close().ok());
  auto a = log->Append(Numbered("late", 1));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Status::Code::kClosed) << a.status().ToString();
  auto r = log->Read(0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kClosed) << r.status().ToString();
  // A closed log never blocks a follower for the full timeout.
  auto t0 = std::chrono::steady_clock::now();
  log->WaitFor(100, 10s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// A producer whose acknowledgement was lost retries: the same events land twice.
TEST_P(LogConformanceTest, DedupeBySequenceAfterProducerRetry) {
  auto log = Open(Key());
  ASSERT_NE(log, nullptr);
  const std::vector<std::string> c0 = {ToyEvent(0, 0, "x"), ToyEvent(0, 1, "y")};
  const std::vector<std::string> c1 = {ToyEvent(1, 0, "z")};
  const std::vector<std::string> c2 = {ToyEvent(2, 0, "u"), ToyEvent(2, 1, "v")};
  ASSERT_TRUE(log->Append(c0).ok());
  ASSERT_TRUE(log->Append(c1).ok());
  ASSERT_TRUE(log->Append(c1).ok());  // the retry
  ASSERT_TRUE(log->Append(std::span(c2).first(1)).ok());
  ASSERT_TRUE(log->Append(c2).ok());  // a retry of a batch that partly made it
  EXPECT_EQ(log->End(), 7u);
  const std::vector<std::string> want = {c0[0], c0[1], c1[0], c2[0], c2[1]};
  EXPECT_EQ(ConsumeWithDedupe(*log), want);

  // A consumer resuming from its saved position also drops what it already applied.
  AppliedSequence resumed(Sequence{1, 0});
  std::vector<std::string> effects;
  for (const auto& rec : ReadRange(*log, 0, log->End())) {
    if (resumed.Admit(DecodeToy(rec.payload).seq)) effects.push_back(rec.payload);
  }
  EXPECT_EQ(effects, (std::vector<std::string>{c2[0], c2[1]}));
}

// The matcher restarts: it learns where it stopped from the last event, and if it re-derives
// events for commands it had already processed, consumers drop them.
TEST_P(LogConformanceTest, DedupeBySequenceAfterMatcherRestart) {
  const std::string commands_key = Key("commands"), events_key = Key("events");
  auto commands = Open(commands_key);
  ASSERT_NE(commands, nullptr);
  ASSERT_TRUE(commands->Append(Numbered("cmd", 10)).ok());

  auto run_matcher = [&](Log& events, Offset from, Offset to) {
    for (auto& rec : ReadRange(*commands, from, to)) {
      auto r = events.Append(ToyMatch(rec.offset, rec.payload));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  };

  std::vector<std::string> want;
  for (Offset c = 0; c < 10; ++c) {
    for (auto& e : ToyMatch(c, "cmd" + std::to_string(c))) want.push_back(e);
  }

  {
    auto events = Open(events_key);
    ASSERT_NE(events, nullptr);
    run_matcher(*events, 0, 6);  // ... and the matcher dies
    ASSERT_TRUE(events->Close().ok());
  }
  {
    auto events = Open(events_key);
    ASSERT_NE(events, nullptr);
    // Where it stopped: the cause of the last event, so resume at the next command.
    const Offset end = events->End();
    ASSERT_GT(end, 0u);
    auto last = ReadRange(*events, end - 1, end);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(DecodeToy(last[0].payload).seq.cause + 1, 6u);
    // A restart that resumes too early (say, from a stale checkpoint) re-derives commands 3..5;
    // being deterministic, it re-derives identical events.
    run_matcher(*events, 3, 10);
    ASSERT_TRUE(events->Close().ok());
  }
  auto events = Open(events_key);
  ASSERT_NE(events, nullptr);
  EXPECT_GT(events->End(), want.size());  // the duplicates are in the log...
  EXPECT_EQ(ConsumeWithDedupe(*events), want);  // ...and applied once
}

}  // namespace
}  // namespace isucoin::conformance
