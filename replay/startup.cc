#include "replay/startup.h"

#include <cstdio>

namespace isucoin::replay {

namespace {
void Warn(const std::string& m) { std::fprintf(stderr, "isucoin: warning: %s\n", m.c_str()); }
}  // namespace

Result<MatcherStart> StartMatcher(events::Log& commands, events::Log& events,
                                  const SnapshotStore* store) {
  std::uint64_t max_offset = commands.End();
  while (store) {
    auto snap = store->LoadNewest(SnapshotKind::kMatcher, max_offset);
    if (!snap) break;
    const std::uint64_t offset = snap->offset;
    auto exchange = commands::Exchange::Restore(snap->body);
    if (!exchange.ok()) {
      Warn("skipping snapshot " + snap->path + ": " + exchange.status().message());
    } else {
      auto matcher = std::make_unique<commands::Matcher>(commands, events);
      Status s = matcher->Recover(std::move(exchange).value(), offset);
      if (s.ok()) return MatcherStart{std::move(matcher), offset};
      if (s.code() != Status::Code::kInvalid) return s;
      Warn("skipping snapshot " + snap->path + ": " + s.message());
    }
    if (offset == 0) break;
    max_offset = offset - 1;
  }
  auto matcher = std::make_unique<commands::Matcher>(commands, events);
  if (Status s = matcher->Recover(); !s.ok()) return s;
  return MatcherStart{std::move(matcher), std::nullopt};
}

Result<ReadModelStart> StartReadModel(events::Log& events, const SnapshotStore* store,
                                      int utc_offset_seconds) {
  MemoryReplayOptions options;
  options.utc_offset_seconds = utc_offset_seconds;
  std::optional<std::uint64_t> used;
  std::uint64_t max_offset = events.End();
  while (store) {
    auto snap = store->LoadNewest(SnapshotKind::kReadModel, max_offset);
    if (!snap) break;
    auto model = projections::ReadModel::Deserialize(snap->body);
    if (model.ok() && model.value().utc_offset_seconds() == utc_offset_seconds) {
      options.start = std::move(model).value();
      options.from_offset = snap->offset;
      used = snap->offset;
      break;
    }
    Warn("skipping snapshot " + snap->path + ": " +
         (model.ok() ? std::string("taken with another UTC offset") : model.status().message()));
    if (snap->offset == 0) break;
    max_offset = snap->offset - 1;
  }
  auto replay = ReplayIntoMemory(events, std::move(options));
  if (!replay.ok()) return replay.status();
  return ReadModelStart{std::move(replay).value(), used};
}

SnapshotWriter::SnapshotWriter(SnapshotStore store)
    : store_(std::move(store)), thread_([this] { Loop(); }) {}

SnapshotWriter::~SnapshotWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotWriter::Submit(SnapshotKind kind, std::uint64_t offset, std::string body) {
  {
    std::lock_guard lock(mu_);
    pending_[kind == SnapshotKind::kMatcher ? 0 : 1] = std::make_pair(offset, std::move(body));
  }
  cv_.notify_all();
}

std::uint64_t SnapshotWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

void SnapshotWriter::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || pending_[0] || pending_[1]; });
    for (int i = 0; i < 2; ++i) {
      if (!pending_[i]) continue;
      auto [offset, body] = std::move(*pending_[i]);
      pending_[i].reset();
      lock.unlock();
      const SnapshotKind kind = i == 0 ? SnapshotKind::kMatcher : SnapshotKind::kReadModel;
      auto written = store_.Write(kind, offset, body);
      if (!written.ok()) Warn("snapshot not written: " + written.status().ToString());
      lock.lock();
      if (written.ok()) ++written_;
    }
    if (stop_ && !pending_[0] && !pending_[1]) return;
  }
}

}  // namespace isucoin::replay
