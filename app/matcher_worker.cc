#include "app/matcher_worker.h"

#include <cstdio>

#include "app/periodic_snapshot.h"

namespace isucoin::app {

using namespace std::chrono_literals;

namespace {
constexpr std::size_t kStepCommands = 4096;
}  // namespace

Result<std::unique_ptr<MatcherWorker>> MatcherWorker::Start(events::Log& commands,
                                                            events::Log& events,
                                                            MatcherWorkerOptions options) {
  auto started = replay::StartMatcher(commands, events, options.snapshots);
  if (!started.ok()) return started.status();
  if (auto at = started.value().snapshot_offset) {
    std::fprintf(stderr, "isucoin %s: matcher resumed from its snapshot at command %llu\n",
                 options.name.c_str(), static_cast<unsigned long long>(*at));
  }
  std::unique_ptr<commands::Matcher> matcher = std::move(started.value().matcher);
  for (;;) {
    auto n = matcher->Step(kStepCommands);
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;
  }
  std::unique_ptr<MatcherWorker> worker(
      new MatcherWorker(commands, std::move(matcher), std::move(options)));
  worker->thread_ = std::thread([w = worker.get()] { w->Loop(); });
  return worker;
}

MatcherWorker::MatcherWorker(events::Log& commands, std::unique_ptr<commands::Matcher> matcher,
                             MatcherWorkerOptions options)
    : commands_(commands), matcher_(std::move(matcher)), options_(std::move(options)) {
  Publish();
}

MatcherWorker::~MatcherWorker() { Stop(); }

void MatcherWorker::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status MatcherWorker::health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

void MatcherWorker::Publish() {
  next_command_.store(matcher_->next_command(), std::memory_order_relaxed);
  open_orders_.store(matcher_->exchange().open_order_count(), std::memory_order_relaxed);
}

void MatcherWorker::Loop() {
  PeriodicSnapshot due(options_.snapshot_every, options_.snapshot_interval,
                       matcher_->next_command());
  while (!stop_.load(std::memory_order_relaxed)) {
    auto n = matcher_->Step(kStepCommands);
    if (!n.ok()) {
      std::fprintf(stderr, "isucoin %s: matcher: %s\n", options_.name.c_str(),
                   n.status().ToString().c_str());
      std::lock_guard lock(health_mu_);
      health_ = n.status();
      return;
    }
    Publish();
    const std::uint64_t at = matcher_->next_command();
    if (options_.writer != nullptr && options_.snapshot_every > 0 && due.Due(at)) {
      // Serialized here (the state is this thread's); written by the writer's thread.
      options_.writer->Submit(replay::SnapshotKind::kMatcher, at, matcher_->exchange().Snapshot());
    }
    if (n.value() == 0) commands_.WaitFor(at, 100ms);
  }
}

}  // namespace isucoin::app
