#include "effects/latency_histogram.h"

#include <algorithm>
#include <bit>

namespace isucoin::effects {

int LatencyHistogram::Index(std::uint64_t v) {
  if (v < (1u << kSubBits)) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);  // ≥ kSubBits
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((v >> shift) & ((1u << kSubBits) - 1));
  return std::min(kBuckets - 1, ((shift + 1) << kSubBits) + sub);
}

std::uint64_t LatencyHistogram::UpperBound(int index) {
  if (index < (1 << kSubBits)) return static_cast<std::uint64_t>(index);
  const int shift = (index >> kSubBits) - 1;
  const std::uint64_t sub = static_cast<std::uint64_t>(index & ((1 << kSubBits) - 1));
  return (((1ull << kSubBits) + sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(std::int64_t micros) {
  const std::uint64_t v = micros < 0 ? 0 : static_cast<std::uint64_t>(micros);
  buckets_[Index(v)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  std::int64_t seen = max_.load(std::memory_order_relaxed);
  while (micros > seen && !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

std::int64_t LatencyHistogram::PercentileMicros(double p) const {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::max(1.0, p / 100.0 * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      return std::min<std::int64_t>(static_cast<std::int64_t>(UpperBound(i)), MaxMicros());
    }
  }
  return MaxMicros();
}

}  // namespace isucoin::effects
