// isucoin project (--data DIR | --log URL) --postgres CONNINFO: the PostgreSQL read model as its
// own process (projections/postgres_sink.h). Follows the events log read-only and writes the tables of
// README.md "PostgreSQL read model", the log position in the same transaction as the rows: safe
// to kill at any moment, the next run resumes exactly where the last commit left off.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "app/exchange_logs.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "events/time_format.h"
#include "projections/postgres_sink.h"

namespace isucoin::app {
namespace {

void PrintProjectUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin project (--data DIR | --log URL) --postgres CONNINFO [--schema NAME]\n"
               "                       [--utc-offset +09:00] [--batch-events N] [--batch-ms MS]\n\n"
               "Writes the events log (read-only: DIR/events, or --log DIR, file:DIR or\n"
               "kafka://HOST:PORT[,...]/PREFIX) into PostgreSQL: users, orders, trades, trade legs,\n"
               "candles, balances, and the log position in the same transaction (exactly once).\n"
               "CONNINFO is a libpq conninfo or URL; tables live in schema NAME (default\n"
               "isucoin), created and migrated at start. Batches: up to N events (5000) or what\n"
               "arrives in MS ms (100) per transaction. Runs until SIGINT/SIGTERM.\n");
}

}  // namespace

int ProjectCommand(int argc, char** argv) {
  std::string dir, log_url;
  projections::PostgresSinkOptions options;
  for (int i = 0; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--data") == 0 && has_value) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--log") == 0 && has_value) {
      log_url = argv[++i];
    } else if (std::strcmp(argv[i], "--postgres") == 0 && has_value) {
      options.conninfo = argv[++i];
    } else if (std::strcmp(argv[i], "--schema") == 0 && has_value) {
      options.schema = argv[++i];
    } else if (std::strcmp(argv[i], "--batch-events") == 0 && has_value) {
      options.max_batch_events = std::max(1L, std::atol(argv[++i]));
    } else if (std::strcmp(argv[i], "--batch-ms") == 0 && has_value) {
      options.max_batch_delay = std::chrono::milliseconds(std::max(1L, std::atol(argv[++i])));
    } else if (std::strcmp(argv[i], "--utc-offset") == 0 && has_value) {
      auto offset = events::ParseUtcOffset(argv[++i]);
      if (!offset.ok()) {
        std::fprintf(stderr, "project: --utc-offset: %s\n", offset.status().ToString().c_str());
        return 2;
      }
      options.utc_offset_seconds = offset.value();
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      PrintProjectUsage(stdout);
      return 0;
    } else {
      PrintProjectUsage(stderr);
      return 2;
    }
  }
  if ((dir.empty() && log_url.empty()) || options.conninfo.empty()) {
    PrintProjectUsage(stderr);
    return 2;
  }
  auto logs = OpenExchangeLogsFor(dir, log_url, {.events_only = true});
  if (!logs.ok()) {
    std::fprintf(stderr, "project: %s\n", logs.status().ToString().c_str());
    return logs.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  const std::atomic<bool>& stop = StopRequested();
  projections::PostgresSink sink(*logs.value().events, options);
  if (Status s = sink.Start(); !s.ok()) {
    std::fprintf(stderr, "project: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "project: following the events of %s from offset %llu into schema %s\n",
               logs.value().location.c_str(), static_cast<unsigned long long>(sink.position()),
               options.schema.c_str());
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sink.Stop();
  const auto st = sink.stats();
  std::fprintf(stderr, "project: stopped at offset %llu (%llu events in %llu transactions)\n",
               static_cast<unsigned long long>(sink.position()),
               static_cast<unsigned long long>(st.events_applied),
               static_cast<unsigned long long>(st.transactions));
  return 0;
}

}  // namespace isucoin::app
