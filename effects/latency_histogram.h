// LatencyHistogram: the latency figures of the effects workers (commit start delay, report
// delay, analytics delivery), recorded lock-free from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace isucoin::effects {

// Log-linear latency histogram with lock-free recording (microseconds).
class LatencyHistogram {
 public:
  void Record(std::int64_t micros);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Upper bound of the bucket holding the p-th percentile (0 < p ≤ 100); 0 when empty.
  std::int64_t PercentileMicros(double p) const;
  std::int64_t MaxMicros() const { return max_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kSubBits = 4;  // 16 sub-buckets per power of two: ≤ 6.25 % error
  static constexpr int kBuckets = 64 << kSubBits;
  static int Index(std::uint64_t v);
  static std::uint64_t UpperBound(int index);
  std::atomic<std::uint64_t> buckets_[kBuckets] = {};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> max_{0};
};

}  // namespace isucoin::effects
