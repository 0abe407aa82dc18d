// What the run measured: per-route request counts and latencies, errors by kind, SPEC
// violations by kind (with the first examples), trades, and active users over time.
// Thread-safe: every user thread records into one Stats.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tools/loadgen/http_client.h"
#include "tools/loadgen/spec_checks.h"

namespace isucoin::loadgen {

enum class Route { kSignup, kSignin, kInfo, kPlaceOrder, kCancelOrder, kListOrders, kBankAdmin };
inline constexpr std::size_t kRouteCount = 7;
const char* RouteName(Route route);

class Stats {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kExamplesPerKind = 3;

  Stats();

  // Every request: latency when an answer came, statuses, and transport failures as errors
  // (`unavailable`, `timeout`, `transport`). Returns false when no answer came.
  bool Request(Route route, const HttpResponse& response);
  // Operational errors that break no SPEC rule (unavailable, 503, session lost, …).
  void Error(const std::string& kind);
  // SPEC violations; the first examples of each kind also go to stderr at once.
  void Violate(const Violations& violations);

  void Cursor(std::int64_t cursor);        // every /info answer's cursor
  void TradeSeen(std::int64_t trade_id);   // a trade of a simulated user's order
  void OrderAcknowledged() { orders_.fetch_add(1); }
  void CancelAcknowledged() { cancels_.fetch_add(1); }
  void UserJoined() { joined_.fetch_add(1); active_.fetch_add(1); }
  void UserLeft(bool timed_out) {
    active_.fetch_sub(1);
    if (timed_out) left_slow_.fetch_add(1);
  }

  // One point of the timeline (the scenario calls it every few seconds).
  void Sample();

  std::uint64_t violations_total() const;
  std::uint64_t trades_seen() const;
  nlohmann::json Report() const;
  std::string Text() const;  // the human report, from Report()

 private:
  struct RouteStats {
    std::mutex mu;
    std::vector<std::uint32_t> latencies_us;
    std::map<long, std::uint64_t> statuses;
  };
  struct Point {
    double t = 0;
    int active = 0;
    std::uint64_t requests = 0;
    std::int64_t cursor = 0;
    std::uint64_t violations = 0;
  };

  const Clock::time_point start_;
  mutable std::array<RouteStats, kRouteCount> routes_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> orders_{0}, cancels_{0};
  std::atomic<int> joined_{0}, active_{0}, left_slow_{0};

  mutable std::mutex mu_;  // everything below
  std::map<std::string, std::uint64_t> errors_;
  std::map<std::string, std::uint64_t> violations_;
  std::map<std::string, std::vector<std::string>> examples_;
  std::int64_t first_cursor_ = -1, max_cursor_ = 0;
  std::set<std::int64_t> trades_;
  std::vector<Point> timeline_;
};

}  // namespace isucoin::loadgen
