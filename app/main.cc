// isucoin: one binary, one subcommand per role (DESIGN.md "Process layout").
#include <cstdio>
#include <cstring>

#include "app/subcommands.h"

namespace {

struct Entry {
  const char* name;
  const char* summary;
  isucoin::app::Subcommand run;
};

constexpr Entry kSubcommands[] = {
    {"serve", "the whole exchange in one process on the embedded FileLog (api, matcher, ...)",
     isucoin::app::ServeCommand},
    {"api", "one api node on Kafka: commands topic <- requests, events topic -> read model",
     isucoin::app::ApiCommand},
    {"import", "validate an initial dataset and append it as a new log's genesis",
     isucoin::app::ImportCommand},
    {"match", "run the matcher over JSON-lines commands (stdin or FILE), print its events",
     isucoin::app::MatchCommand},
    {"log", "FileLog tools: log verify DIR | log dump DIR [FROM] | log append DIR",
     isucoin::app::LogCommand},
    {"matcher", "the matcher process (active or standby): commands log -> events log",
     isucoin::app::MatcherCommand},
    {"settle", "the settlement worker: events log -> ISUBANK -> commands log",
     isucoin::app::SettleCommand},
    {"ship", "the log shipper: events log -> ISULOGGER /send_bulk (read-only)",
     isucoin::app::ShipCommand},
    {"project", "the PostgreSQL read model: events log -> tables (read-only)",
     isucoin::app::ProjectCommand},
    {"replay", "rebuild read models from DIR/events: replay --data DIR --to memory [...]",
     isucoin::app::ReplayCommand},
    {"audit", "re-run and check the logs of DIR, report findings (exit 1 on any)",
     isucoin::app::AuditCommand},
    {"snapshot", "write matcher and read-model snapshots of DIR now (serve stopped)",
     isucoin::app::SnapshotCommand},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: isucoin <subcommand> [args...]\n\nsubcommands:\n");
  for (const Entry& e : kSubcommands) std::fprintf(out, "  %-10s %s\n", e.name, e.summary);
  std::fprintf(out, "\n'isucoin <subcommand> --help' describes one.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const Entry& e : kSubcommands) {
    if (std::strcmp(argv[1], e.name) == 0) return e.run(argc - 2, argv + 2);
  }
  std::fprintf(stderr, "isucoin: unknown subcommand '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
