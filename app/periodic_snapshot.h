// When a worker snapshots its state: every `every` records or every `interval`, whichever
// comes first, and only if anything moved since the last one. Used by the matcher and the
// read-model threads of every process that keeps snapshots.
#pragma once

#include <chrono>
#include <cstdint>

namespace isucoin::app {

class PeriodicSnapshot {
 public:
  PeriodicSnapshot(std::uint64_t every, std::chrono::seconds interval, std::uint64_t at)
      : every_(every), interval_(interval), last_(at), last_time_(std::chrono::steady_clock::now()) {}

  bool Due(std::uint64_t at) {
    if (at == last_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (at - last_ < every_ && now - last_time_ < interval_) return false;
    last_ = at;
    last_time_ = now;
    return true;
  }

 private:
  std::uint64_t every_;
  std::chrono::seconds interval_;
  std::uint64_t last_;
  std::chrono::steady_clock::time_point last_time_;
};

}  // namespace isucoin::app
