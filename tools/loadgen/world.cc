#include "tools/loadgen/world.h"

#include <algorithm>

namespace isucoin::loadgen {

void StopSignal::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSignal::SleepFor(std::chrono::duration<double> d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopped_; });
  return !stopped_;
}

std::chrono::duration<double> Backoff::Next() {
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  const double d = delay_s_ * jitter(*rng_);
  delay_s_ = std::min(delay_s_ * 2, 2.0);
  return std::chrono::duration<double>(d);
}

std::uint64_t SeedFor(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  std::seed_seq seq{seed, index, stream};
  std::uint32_t words[2];
  seq.generate(words, words + 2);
  return (static_cast<std::uint64_t>(words[0]) << 32) | words[1];
}

bool World::FirstAcknowledgement(std::int64_t order_id) {
  bool first;
  {
    std::lock_guard lock(mu_);
    first = acknowledged_ids_.insert(order_id).second;
  }
  if (!first) {
    stats.Violate({{"order_id_reused", "POST /orders acknowledged id " + std::to_string(order_id) + " twice"}});
  }
  return first;
}

std::optional<HttpResponse> Answered(World& world, Route route, HttpResponse response,
                                     std::initializer_list<long> allowed) {
  if (!world.stats.Request(route, response)) return std::nullopt;
  const long status = response.status;
  if (status >= 500) world.stats.Error("http_" + std::to_string(status) + " " + RouteName(route));
  if (std::find(allowed.begin(), allowed.end(), status) == allowed.end()) {
    world.stats.Violate({{"unexpected_status", std::string(RouteName(route)) + " answered " +
                                                   std::to_string(status) + ": " +
                                                   response.body.substr(0, 300)}});
  }
  if (status < 200 || status >= 300) {
    Violations v;
    CheckErrorBody(RouteName(route), status, response.body, &v);
    world.stats.Violate(v);
  }
  return response;
}

}  // namespace isucoin::loadgen
