#include "tools/loadgen/stats.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace isucoin::loadgen {

using nlohmann::json;

const char* RouteName(Route route) {
  switch (route) {
    case Route::kSignup: return "POST /signup";
    case Route::kSignin: return "POST /signin";
    case Route::kInfo: return "GET /info";
    case Route::kPlaceOrder: return "POST /orders";
    case Route::kCancelOrder: return "DELETE /order/{id}";
    case Route::kListOrders: return "GET /orders";
    case Route::kBankAdmin: return "POST /admin/accounts (simulator)";
  }
  return "?";
}

Stats::Stats() : start_(Clock::now()) {}

bool Stats::Request(Route route, const HttpResponse& response) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  auto& r = routes_[static_cast<std::size_t>(route)];
  {
    std::lock_guard lock(r.mu);
    if (response.transport == Transport::kOk) {
      r.latencies_us.push_back(static_cast<std::uint32_t>(
          std::min<std::int64_t>(response.latency.count(), UINT32_MAX)));
    }
    r.statuses[response.transport == Transport::kOk ? response.status : 0]++;
  }
  switch (response.transport) {
    case Transport::kOk: return true;
    case Transport::kUnavailable: Error("unavailable"); return false;
    case Transport::kTimeout: Error("timeout"); return false;
    case Transport::kOther: Error("transport: " + response.error); return false;
  }
  return false;
}

void Stats::Error(const std::string& kind) {
  std::lock_guard lock(mu_);
  errors_[kind]++;
}

void Stats::Violate(const Violations& violations) {
  if (violations.empty()) return;
  std::lock_guard lock(mu_);
  for (const auto& v : violations) {
    violations_[v.kind]++;
    auto& examples = examples_[v.kind];
    if (examples.size() < kExamplesPerKind) {
      examples.push_back(v.detail);
      std::fprintf(stderr, "loadgen: SPEC violation %s: %s\n", v.kind.c_str(), v.detail.c_str());
    }
  }
}

void Stats::Cursor(std::int64_t cursor) {
  std::lock_guard lock(mu_);
  if (first_cursor_ < 0) first_cursor_ = cursor;
  max_cursor_ = std::max(max_cursor_, cursor);
}

void Stats::TradeSeen(std::int64_t trade_id) {
  std::lock_guard lock(mu_);
  trades_.insert(trade_id);
}

void Stats::Sample() {
  Point p;
  p.t = std::chrono::duration<double>(Clock::now() - start_).count();
  p.active = active_.load();
  p.requests = requests_.load();
  std::lock_guard lock(mu_);
  p.cursor = max_cursor_;
  for (const auto& [kind, n] : violations_) p.violations += n;
  timeline_.push_back(p);
}

std::uint64_t Stats::violations_total() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [kind, count] : violations_) n += count;
  return n;
}

std::uint64_t Stats::trades_seen() const {
  std::lock_guard lock(mu_);
  return trades_.size();
}

json Stats::Report() const {
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  json report;
  report["seconds"] = seconds;
  json routes = json::object();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < kRouteCount; ++i) {
    auto& r = routes_[i];
    std::vector<std::uint32_t> latencies;
    json statuses = json::object();
    std::uint64_t count = 0;
    {
      std::lock_guard lock(r.mu);
      latencies = r.latencies_us;
      for (const auto& [status, n] : r.statuses) {
        statuses[status == 0 ? "no answer" : std::to_string(status)] = n;
        count += n;
      }
    }
    if (count == 0) continue;
    total += count;
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double q) -> double {
      if (latencies.empty()) return 0;
      std::size_t at = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1) + 0.5);
      return latencies[std::min(at, latencies.size() - 1)] / 1000.0;
    };
    routes[RouteName(static_cast<Route>(i))] = {
        {"requests", count},
        {"per_second", static_cast<double>(count) / seconds},
        {"statuses", statuses},
        {"p50_ms", pct(0.5)},
        {"p99_ms", pct(0.99)},
        {"p999_ms", pct(0.999)},
        {"max_ms", latencies.empty() ? 0.0 : latencies.back() / 1000.0}};
  }
  report["routes"] = routes;
  report["requests"] = total;
  report["requests_per_second"] = static_cast<double>(total) / seconds;
  std::lock_guard lock(mu_);
  report["errors"] = errors_;
  report["violations"] = violations_;
  report["violation_examples"] = examples_;
  std::uint64_t violations = 0;
  for (const auto& [kind, n] : violations_) violations += n;
  report["violations_total"] = violations;
  const std::int64_t trades = first_cursor_ < 0 ? 0 : max_cursor_ - first_cursor_;
  report["trades"] = {{"cursor_first", std::max<std::int64_t>(first_cursor_, 0)},
                      {"cursor_last", max_cursor_},
                      {"settled_per_second", static_cast<double>(trades) / seconds},
                      {"seen_by_users", trades_.size()}};
  report["orders_acknowledged"] = orders_.load();
  report["cancels_acknowledged"] = cancels_.load();
  // Users still active when the load stopped (the last sample), not after they all left.
  report["users"] = {{"joined", joined_.load()},
                     {"active_at_end", timeline_.empty() ? active_.load() : timeline_.back().active},
                     {"left_after_slow_request", left_slow_.load()}};
  json timeline = json::array();
  for (const auto& p : timeline_) {
    timeline.push_back({{"t", p.t}, {"active_users", p.active}, {"requests", p.requests},
                        {"cursor", p.cursor}, {"violations", p.violations}});
  }
  report["timeline"] = timeline;
  return report;
}

