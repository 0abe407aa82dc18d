// Settlement end to end: matcher + FileLog + Settlement against the local ISUBANK simulator
// with its DEFAULT latencies (check 50, reserve 70, cancel 80, commit 300 ms).
//
// Users are registered first; then every order is placed at once, so the matcher proposes
// as fast as the book allows and the bank round trips are what limits the rate. Measured from
// the first order to the last TradeSettled (reserve → report → TradeExecuted → commit →
// report → TradeSettled), plus the delay from a TradeExecuted being read to its /commit
// leaving (SPEC.md: commits start at once). The log shipper runs over the same events, so
// the delivery latency of analytics records (action time → received by the simulator's
// logger) is measured under that load too.
//
//   ./scripts/bench settlement [PAIRS]      (default 3000 trades)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "commands/matcher.h"
#include "effects/settlement.h"
#include "effects/shipper.h"
#include "events/codec.h"
#include "events/file_log.h"
#include "events/time_format.h"
#include "tests/support/isusim_process.h"

using namespace std::chrono_literals;
using namespace isucoin;

namespace {

events::Micros WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Cmd(events::CommandBody body) {
  return events::EncodeCommand(events::Command{0, WallMicros(), std::move(body)});
}

double Percentile(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]);
}

void Die(const std::string& what) {
  std::fprintf(stderr, "settlement_bench: %s\n", what.c_str());
  std::exit(1);
}

// Counts events of type T from `from` on, remembering where it stopped.
struct Tail {
  events::Log& log;
  events::Offset next = 0;
  std::size_t users = 0, settled = 0;
  void Poll() {
    for (;;) {
      auto records = log.Read(next, 8192);
      if (!records.ok() || records.value().empty()) return;
      for (const auto& rec : records.value()) {
        next = rec.offset + 1;
        auto e = events::DecodeEvent(rec.payload);
        if (!e.ok()) continue;
        if (std::holds_alternative<events::UserRegistered>(e.value().body)) ++users;
        if (std::holds_alternative<events::TradeSettled>(e.value().body)) ++settled;
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (pairs <= 0) Die("PAIRS must be positive");

  test_support::IsusimProcess sim({"--latency", "default"});
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("settlement_bench_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  auto commands = events::FileLog::Open(dir + "/commands");
  auto events_log = events::FileLog::Open(dir + "/events");
  if (!commands.ok() || !events_log.ok()) Die("cannot open logs in " + dir);

  // Accounts: each buyer pays for one trade, each seller is paid once.
  std::vector<std::string> signups;
  for (int i = 0; i < pairs; ++i) {
    sim.SetCredit("buyer" + std::to_string(i), 1'000'000'000);
    sim.SetCredit("seller" + std::to_string(i), 0);
    signups.push_back(Cmd(events::SignupRequested{"b", "buyer" + std::to_string(i), "$2a$04$x"}));
    signups.push_back(Cmd(events::SignupRequested{"s", "seller" + std::to_string(i), "$2a$04$x"}));
  }

  commands::Matcher matcher(*commands.value(), *events_log.value());
  if (!matcher.Recover().ok()) Die("matcher recovery failed");
  std::atomic<bool> stop{false};
  std::thread matcher_thread([&] { (void)matcher.Run(stop); });

  effects::SettlementOptions options;
  options.bank_endpoint = sim.bank_url();
  options.bank_appid = sim.appid();
  options.checkpoint_dir = dir + "/settlement";
  effects::Settlement settlement(*events_log.value(), *commands.value(), options);
  if (Status s = settlement.Start(); !s.ok()) Die(s.ToString());
  effects::ShipperOptions ship_options;
  ship_options.endpoint = effects::LoggerEndpoint{sim.logger_url(), sim.appid()};
  effects::Shipper shipper(*events_log.value(), ship_options);
  if (Status s = shipper.Start(); !s.ok()) Die(s.ToString());

  if (!commands.value()->Append(signups).ok()) Die("append signups");
  Tail tail{*events_log.value()};
  while (tail.users < static_cast<std::size_t>(2 * pairs)) {
    events_log.value()->WaitFor(tail.next, 100ms);
    tail.Poll();
  }
  // Users are numbered in signup order: buyer i = 2i+1, seller i = 2i+2.
  std::vector<std::string> orders;
  for (int i = 0; i < pairs; ++i) {
    const events::Id buyer = 2 * i + 1, seller = 2 * i + 2;
    orders.push_back(Cmd(events::OrderPlaced{seller, events::Side::kSell, 1, 1000 + i % 50}));
    orders.push_back(Cmd(events::OrderPlaced{buyer, events::Side::kBuy, 1, 1000 + i % 50}));
  }
  const auto start = std::chrono::steady_clock::now();
  if (!commands.value()->Append(orders).ok()) Die("append orders");
  const auto deadline = start + 300s;
  while (tail.settled < static_cast<std::size_t>(pairs)) {
    if (std::chrono::steady_clock::now() > deadline) Die("timed out: settled " + std::to_string(tail.settled));
    events_log.value()->WaitFor(tail.next, 100ms);
    tail.Poll();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const effects::SettlementMetrics& m = settlement.metrics();
  std::printf("trades %d in %.2f s; commit requests %llu, bank retries %llu, incidents %llu\n",
              pairs, seconds, static_cast<unsigned long long>(m.commit_requests.load()),
              static_cast<unsigned long long>(m.bank_retries.load()),
              static_cast<unsigned long long>(m.commit_incidents.load()));
  std::printf("commit start delay: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              m.commit_start_delay.PercentileMicros(50) / 1000.0,
              m.commit_start_delay.PercentileMicros(99) / 1000.0,
              m.commit_start_delay.MaxMicros() / 1000.0);
  std::printf("match proposed → reservations reported: p50 %.1f ms, p99 %.1f ms\n",
              m.match_report_delay.PercentileMicros(50) / 1000.0,
              m.match_report_delay.PercentileMicros(99) / 1000.0);
  std::printf("RESULT settlement_trades_per_sec %.0f trades/s\n", pairs / seconds);
  std::printf("RESULT commit_start_p99_ms %.3f ms\n",
              m.commit_start_delay.PercentileMicros(99) / 1000.0);

  const bool delivered = shipper.WaitDelivered(events_log.value()->End(), 60s);
  shipper.Stop();
  std::vector<std::int64_t> delivery_ms;
  for (const auto& r : sim.Logs()) {
    auto t = events::ParseTime(r["time"].get<std::string>());
    if (t.ok()) delivery_ms.push_back(r["received_at_ms"].get<std::int64_t>() - t.value() / 1000);
  }
  std::printf("analytics records received: %zu%s\n", delivery_ms.size(),
              delivered ? "" : " (NOT all delivered within 60 s)");
  std::printf("RESULT log_delivery_p50_ms %.0f ms\n", Percentile(delivery_ms, 0.50));
  std::printf("RESULT log_delivery_p99_ms %.0f ms\n", Percentile(delivery_ms, 0.99));

  settlement.Stop();
  stop = true;
  matcher_thread.join();
  (void)commands.value()->Close();
  (void)events_log.value()->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
