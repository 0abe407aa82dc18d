// isucoin settle --data DIR [--log URL] --bank URL --bank-appid ID: the settlement worker as
// its own process (effects/settlement.h). Follows the events log (read-only: the matcher writes
// it), appends its reports to the commands log, checkpoints in DIR/settlement/. The logs are in
// DIR (FileLog) unless --log names others (app/exchange_logs.h), e.g. Kafka topics.
//
// Run exactly one settle per exchange: two would reserve every leg twice. On Kafka it is
// restarted in place (its checkpoint is local) by whatever supervises it.
//
// On FileLog a directory has one writer (flock on DIR/commands/LOCK), and this process is
// the writer of DIR/commands. So `settle` runs as its own process only where nothing else
// appends commands through FileLog from another process (tests, replays, a settlement catch-up
// after an outage); beside a live api it must run inside that process (`serve`), which shares
// its commands FileLog, or on KafkaLog, where producers do not exclude each other. Started
// beside another writer, it stops at once with the lock error instead of corrupting the log.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "app/exchange_logs.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "effects/settlement.h"

namespace isucoin::app {
namespace {

void PrintSettleUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin settle --data DIR [--log URL] --bank URL --bank-appid ID\n"
               "                      [--reserve-concurrency N] [--commit-concurrency N]\n\n"
               "Settles trades at ISUBANK: follows the events log, reserves the legs of every\n"
               "proposed match, commits executed trades, releases aborted reservations, and\n"
               "appends the outcomes to the commands log. The logs are in DIR unless --log\n"
               "names them: DIR, file:DIR or kafka://HOST:PORT[,...]/PREFIX. The bank\n"
               "named here is used until an /initialize in the log names another.\n"
               "Checkpoint: DIR/settlement/. Runs until SIGINT/SIGTERM.\n");
}

bool ParseCount(const char* text, int* out) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 4096) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int SettleCommand(int argc, char** argv) {
  std::string dir, log_url;
  effects::SettlementOptions options;
  for (int i = 0; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--data") == 0 && has_value) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--log") == 0 && has_value) {
      log_url = argv[++i];
    } else if (std::strcmp(argv[i], "--bank") == 0 && has_value) {
      options.bank_endpoint = argv[++i];
    } else if (std::strcmp(argv[i], "--bank-appid") == 0 && has_value) {
      options.bank_appid = argv[++i];
    } else if (std::strcmp(argv[i], "--reserve-concurrency") == 0 && has_value &&
               ParseCount(argv[i + 1], &options.reserve_concurrency)) {
      ++i;
    } else if (std::strcmp(argv[i], "--commit-concurrency") == 0 && has_value &&
               ParseCount(argv[i + 1], &options.commit_concurrency)) {
      ++i;
    } else if (std::strcmp(argv[i], "--help") == 0) {
      PrintSettleUsage(stdout);
      return 0;
    } else {
      PrintSettleUsage(stderr);
      return 2;
    }
  }
  if (dir.empty()) {
    PrintSettleUsage(stderr);
    return 2;
  }
  auto logs = OpenExchangeLogsFor(dir, log_url, {.write_commands = true, .batches_commands = true});
  if (!logs.ok()) {
    std::fprintf(stderr, "isucoin settle: %s\n", logs.status().ToString().c_str());
    return logs.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  options.checkpoint_dir = dir + "/settlement";
  const std::atomic<bool>& stop = StopRequested();

  effects::Settlement settlement(*logs.value().events, *logs.value().commands, options);
  if (Status s = settlement.Start(); !s.ok()) {
    std::fprintf(stderr, "isucoin settle: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "isucoin settle: following events from offset %llu\n",
               static_cast<unsigned long long>(settlement.next_offset()));
  Status health;
  while (!stop.load() && (health = settlement.health()).ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  settlement.Stop();
  Status closed = logs.value().Close();
  const effects::SettlementMetrics& m = settlement.metrics();
  std::fprintf(stderr,
               "isucoin settle: stopped at event %llu; reserved %llu legs (%llu refused), "
               "committed %llu reserve ids in %llu requests, %llu incidents\n",
               static_cast<unsigned long long>(settlement.next_offset()),
               static_cast<unsigned long long>(m.reservations_ok.load()),
               static_cast<unsigned long long>(m.reservations_refused.load()),
               static_cast<unsigned long long>(m.reserve_ids_committed.load()),
               static_cast<unsigned long long>(m.commit_requests.load()),
               static_cast<unsigned long long>(m.commit_incidents.load()));
  if (!health.ok() || !closed.ok()) {
    std::fprintf(stderr, "isucoin settle: %s\n",
                 (!health.ok() ? health : closed).ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace isucoin::app
