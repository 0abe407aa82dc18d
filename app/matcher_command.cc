// isucoin matcher --data DIR: the matcher process on the embedded FileLog. Follows
// DIR/commands (read-only: the api or the importer writes it) and is the one writer of
// DIR/events. Resumes exactly where it stopped (commands/matcher.h).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "commands/matcher.h"
#include "events/file_log.h"

namespace isucoin::app {
namespace {

void PrintMatcherUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin matcher --data DIR [--until-idle]\n\n"
               "Applies the commands of DIR/commands in order and appends the events to\n"
               "DIR/events, then follows new commands until SIGINT/SIGTERM. With --until-idle\n"
               "it exits once every command present has been applied.\n");
}

}  // namespace

int MatcherCommand(int argc, char** argv) {
  std::string dir;
  bool until_idle = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--until-idle") == 0) {
      until_idle = true;
    } else if (std::strcmp(argv[i], "--help") == 0) {
      PrintMatcherUsage(stdout);
      return 0;
    } else {
      PrintMatcherUsage(stderr);
      return 2;
    }
  }
  if (dir.empty()) {
    PrintMatcherUsage(stderr);
    return 2;
  }
  auto commands = events::FileLog::Open(dir + "/commands", {.read_only = true});
  if (!commands.ok()) {
    std::fprintf(stderr, "isucoin matcher: commands log: %s\n", commands.status().ToString().c_str());
    return 1;
  }
  auto events_log = events::FileLog::Open(dir + "/events");
  if (!events_log.ok()) {
    std::fprintf(stderr, "isucoin matcher: events log: %s\n", events_log.status().ToString().c_str());
    return 1;
  }
  commands::Matcher matcher(*commands.value(), *events_log.value());
  if (Status s = matcher.Recover(); !s.ok()) {
    std::fprintf(stderr, "isucoin matcher: recovery: %s\n", s.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "isucoin matcher: resuming at command %llu\n",
               static_cast<unsigned long long>(matcher.next_command()));
  const std::atomic<bool>& stop = StopRequested();
  Status status;
  if (until_idle) {
    for (;;) {
      auto applied = matcher.Step(4096);
      if (!applied.ok()) {
        status = applied.status();
        break;
      }
      if (applied.value() == 0) break;
    }
  } else {
    status = matcher.Run(stop);
  }
  Status closed = events_log.value()->Close();
  if (!status.ok() || !closed.ok()) {
    std::fprintf(stderr, "isucoin matcher: %s\n", (!status.ok() ? status : closed).ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "isucoin matcher: stopped after command %llu, %zu open orders\n",
               static_cast<unsigned long long>(matcher.next_command()),
               matcher.exchange().open_order_count());
  return 0;
}

}  // namespace isucoin::app
