// chaos_check: after ./scripts/chaos's kill -9 rounds, proves nothing was lost or done twice.
//   lost_acknowledged  acknowledged orders (POST /orders 200) without their OrderAccepted in
//                      the events log, or missing from their user's GET /orders after the
//                      final restart (unless the events show them cancelled); acknowledged
//                      cancels without OrderCancelled, or whose order is still listed
//   double_settled     reservations the simulator committed more than once
//   settled_uncommitted  reservations of settled trades not committed exactly once
//   unsettled_trades   TradeExecuted without TradeSettled once drained
//   lost_logs          logger records the events imply that the simulator never received
//                      (each key counted: duplicates are fine, delivery is at-least-once)
// It waits (--drain-timeout) for settlement and shipping to catch up before judging.
// Exit 0 when every RESULT that counts a failure is 0, 1 otherwise, 2 on usage or I/O errors.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tools/loadgen/expected_effects.h"
#include "tools/loadgen/http_client.h"

namespace isucoin::loadgen {
namespace {

using nlohmann::json;

struct Flags {
  std::string data, acknowledged, bank_admin, target, logger_appid = "isucoin-dev";
  double drain_timeout_s = 120;
  int utc_offset_seconds = 9 * 3600;
};

struct Acknowledged {
  std::map<std::string, std::string> passwords;              // bank_id → password
  std::map<std::int64_t, std::string> orders;                // order id → bank_id
  std::set<std::int64_t> cancels;
};

Acknowledged ReadAcknowledged(const std::string& path) {
  Acknowledged a;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // A torn last line (the load generator killed mid-write) is not an acknowledgement.
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const std::string kind = j.value("kind", "");
    if (kind == "user") a.passwords[j.value("bank_id", "")] = j.value("password", "");
    if (kind == "order") a.orders[j.value("order_id", std::int64_t{0})] = j.value("bank_id", "");
    if (kind == "cancel") a.cancels.insert(j.value("order_id", std::int64_t{0}));
  }
  return a;
}

std::optional<json> GetJson(HttpClient& client, const std::string& path) {
  auto r = client.Get(path);
  if (r.transport != Transport::kOk || r.status != 200) return std::nullopt;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

struct Delivery {
  std::uint64_t missing = 0, duplicates = 0, received = 0;
  std::map<std::string, std::uint64_t> missing_per_tag;
  std::string first_missing;
};

Delivery CompareLogs(const ExpectedEffects& expected, const json& received, const std::string& appid) {
  std::map<std::string, std::uint64_t> got;
  Delivery d;
  for (const auto& r : received) {
    if (r.value("appid", "") != appid || !r.contains("data")) continue;
    ++d.received;
    got[LoggerRecordKey(r.value("tag", ""), r.value("time", ""), r["data"].dump())]++;
  }
  for (const auto& [key, n] : expected.logger_records) {
    auto it = got.find(key);
    const std::uint64_t have = it == got.end() ? 0 : it->second;
    if (have < n) {
      d.missing += n - have;
      d.missing_per_tag[key.substr(0, key.find('|'))] += n - have;
      if (d.first_missing.empty()) d.first_missing = key;
    } else {
      d.duplicates += have - n;
    }
  }
  return d;
}

std::uint64_t Unsettled(const ExpectedEffects& e) {
  std::uint64_t n = 0;
  for (const auto& [trade, reservations] : e.trade_reservations) n += !e.settled_trades.contains(trade);
  return n;
}

// Signs in as every user of the acknowledgements and compares its GET /orders with what was
// acknowledged. Returns the orders lost or wrongly listed; users that cannot be checked are
// counted in *unverifiable.
std::uint64_t CheckThroughApi(const Flags& flags, const Acknowledged& acks, const ExpectedEffects& e,
                              std::uint64_t* unverifiable) {
  std::map<std::string, std::vector<std::int64_t>> by_user;
  for (const auto& [id, bank_id] : acks.orders) by_user[bank_id].push_back(id);
  std::uint64_t lost = 0;
  for (const auto& [bank_id, ids] : by_user) {
    HttpClient client(flags.target);
    std::string cookie;
    for (int attempt = 0; attempt < 20 && cookie.empty(); ++attempt) {
      auto it = acks.passwords.find(bank_id);
      if (it == acks.passwords.end()) break;
      auto r = client.Post("/signin", "bank_id=" + FormEscape(bank_id) + "&password=" + FormEscape(it->second));
      if (r.transport == Transport::kOk && r.status == 200) cookie = r.session_cookie;
      else std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    auto r = cookie.empty() ? HttpResponse{} : client.Get("/orders", cookie);
    json listed = r.transport == Transport::kOk && r.status == 200 ? json::parse(r.body, nullptr, false) : json();
    if (!listed.is_array()) {
      ++*unverifiable;
      std::fprintf(stderr, "chaos_check: cannot read the orders of %s\n", bank_id.c_str());
      continue;
    }
    std::set<std::int64_t> shown;
    for (const auto& o : listed) shown.insert(o.value("id", std::int64_t{0}));
    for (auto id : ids) {
      const bool cancelled = e.cancelled_orders.contains(id);
      if (!cancelled && !shown.contains(id)) {
        ++lost;
        std::fprintf(stderr, "chaos_check: acknowledged order %lld of %s is not in its GET /orders\n",
                     static_cast<long long>(id), bank_id.c_str());
      }
      if (acks.cancels.contains(id) && shown.contains(id)) {
        ++lost;
        std::fprintf(stderr, "chaos_check: order %lld was cancelled (acknowledged) but is listed\n",
                     static_cast<long long>(id));
      }
    }
  }
  return lost;
}

int Run(const Flags& flags) {
  const Acknowledged acks = ReadAcknowledged(flags.acknowledged);
  HttpClient bank(flags.bank_admin, std::chrono::seconds(60));
  const auto start = std::chrono::steady_clock::now();
  ExpectedEffects effects;
  json logs, reservations;
  Delivery delivery;
  // Settlement and shipping run after the fact: wait until both caught up (or time is up).
  for (;;) {
    auto read = ReadExpectedEffects(flags.data, flags.utc_offset_seconds);
    if (!read.ok()) {
      std::fprintf(stderr, "chaos_check: %s\n", read.status().message().c_str());
      return 2;
    }
    effects = std::move(read).value();
    auto got_logs = GetJson(bank, "/admin/logs");
    auto got_reservations = GetJson(bank, "/admin/reservations");
    if (!got_logs || !got_reservations) {
      std::fprintf(stderr, "chaos_check: the simulator's admin API did not answer\n");
      return 2;
    }
    logs = std::move(*got_logs);
    reservations = std::move(*got_reservations);
    delivery = CompareLogs(effects, logs, flags.logger_appid);
    const auto unsettled = Unsettled(effects);
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "chaos_check: %.0f s: %llu trades unsettled, %llu logs not delivered yet\n", waited,
                 static_cast<unsigned long long>(unsettled), static_cast<unsigned long long>(delivery.missing));
    if ((unsettled == 0 && delivery.missing == 0) || waited >= flags.drain_timeout_s) break;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }

  std::uint64_t lost_in_events = 0;
  for (const auto& [id, bank_id] : acks.orders) {
    if (!effects.accepted_orders.contains(id)) {
      ++lost_in_events;
      std::fprintf(stderr, "chaos_check: acknowledged order %lld has no OrderAccepted\n", static_cast<long long>(id));
    }
  }
  for (auto id : acks.cancels) {
    if (!effects.cancelled_orders.contains(id)) {
      ++lost_in_events;
      std::fprintf(stderr, "chaos_check: acknowledged cancel of %lld has no OrderCancelled\n", static_cast<long long>(id));
    }
  }
  std::uint64_t lost_in_api = 0, unverifiable = 0;
  if (!flags.target.empty()) lost_in_api = CheckThroughApi(flags, acks, effects, &unverifiable);

  std::map<std::int64_t, int> commits;
  std::uint64_t double_settled = 0;
  for (const auto& r : reservations) {
    const int n = r.value("commit_count", 0);
    commits[r.value("reserve_id", std::int64_t{0})] = n;
    if (n > 1) ++double_settled;
  }
  std::uint64_t settled_uncommitted = 0;
  for (const auto& [trade, ids] : effects.trade_reservations) {
    if (!effects.settled_trades.contains(trade)) continue;
    for (auto id : ids) {
      auto it = commits.find(id);
      if (it == commits.end() || it->second != 1) {
        ++settled_uncommitted;
        std::fprintf(stderr, "chaos_check: trade %lld reservation %lld committed %d times\n",
                     static_cast<long long>(trade), static_cast<long long>(id), it == commits.end() ? 0 : it->second);
      }
    }
  }
  if (delivery.missing > 0) {
    std::fprintf(stderr, "chaos_check: first missing log: %s\n", delivery.first_missing.c_str());
    for (const auto& [tag, n] : delivery.missing_per_tag) {
      std::fprintf(stderr, "chaos_check: missing %s: %llu\n", tag.c_str(), static_cast<unsigned long long>(n));
    }
  }
  const std::uint64_t unsettled = Unsettled(effects);
  std::printf("logs expected per tag:");
  for (const auto& [tag, n] : effects.logger_records_per_tag) std::printf(" %s=%llu", tag.c_str(), static_cast<unsigned long long>(n));
  std::printf("\n");
  auto result = [](const char* name, std::uint64_t v) {
    std::printf("RESULT %s %llu\n", name, static_cast<unsigned long long>(v));
  };
  result("lost_acknowledged", lost_in_events + lost_in_api);
  result("double_settled", double_settled);
  result("lost_logs", delivery.missing);
  result("unsettled_trades", unsettled);
  result("settled_uncommitted", settled_uncommitted);
  result("unverifiable_users", unverifiable);
  result("acknowledged_orders", acks.orders.size());
  result("acknowledged_cancels", acks.cancels.size());
  result("trades_executed", effects.trade_reservations.size());
  result("logs_expected", [&] { std::uint64_t n = 0; for (auto& [k, v] : effects.logger_records) n += v; return n; }());
  result("logs_received", delivery.received);
  result("duplicate_logs", delivery.duplicates);
  result("duplicate_events", effects.duplicate_events);
  std::fflush(stdout);
  const bool failed = lost_in_events + lost_in_api + double_settled + delivery.missing + unsettled +
                          settled_uncommitted + unverifiable > 0;
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace isucoin::loadgen

int main(int argc, char** argv) {
  isucoin::loadgen::Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--data") flags.data = v;
    else if (f == "--acknowledged") flags.acknowledged = v;
    else if (f == "--bank-admin") flags.bank_admin = v;
    else if (f == "--target") flags.target = v;
    else if (f == "--logger-appid") flags.logger_appid = v;
    else if (f == "--drain-timeout") flags.drain_timeout_s = std::stod(v);
    else if (f == "--utc-offset-seconds") flags.utc_offset_seconds = std::stoi(v);
    else {
      std::fprintf(stderr, "chaos_check: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (flags.data.empty() || flags.acknowledged.empty() || flags.bank_admin.empty() || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: chaos_check --data DIR --acknowledged FILE --bank-admin URL [--target URL]\n"
                 "                   [--logger-appid ID] [--drain-timeout S] [--utc-offset-seconds N]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int status = isucoin::loadgen::Run(flags);
  curl_global_cleanup();
  return status;
}
