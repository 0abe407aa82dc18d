#include "effects/delivery_plan.h"

#include <algorithm>

namespace isucoin::effects {

SteadyClock::time_point RequestRateLimiter::NextStart(SteadyClock::time_point now) const {
  SteadyClock::time_point at = std::max(now, paused_until_);
  if (static_cast<int>(starts_.size()) >= max_requests_) {
    // The oldest of the last max_requests_ starts must leave the window first.
    at = std::max(at, starts_.front() + window_);
  }
  return at;
}

bool RequestRateLimiter::TryStart(SteadyClock::time_point now) {
  if (NextStart(now) > now) return false;
  starts_.push_back(now);
  while (static_cast<int>(starts_.size()) > max_requests_) starts_.pop_front();
  return true;
}

SteadyClock::duration RetryDelay(int attempt, SteadyClock::duration base,
                                 SteadyClock::duration max, std::mt19937_64& rng) {
  SteadyClock::duration d = base;
  for (int i = 1; i < attempt && d < max; ++i) d *= 2;
  d = std::min(d, max);
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return std::chrono::duration_cast<SteadyClock::duration>(d * jitter(rng));
}

}  // namespace isucoin::effects
