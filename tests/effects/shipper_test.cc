// The Shipper against the real simulator (tools/isusim): every record delivered exactly once
// in the normal case, batches in log order, the rate limit reached without losing anything or
// missing SPEC.md's 10 s bound, bodies split under 1 MB, endpoints from ExchangeReset,
// retries of 5xx, and resuming from the checkpoint.
#include "effects/shipper.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "events/memory_log.h"
#include "events/time_format.h"
#include "tests/effects/shipping_events.h"
#include "tests/support/isusim_process.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;
using events::MemoryLog;
using test_support::IsusimProcess;
using testing::ActionGenerator;
using testing::Canonical;
using testing::Encode;
using testing::ExpectedRecords;

events::Micros Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Received {
  std::vector<std::string> records;  // canonical, in arrival order
  std::vector<std::int64_t> latency_ms;  // received_at - action time
  std::vector<std::string> appids;
};

Received Fetch(const IsusimProcess& sim) {
  Received out;
  for (const auto& r : sim.Logs()) {
    out.records.push_back(Canonical(r["tag"], r["time"], r["data"]));
    auto t = events::ParseTime(r["time"].get<std::string>());
    EXPECT_TRUE(t.ok()) << r["time"];
    out.latency_ms.push_back(r["received_at_ms"].get<std::int64_t>() - (t.ok() ? t.value() / 1000 : 0));
    out.appids.push_back(r["appid"].get<std::string>());
  }
  return out;
}

// Every expected record arrived exactly once; returns how many batches (runs of consecutive
// records in log order) the arrival order consists of.
std::size_t ExpectExactlyOnceInOrderRuns(const std::vector<std::string>& expected,
                                         const std::vector<std::string>& received) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < expected.size(); ++i) index[expected[i]] = i;
  EXPECT_EQ(index.size(), expected.size()) << "generator produced identical records";
  EXPECT_EQ(received.size(), expected.size());
  std::vector<int> seen(expected.size(), 0);
  std::size_t runs = 0;
  std::optional<std::size_t> prev;
  for (const auto& r : received) {
    auto it = index.find(r);
    if (it == index.end()) {
      ADD_FAILURE() << "unexpected record " << r;
      continue;
    }
    ++seen[it->second];
    if (!prev || it->second != *prev + 1) ++runs;
    prev = it->second;
  }
  std::size_t missing = 0, dup = 0;
  for (int s : seen) {
    missing += s == 0;
    dup += s > 1;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(dup, 0u);
  return runs;
}

void AppendNow(MemoryLog& log, ActionGenerator& gen, int rounds, std::vector<events::Event>* all) {
  std::vector<events::Event> batch;
  const events::Micros now = Now();
  for (int i = 0; i < rounds; ++i) {
    auto r = gen.Round(now);
    batch.insert(batch.end(), r.begin(), r.end());
  }
  ASSERT_TRUE(log.Append(Encode(batch)).ok());
  all->insert(all->end(), batch.begin(), batch.end());
}

