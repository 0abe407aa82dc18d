// MemoryLog: a Log kept in memory. Nothing survives the process: for tests, for replays into
// memory, and for tools that build a log before writing it out. Same semantics as the durable
// backends otherwise (dense offsets, atomic batches, WaitFor).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "events/log.h"

namespace isucoin::events {

class MemoryLog final : public Log {
 public:
  Result<Offset> Append(std::span<const std::string> payloads) override {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Closed("memory log is closed");
    Offset first = records_.size();
    records_.insert(records_.end(), payloads.begin(), payloads.end());
    cv_.notify_all();
    return first;
  }

  Result<std::vector<LogRecord>> Read(Offset from, std::size_t max_records) override {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Closed("memory log is closed");
    std::vector<LogRecord> out;
    for (Offset o = from; o < records_.size() && out.size() < max_records; ++o) {
      out.push_back(LogRecord{o, records_[o]});
    }
    return out;
  }

  Offset WaitFor(Offset offset, std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return closed_ || records_.size() > offset; });
    return records_.size();
  }

  Offset End() const override {
    std::lock_guard lock(mu_);
    return records_.size();
  }

  Status Close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
    return Status::Ok();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> records_;
  bool closed_ = false;
};

}  // namespace isucoin::events