std::string Stats::Text() const {
  const json r = Report();
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "loadgen report: %.1f s, %llu requests (%.1f/s)\n",
                r["seconds"].get<double>(), r["requests"].get<unsigned long long>(),
                r["requests_per_second"].get<double>());
  out << line;
  std::snprintf(line, sizeof line, "  %-34s %9s %8s %9s %9s %9s  %s\n", "route", "requests", "req/s",
                "p50 ms", "p99 ms", "p99.9 ms", "statuses");
  out << line;
  for (const auto& [name, s] : r["routes"].items()) {
    std::string statuses;
    for (const auto& [status, n] : s["statuses"].items()) {
      statuses += (statuses.empty() ? "" : " ") + status + ":" + std::to_string(n.get<std::uint64_t>());
    }
    std::snprintf(line, sizeof line, "  %-34s %9llu %8.1f %9.2f %9.2f %9.2f  %s\n", name.c_str(),
                  s["requests"].get<unsigned long long>(), s["per_second"].get<double>(),
                  s["p50_ms"].get<double>(), s["p99_ms"].get<double>(), s["p999_ms"].get<double>(),
                  statuses.c_str());
    out << line;
  }
  const auto& t = r["trades"];
  std::snprintf(line, sizeof line,
                "trades: cursor %lld → %lld (%.2f settled trades/s); %llu trades of simulated users seen\n",
                t["cursor_first"].get<long long>(), t["cursor_last"].get<long long>(),
                t["settled_per_second"].get<double>(), t["seen_by_users"].get<unsigned long long>());
  out << line;
  out << "orders acknowledged: " << r["orders_acknowledged"] << ", cancels acknowledged: "
      << r["cancels_acknowledged"] << "\n";
  out << "users: " << r["users"]["joined"] << " joined, " << r["users"]["active_at_end"]
      << " active when the load stopped, " << r["users"]["left_after_slow_request"]
      << " left after a request over 10 s\n";
  out << "errors:";
  if (r["errors"].empty()) out << " none";
  for (const auto& [kind, n] : r["errors"].items()) out << "\n  " << kind << ": " << n;
  out << "\nSPEC violations: " << r["violations_total"];
  for (const auto& [kind, n] : r["violations"].items()) {
    out << "\n  " << kind << ": " << n;
    for (const auto& example : r["violation_examples"][kind]) {
      out << "\n      e.g. " << example.get<std::string>();
    }
  }
  out << "\nactive users over time (t s: users, req/s, cursor):";
  double last_t = 0;
  std::uint64_t last_requests = 0;
  for (const auto& p : r["timeline"]) {
    const double dt = p["t"].get<double>() - last_t;
    const auto requests = p["requests"].get<std::uint64_t>();
    std::snprintf(line, sizeof line, "\n  %6.0f: %4d users, %8.1f req/s, cursor %lld", p["t"].get<double>(),
                  p["active_users"].get<int>(),
                  dt > 0 ? static_cast<double>(requests - last_requests) / dt : 0.0,
                  p["cursor"].get<long long>());
    out << line;
    last_t = p["t"].get<double>();
    last_requests = requests;
  }
  out << "\n";
  return out.str();
}

}  // namespace isucoin::loadgen