TEST(ShipperTest, DeliversEveryRecordExactlyOnceWithBatchesInLogOrder) {
  IsusimProcess sim;
  MemoryLog log;
  ActionGenerator gen;
  std::vector<events::Event> all;
  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  // A burst, then a trickle: both the full-batch and the linger paths.
  AppendNow(log, gen, 2000, &all);
  for (int i = 0; i < 20; ++i) {
    AppendNow(log, gen, 1, &all);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(shipper.WaitDelivered(log.End(), 20s));
  shipper.Stop();

  const Received got = Fetch(sim);
  const auto expected = ExpectedRecords(all);
  const std::size_t runs = ExpectExactlyOnceInOrderRuns(expected, got.records);
  const ShipperMetrics& m = shipper.metrics();
  EXPECT_LE(runs, m.requests_sent.load()) << "a batch arrived out of log order";
  EXPECT_EQ(m.records_delivered.load(), expected.size());
  EXPECT_EQ(m.rate_limited.load(), 0u) << "the shipper's own limits are under the service's";
  EXPECT_EQ(m.too_large.load(), 0u);
  EXPECT_EQ(m.records_rejected.load(), 0u);
  EXPECT_EQ(m.delivery_latency.count(), expected.size());
  for (auto ms : got.latency_ms) EXPECT_LE(ms, 10'000);
}

TEST(ShipperTest, RateLimitReachedLosesNothingAndStaysWithinTenSeconds) {
  IsusimProcess sim;
  MemoryLog log;
  ActionGenerator gen;
  std::vector<events::Event> all;
  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  // Deliberately over ISULOGGER's 20/s, and no lingering: the service answers 429 and the
  // shipper must retry its way through.
  options.max_requests_per_window = 60;
  options.linger = 0ms;
  options.max_records_per_batch = 200;
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  // ~3,000 records/s for 4 s, appended as they happen (action time = now).
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    AppendNow(log, gen, 3, &all);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(shipper.WaitDelivered(log.End(), 20s));
  shipper.Stop();

  const Received got = Fetch(sim);
  const auto expected = ExpectedRecords(all);
  ExpectExactlyOnceInOrderRuns(expected, got.records);
  EXPECT_GT(shipper.metrics().rate_limited.load(), 0u) << "the test did not reach the limit";
  std::int64_t worst = 0;
  for (auto ms : got.latency_ms) worst = std::max(worst, ms);
  EXPECT_LE(worst, 10'000) << "a record arrived more than 10 s after its action";
  std::printf("rate limited: %llu answers 429, %zu records, worst delivery %lld ms\n",
              static_cast<unsigned long long>(shipper.metrics().rate_limited.load()),
              expected.size(), static_cast<long long>(worst));
}

TEST(ShipperTest, BigRecordsAreSplitUnderOneMegabyteAndAnImpossibleOneIsReported) {
  IsusimProcess sim;
  MemoryLog log;
  std::vector<events::Event> all;
  const events::Micros now = Now();
  for (int i = 1; i <= 40; ++i) {
    // 50–290 KB names: any four of them exceed 1 MB.
    std::string name(50'000 + (i * 37'000) % 240'000, static_cast<char>('a' + i % 26));
    std::string bank_id = "b";  // not "b" + to_string(i): GCC 12 -O3 warns (-Wrestrict)
    bank_id += std::to_string(i);
    all.push_back(events::Event{{static_cast<std::uint64_t>(i), 0}, now,
                                events::UserRegistered{i, bank_id, name, "h"}});
  }
  // One record that no body under the limit can hold.
  events::Event impossible{{41, 0}, now,
                           events::UserRegistered{41, "b41", std::string(1'100'000, 'z'), "h"}};
  std::vector<events::Event> with_impossible = all;
  with_impossible.insert(with_impossible.begin() + 20, impossible);
  for (std::size_t i = 0; i < with_impossible.size(); ++i) with_impossible[i].seq.cause = i + 1;
  ASSERT_TRUE(log.Append(Encode(with_impossible)).ok());

  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  ASSERT_TRUE(shipper.WaitDelivered(log.End(), 20s));
  shipper.Stop();

  ExpectExactlyOnceInOrderRuns(ExpectedRecords(all), Fetch(sim).records);
  EXPECT_EQ(shipper.metrics().too_large.load(), 0u);
  EXPECT_EQ(shipper.metrics().records_rejected.load(), 1u);
  EXPECT_GE(shipper.metrics().requests_sent.load(), 8u);
}

TEST(ShipperTest, RecordsGoWhereTheLatestResetSays) {
  IsusimProcess sim({"--appid", "first", "--appid", "second"});
  MemoryLog log;
  ActionGenerator gen;
  auto before = gen.Round(Now());
  events::Event reset{{1000, 0}, Now(),
                      events::ExchangeReset{{"http://bank", "x", sim.logger_url(), "second"}}};
  auto after = gen.Round(Now());
  for (auto& e : after) e.seq.cause += 2000;  // above the reset
  std::vector<events::Event> all = before;
  all.push_back(reset);
  all.insert(all.end(), after.begin(), after.end());
  ASSERT_TRUE(log.Append(Encode(all)).ok());

  ShipperOptions options;
  options.endpoint = {sim.logger_url(), "first"};
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  ASSERT_TRUE(shipper.WaitDelivered(log.End(), 10s));
  shipper.Stop();

  const Received got = Fetch(sim);
  const auto expected_before = ExpectedRecords(before);
  const auto expected_after = ExpectedRecords(after);
  ASSERT_EQ(got.records.size(), expected_before.size() + expected_after.size());
  std::map<std::string, std::string> appid_of;
  for (std::size_t i = 0; i < got.records.size(); ++i) appid_of[got.records[i]] = got.appids[i];
  for (const auto& r : expected_before) EXPECT_EQ(appid_of[r], "first") << r;
  for (const auto& r : expected_after) EXPECT_EQ(appid_of[r], "second") << r;
}

TEST(ShipperTest, ServerErrorsAndDuplicateEventsAreRetriedAndDropped) {
  IsusimProcess sim({"--fail-rate", "0.3", "--seed", "7"});
  MemoryLog log;
  ActionGenerator gen;
  std::vector<events::Event> all;
  for (int i = 0; i < 20; ++i) {
    AppendNow(log, gen, 10, &all);
    // The matcher re-deriving after a restart appends events it already wrote: same
    // sequences, which the shipper must not ship twice.
    if (i == 10) {
      ASSERT_TRUE(log.Append(Encode({all.end() - 5, all.end()})).ok());
    }
    std::this_thread::sleep_for(20ms);
  }
  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  options.retry_base = 20ms;
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  ASSERT_TRUE(shipper.WaitDelivered(log.End(), 20s));
  shipper.Stop();
  // 500s are not applied by the service, so retrying them duplicates nothing.
  ExpectExactlyOnceInOrderRuns(ExpectedRecords(all), Fetch(sim).records);
  EXPECT_GT(shipper.metrics().unavailable.load(), 0u);
  EXPECT_EQ(shipper.metrics().duplicate_events.load(), 5u);
}

TEST(ShipperTest, ACleanStopAndRestartResumesFromTheCheckpointWithoutDuplicates) {
  IsusimProcess sim;
  MemoryLog log;
  ActionGenerator gen;
  std::vector<events::Event> all;
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("shipper-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  options.checkpoint_dir = dir;
  {
    Shipper first(log, options);
    ASSERT_TRUE(first.Start().ok());
    AppendNow(log, gen, 100, &all);
    ASSERT_TRUE(first.WaitDelivered(log.End(), 10s));
    AppendNow(log, gen, 100, &all);  // maybe sent, maybe not: Stop decides
    first.Stop();
    EXPECT_GT(first.metrics().checkpoints_written.load(), 0u);
  }
  AppendNow(log, gen, 100, &all);
  Shipper second(log, options);
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(second.WaitDelivered(log.End(), 10s));
  second.Stop();
  ExpectExactlyOnceInOrderRuns(ExpectedRecords(all), Fetch(sim).records);
  std::filesystem::remove_all(dir);
}

TEST(ShipperTest, StopIsPromptWhenTheServiceHangs) {
  IsusimProcess sim;
  sim.SetFaults(0, 1.0, 20'000);
  MemoryLog log;
  ActionGenerator gen;
  std::vector<events::Event> all;
  AppendNow(log, gen, 10, &all);
  ShipperOptions options;
  options.endpoint = {sim.logger_url(), sim.appid()};
  options.request_timeout = 500ms;
  Shipper shipper(log, options);
  ASSERT_TRUE(shipper.Start().ok());
  std::this_thread::sleep_for(200ms);
  const auto t0 = std::chrono::steady_clock::now();
  shipper.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(shipper.Delivered().at.offset, 0u);  // nothing acknowledged, nothing skipped
}

}  // namespace
}  // namespace isucoin::effects
