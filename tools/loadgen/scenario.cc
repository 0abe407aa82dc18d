#include "tools/loadgen/scenario.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "tools/loadgen/attacker.h"
#include "tools/loadgen/user.h"
#include "tools/loadgen/world.h"

namespace isucoin::loadgen {

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void OnSignal(int sig) { g_signal = sig; }

}  // namespace

int RunScenario(const Options& options) {
  Stats stats;
  AcknowledgedLog acknowledged_file(options.acknowledged);
  AcknowledgedLog disabled;
  AcknowledgedLog& acknowledged = options.acknowledged.empty() ? disabled : acknowledged_file;
  if (!options.acknowledged.empty() && !acknowledged.ok()) {
    std::fprintf(stderr, "loadgen: cannot open %s\n", options.acknowledged.c_str());
    return 2;
  }
  StopSignal stop;
  World world{options, stats, acknowledged, stop};

  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::fprintf(stderr, "loadgen: %d users over %.0f s ramp, %d attackers, %.0f s against %s (bank ids %s-*)\n",
               options.users, options.ramp_s, options.attackers, options.duration_s,
               options.target.c_str(), options.bank_prefix.c_str());

  // Every client is a thread started at its join time; join times are fixed by the options.
  std::vector<std::thread> threads;
  std::thread launcher([&] {
    const auto start = std::chrono::steady_clock::now();
    auto at = [&](int i, int n) {
      const double offset = n > 0 ? options.ramp_s * i / n : 0;
      return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(offset));
    };
    int next_user = 0, next_attacker = 0;
    while (!stop.stopped() && (next_user < options.users || next_attacker < options.attackers)) {
      const auto user_at = next_user < options.users ? at(next_user, options.users) : std::chrono::steady_clock::time_point::max();
      const auto attacker_at = next_attacker < options.attackers ? at(next_attacker, options.attackers) : std::chrono::steady_clock::time_point::max();
      const auto when = std::min(user_at, attacker_at);
      if (!stop.SleepFor(when - std::chrono::steady_clock::now())) break;
      if (user_at <= attacker_at) {
        threads.emplace_back([&world, i = next_user++] { User(world, i).Run(); });
      } else {
        threads.emplace_back([&world, i = next_attacker++] { Attacker(world, i).Run(); });
      }
    }
  });

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options.duration_s));
  auto next_sample = std::chrono::steady_clock::now();
  while (g_signal == 0 && std::chrono::steady_clock::now() < deadline) {
    if (std::chrono::steady_clock::now() >= next_sample) {
      stats.Sample();
      next_sample += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(options.sample_every_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (g_signal != 0) std::fprintf(stderr, "loadgen: signal %d, stopping\n", static_cast<int>(g_signal));
  stats.Sample();
  stop.Stop();
  launcher.join();
  for (auto& t : threads) t.join();

  std::fputs(stats.Text().c_str(), stdout);
  std::fflush(stdout);
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    out << stats.Report().dump(2) << "\n";
  }
  int status = 0;
  if (stats.violations_total() > 0) status = 1;
  if (stats.trades_seen() < options.expect_trades) {
    std::fprintf(stderr, "loadgen: only %llu trades seen, expected at least %llu\n",
                 static_cast<unsigned long long>(stats.trades_seen()),
                 static_cast<unsigned long long>(options.expect_trades));
    status = 1;
  }
  return status;
}

}  // namespace isucoin::loadgen
