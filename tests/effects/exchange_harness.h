// A whole exchange for settlement tests: commands and events logs, the real matcher on its own
// thread, and a Settlement worker, against a simulator the test owns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands/matcher.h"
#include "effects/settlement.h"
#include "events/codec.h"
#include "events/log.h"

namespace isucoin::effects::testing {

using namespace std::chrono_literals;

inline events::Micros WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline void AppendCommand(events::Log& log, events::CommandBody body) {
  std::string payload = events::EncodeCommand(events::Command{0, WallMicros(), std::move(body)});
  auto r = log.Append(std::span<const std::string>(&payload, 1));
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
}

inline std::vector<events::Event> ReadEvents(events::Log& log) {
  std::vector<events::Event> out;
  for (events::Offset from = 0;;) {
    auto records = log.Read(from, 4096);
    if (!records.ok() || records.value().empty()) break;
    for (const auto& rec : records.value()) {
      auto e = events::DecodeEvent(rec.payload);
      if (e.ok()) out.push_back(std::move(e).value());
      from = rec.offset + 1;
    }
  }
  return out;
}

template <typename T>
std::vector<T> Only(const std::vector<events::Event>& all) {
  std::vector<T> out;
  for (const auto& e : all) {
    if (const T* t = std::get_if<T>(&e.body)) out.push_back(*t);
  }
  return out;
}

// Polls `done` until true or `timeout`; returns done().
inline bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// Options that keep tests quick: short backoffs, small pools.
inline SettlementOptions TestOptions(const std::string& bank_url, const std::string& appid) {
  SettlementOptions o;
  o.bank_endpoint = bank_url;
  o.bank_appid = appid;
  o.bank.call_timeout = 2000ms;
  o.bank.retry.max_attempts = 3;
  o.bank.retry.initial_backoff = 2ms;
  o.bank.retry.max_backoff = 20ms;
  o.max_retry_backoff = 100ms;
  o.reserve_concurrency = 16;
  o.commit_concurrency = 8;
  o.release_concurrency = 2;
  return o;
}

// Runs the matcher over `commands` → `events` on a thread until destroyed.
class MatcherThread {
 public:
  MatcherThread(events::Log& commands, events::Log& events) : matcher_(commands, events) {
    Status s = matcher_.Recover();
    if (!s.ok()) throw std::runtime_error(s.ToString());
    thread_ = std::thread([this] { status_ = matcher_.Run(stop_); });
  }
  ~MatcherThread() {
    stop_ = true;
    thread_.join();
  }

 private:
  commands::Matcher matcher_;
  std::atomic<bool> stop_{false};
  Status status_;
  std::thread thread_;
};

// bank_id → user_id from the UserRegistered events.
inline std::map<std::string, events::Id> Users(events::Log& events) {
  std::map<std::string, events::Id> out;
  for (const auto& u : Only<events::UserRegistered>(ReadEvents(events))) out[u.bank_id] = u.user_id;
  return out;
}

}  // namespace isucoin::effects::testing
