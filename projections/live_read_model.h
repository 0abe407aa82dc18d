// LiveReadModel: the ReadModel shared between the projection thread (the one writer) and the
// API threads (many readers), plus the two things the API needs on top of the data:
//   - answers: the API appends a command and waits for the event that answers it to be
//     applied here, which is what gives read-your-writes (DESIGN.md);
//   - the shared part of /info, rebuilt at most every `info_interval` and served to everyone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "projections/read_model.h"

namespace isucoin::projections {

// Which request an event answers: its cause for most events, the cancel's offset for the
// outcome of a deferred cancel; nothing for facts no request waits on (matches, trades,
// settlements, automatic cancels, CancelDeferred, genesis).
std::optional<std::uint64_t> AnsweredRequest(const events::Event& event);

// What every /info answer shares, whoever asks.
struct InfoShared {
  Id cursor = 0;  // ReadModel::settled_cursor()
  std::vector<Candle> chart_by_sec, chart_by_min, chart_by_hour;
  std::optional<std::int64_t> lowest_sell_price, highest_buy_price;
  std::uint64_t version = 0;  // increases with every rebuild
};

class LiveReadModel {
 public:
  struct Options {
    int utc_offset_seconds = 9 * 3600;
    std::chrono::milliseconds info_interval{200};
    std::size_t max_unclaimed_answers = 100'000;  // answers nobody waits for are dropped oldest first
  };
  explicit LiveReadModel(Options options);
  LiveReadModel() : LiveReadModel(Options{}) {}

  // Projection thread: applies events (duplicates are dropped by sequence), records answers,
  // wakes waiters, and rebuilds the shared /info part when due.
  void Apply(const std::vector<events::Event>& events);
  // Rebuilds the shared /info part now if anything changed since the last rebuild (the
  // projection thread calls it when idle, so a quiet market is never staler than the interval).
  void RefreshInfo();

  // Start-up only (before any reader or the projection thread): starts from a model restored
  // from a snapshot (replay/snapshot_file.h) instead of an empty one.
  void Replace(ReadModel model) {
    std::unique_lock lock(mu_);
    model_ = std::move(model);
    changed_since_info_ = true;
  }

  // Readers: run `f(const ReadModel&)` under a shared lock.
  template <typename F>
  auto Read(F&& f) const {
    std::shared_lock lock(mu_);
    return f(model_);
  }

  // Blocks until the event answering the command at `request` is applied (then returns it)
  // or `timeout` passes (nullopt).
  std::optional<events::Event> WaitForAnswer(std::uint64_t request,
                                             std::chrono::milliseconds timeout);

  std::shared_ptr<const InfoShared> info() const;

 private:
  void RebuildInfoLocked();  // mu_ held exclusively

  const Options options_;
  mutable std::shared_mutex mu_;
  ReadModel model_;
  bool changed_since_info_ = true;
  std::chrono::steady_clock::time_point info_built_at_{};

  std::mutex answers_mu_;
  std::condition_variable answers_cv_;
  std::map<std::uint64_t, events::Event> answers_;  // request offset -> answering event

  mutable std::mutex info_mu_;
  std::shared_ptr<const InfoShared> info_;
};

}  // namespace isucoin::projections
