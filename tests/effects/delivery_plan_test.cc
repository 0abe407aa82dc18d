// The shipper's pure decisions: batch sizes under the body limit, the request rate limit,
// backoff, the checkpoint over out-of-order acknowledgements, and the checkpoint file.
#include "effects/delivery_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "effects/shipper_checkpoint.h"

namespace isucoin::effects {
namespace {

using namespace std::chrono_literals;

TEST(BatchSizeTest, BodyBytesCountBracketsAndCommas) {
  EXPECT_EQ(BulkBodyBytes(0, 0), 2u);
  EXPECT_EQ(BulkBodyBytes(1, 10), 12u);       // [r]
  EXPECT_EQ(BulkBodyBytes(3, 30), 2u + 30 + 2);  // [a,b,c]
}

TEST(BatchSizeTest, TakesTheLongestPrefixThatFits) {
  const std::vector<std::size_t> sizes = {10, 10, 10, 10};
  EXPECT_EQ(RecordsInNextBatch(sizes, 100, 100), 4u);
  EXPECT_EQ(RecordsInNextBatch(sizes, 2 + 10 + 1 + 10, 100), 2u);  // exactly two fit
  EXPECT_EQ(RecordsInNextBatch(sizes, 2 + 10 + 1 + 10 - 1, 100), 1u);
  EXPECT_EQ(RecordsInNextBatch(sizes, 100, 3), 3u);  // record cap
  EXPECT_EQ(RecordsInNextBatch(std::vector<std::size_t>{}, 100, 3), 0u);
}

TEST(BatchSizeTest, AFirstRecordTooBigAloneYieldsZero) {
  EXPECT_EQ(RecordsInNextBatch(std::vector<std::size_t>{99, 1}, 100, 10), 0u);
  EXPECT_EQ(RecordsInNextBatch(std::vector<std::size_t>{98, 1}, 100, 10), 1u);
}

TEST(BatchSizeTest, NeverOverTheLimitWhateverTheSizes) {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> sizes(50);
    for (auto& s : sizes) s = 1 + rng() % 50'000;
    const std::size_t limit = 100'000 + rng() % 1'000'000;
    const std::size_t n = RecordsInNextBatch(sizes, limit, 1000);
    std::size_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += sizes[i];
    EXPECT_LE(BulkBodyBytes(n, sum), limit);
    if (n < sizes.size()) {
      EXPECT_GT(BulkBodyBytes(n + 1, sum + sizes[n]), limit);
    }
  }
}

TEST(RateLimiterTest, NeverMoreThanTheLimitInAnyWindow) {
  RequestRateLimiter limiter(18, 1s);
  const SteadyClock::time_point t0{};
  std::vector<SteadyClock::time_point> starts;
  // Try to start every millisecond for 5 s.
  for (int ms = 0; ms < 5000; ++ms) {
    const auto now = t0 + std::chrono::milliseconds(ms);
    if (limiter.TryStart(now)) starts.push_back(now);
  }
  EXPECT_EQ(starts.size(), 18u * 5);
  for (std::size_t i = 18; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - starts[i - 18], 1s) << i;  // any 19 starts span at least the window
  }
}

TEST(RateLimiterTest, NextStartSaysWhenTheOldestLeavesTheWindow) {
  RequestRateLimiter limiter(2, 1s);
  const SteadyClock::time_point t0{};
  EXPECT_TRUE(limiter.TryStart(t0));
  EXPECT_TRUE(limiter.TryStart(t0 + 100ms));
  EXPECT_EQ(limiter.NextStart(t0 + 200ms), t0 + 1s);
  EXPECT_FALSE(limiter.TryStart(t0 + 999ms));
  EXPECT_TRUE(limiter.TryStart(t0 + 1s));
  EXPECT_EQ(limiter.NextStart(t0 + 1s), t0 + 1100ms);
}

TEST(RateLimiterTest, PauseHoldsEveryStart) {
  RequestRateLimiter limiter(10, 1s);
  const SteadyClock::time_point t0{};
  limiter.PauseUntil(t0 + 250ms);
  EXPECT_FALSE(limiter.TryStart(t0 + 100ms));
  EXPECT_EQ(limiter.NextStart(t0), t0 + 250ms);
  EXPECT_TRUE(limiter.TryStart(t0 + 250ms));
}

TEST(RetryDelayTest, GrowsExponentiallyWithJitterUpToTheCap) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(RetryDelay(1, 100ms, 2s, rng), 75ms);
    EXPECT_LE(RetryDelay(1, 100ms, 2s, rng), 125ms);
    EXPECT_GE(RetryDelay(3, 100ms, 2s, rng), 300ms);
    EXPECT_LE(RetryDelay(3, 100ms, 2s, rng), 500ms);
    EXPECT_LE(RetryDelay(40, 100ms, 2s, rng), 2500ms);  // no overflow for large attempts
    EXPECT_GE(RetryDelay(40, 100ms, 2s, rng), 1500ms);
  }
}

ResumePoint At(events::Offset offset, std::uint32_t index = 0) {
  return ResumePoint{{offset, index}, events::Sequence{offset, 0}, {}};
}

TEST(DeliveryFrontierTest, AdvancesOnlyOverAContiguousAcknowledgedPrefix) {
  DeliveryFrontier f;
  const ResumePoint read_end = At(100);
  f.Outstanding(At(10));
  f.Outstanding(At(20, 1));  // a batch starting inside an event's records
  f.Outstanding(At(30));
  EXPECT_EQ(f.Checkpoint(nullptr, read_end), At(10));
  f.Settled({30, 0});  // out of order: the checkpoint stays
  EXPECT_EQ(f.Checkpoint(nullptr, read_end), At(10));
  f.Settled({10, 0});
  EXPECT_EQ(f.Checkpoint(nullptr, read_end), At(20, 1));
  f.Settled({20, 1});
  EXPECT_TRUE(f.empty());
  const ResumePoint queued = At(40);
  EXPECT_EQ(f.Checkpoint(&queued, read_end), At(40));  // records not yet batched hold it
  EXPECT_EQ(f.Checkpoint(nullptr, read_end), read_end);  // everything read is delivered
}

TEST(ShipperCheckpointTest, RoundTripsAndReplacesAtomically) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("shipper-cp-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto none = ReadShipperCheckpoint(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());

  ResumePoint p{{12345, 2}, events::Sequence{999, 3}, {"http://logger:5516", "app"}};
  ASSERT_TRUE(WriteShipperCheckpoint(dir, p).ok());
  auto back = ReadShipperCheckpoint(dir);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back.value().has_value());
  EXPECT_EQ(*back.value(), p);

  ResumePoint q{{0, 0}, std::nullopt, {}};
  ASSERT_TRUE(WriteShipperCheckpoint(dir, q).ok());
  EXPECT_EQ(*ReadShipperCheckpoint(dir).value(), q);
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoint.json.tmp"));

  std::ofstream(dir + "/checkpoint.json") << "{garbage";
  EXPECT_EQ(ReadShipperCheckpoint(dir).status().code(), Status::Code::kCorruption);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isucoin::effects
