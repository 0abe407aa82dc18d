// The ISULOGGER state: admission limits per app id and every record it accepted. No sockets or
// clocks; callers pass the time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/isusim/outcome.h"

namespace isusim {

class Logger {
 public:
  static constexpr size_t kMaxBodyBytes = 1 << 20;  // SPEC.md: body ≤ 1 MB
  static constexpr int kMaxInFlight = 10;
  static constexpr int kMaxPerSecond = 20;

  struct Record {
    std::string appid;
    std::string tag;
    std::string time;
    nlohmann::json data;
    int64_t received_at_ms = 0;
  };

  // Decides whether a request may proceed: 413 when the body is over the limit, 429 when the app
  // id already has kMaxInFlight requests in flight or kMaxPerSecond admitted in the last second.
  // When admitted (nullopt), the request counts as in flight until Done(appid).
  // Only admitted requests enter the one-second window, so a client retrying a 429 is not locked
  // out for as long as it keeps retrying.
  std::optional<Outcome> Admit(const std::string& appid, size_t body_bytes, int64_t now_ms);
  void Done(const std::string& appid);

  // Validates and stores /send (bulk = false: one record object) or /send_bulk (an array of them).
  // All or nothing: one bad record → 400 naming it, nothing stored.
  Outcome Accept(const std::string& appid, const std::string& body, bool bulk, int64_t now_ms);

  // Records from index `since` on, in arrival order.
  nlohmann::json Records(size_t since) const;
  size_t size() const { return records_.size(); }

  // Forgets records and rate windows; requests in flight stay counted until they finish.
  void Reset();

 private:
  struct Limits {
    int in_flight = 0;
    std::deque<int64_t> admitted_ms;
  };
  std::map<std::string, Limits> limits_;
  std::vector<Record> records_;
};

}  // namespace isusim
