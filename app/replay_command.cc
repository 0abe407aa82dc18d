// isucoin replay --data DIR --to memory [--until-offset N | --until-time T] [--write-snapshot]
//
// Rebuilds read models from DIR/events (opened read-only: safe while `serve` runs). Each
// destination is one branch of RunReplay's `--to` dispatch below; a destination that is not
// compiled into this binary is reported as such.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "app/subcommands.h"
#include "events/file_log.h"
#include "events/codec.h"
#include "events/time_format.h"
#include "projections/postgres_sink.h"
#include "replay/memory_replay.h"
#include "replay/snapshot_file.h"

namespace isucoin::app {
namespace {

void PrintReplayUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin replay --data DIR --to memory [--until-offset N | --until-time T]\n"
               "                      [--write-snapshot] [--utc-offset +09:00]\n\n"
               "Rebuilds the read model from DIR/events up to events-log offset N (exclusive) or\n"
               "RFC 3339 time T (inclusive), and prints a summary: users, orders, trades, last\n"
               "trade, best prices, state digest. --write-snapshot stores the result in\n"
               "DIR/snapshots (when the whole log was replayed... or up to the limit given).\n"
               "Destinations: memory; postgres (--postgres CONNINFO [--schema isucoin]): the\n"
               "tables are built by COPY in a fresh schema, then swapped in atomically (stop\n"
               "any sink of that schema first).\n"
               "Exit: 0 done, 1 failed, 2 usage.\n");
}

struct ReplayArgs {
  std::string dir;
  std::string to;
  std::optional<std::uint64_t> until_offset;
  std::optional<events::Micros> until_time;
  bool write_snapshot = false;
  int utc_offset_seconds = 9 * 3600;
  std::string postgres;                // --to postgres: libpq conninfo
  std::string postgres_schema = "isucoin";
};

int ReplayToMemory(const ReplayArgs& args) {
  events::FileLogOptions options;
  options.read_only = true;
  auto log = events::FileLog::Open(args.dir + "/events", options);
  if (!log.ok()) {
    std::fprintf(stderr, "isucoin replay: %s\n", log.status().ToString().c_str());
    return 1;
  }
  replay::MemoryReplayOptions ro;
  ro.utc_offset_seconds = args.utc_offset_seconds;
  ro.until_offset = args.until_offset;
  ro.until_time = args.until_time;
  const auto start = std::chrono::steady_clock::now();
  auto result = replay::ReplayIntoMemory(*log.value(), std::move(ro));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "isucoin replay: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const auto& r = result.value();
  std::printf("replayed events [0, %" PRIu64 ") of %" PRIu64 " in %.3f s (%.0f events/s)\n",
              r.next_offset, log.value()->End(), secs, secs > 0 ? r.events_read / secs : 0.0);
  if (r.last_event_time) {
    std::printf("state as of: %s\n",
                events::FormatTime(*r.last_event_time, args.utc_offset_seconds).c_str());
  }
  std::fputs(replay::DescribeModel(r.model, args.utc_offset_seconds).c_str(), stdout);
  if (args.write_snapshot) {
    replay::SnapshotStore store(args.dir + "/snapshots");
    auto path = store.Write(replay::SnapshotKind::kReadModel, r.next_offset, r.model.Serialize());
    if (!path.ok()) {
      std::fprintf(stderr, "isucoin replay: %s\n", path.status().ToString().c_str());
      return 1;
    }
    std::printf("snapshot: %s\n", path.value().c_str());
  }
  return 0;
}

// --to postgres: COPY into a fresh schema, swapped in (projections/postgres_sink.h).
int ReplayToPostgresCommand(const ReplayArgs& args) {
  if (args.postgres.empty()) {
    std::fprintf(stderr, "isucoin replay: --to postgres needs --postgres CONNINFO\n");
    return 2;
  }
  events::FileLogOptions options;
  options.read_only = true;
  auto log = events::FileLog::Open(args.dir + "/events", options);
  if (!log.ok()) {
    std::fprintf(stderr, "isucoin replay: %s\n", log.status().ToString().c_str());
    return 1;
  }
  std::optional<std::uint64_t> until = args.until_offset;
  if (args.until_time) {  // the first event after T ends the replay (T inclusive)
    std::uint64_t at = 0;
    const std::uint64_t end = log.value()->End();
    while (at < end && !until) {
      auto records = log.value()->Read(at, 10000);
      if (!records.ok() || records.value().empty()) break;
      for (const auto& rec : records.value()) {
        auto e = events::DecodeEvent(rec.payload);
        if (e.ok() && e.value().time > *args.until_time) {
          until = rec.offset;
          break;
        }
        at = rec.offset + 1;
      }
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = projections::ReplayToPostgres(*log.value(), args.postgres, args.postgres_schema, until,
                                         args.utc_offset_seconds);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) {
    std::fprintf(stderr, "isucoin replay: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("replayed events [0, %" PRIu64 ") into schema %s: %" PRIu64 " rows in %.3f s "
              "(%.0f rows/s)\n",
              r.value().end, args.postgres_schema.c_str(), r.value().rows, secs,
              secs > 0 ? r.value().rows / secs : 0.0);
  return 0;
}

// The one place that knows the destinations.
int RunReplay(const ReplayArgs& args) {
  if (args.to == "memory") return ReplayToMemory(args);
  if (args.to == "postgres") return ReplayToPostgresCommand(args);
  std::fprintf(stderr, "isucoin replay: unknown destination '%s' (memory, postgres)\n",
               args.to.c_str());
  return 2;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  ReplayArgs args;
  for (int i = 0; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--data") == 0 && has_value) {
      args.dir = argv[++i];
    } else if (std::strcmp(argv[i], "--to") == 0 && has_value) {
      args.to = argv[++i];
    } else if (std::strcmp(argv[i], "--until-offset") == 0 && has_value) {
      char* end = nullptr;
      const char* text = argv[++i];
      args.until_offset = std::strtoull(text, &end, 10);
      if (*text == '\0' || *end != '\0' || *text == '-') {
        std::fprintf(stderr, "isucoin replay: --until-offset: not an offset: %s\n", text);
        return 2;
      }
    } else if (std::strcmp(argv[i], "--until-time") == 0 && has_value) {
      auto t = events::ParseTime(argv[++i]);
      if (!t.ok()) {
        std::fprintf(stderr, "isucoin replay: --until-time: %s\n", t.status().message().c_str());
        return 2;
      }
      args.until_time = t.value();
    } else if (std::strcmp(argv[i], "--utc-offset") == 0 && has_value) {
      auto o = events::ParseUtcOffset(argv[++i]);
      if (!o.ok()) {
        std::fprintf(stderr, "isucoin replay: --utc-offset: %s\n", o.status().message().c_str());
        return 2;
      }
      args.utc_offset_seconds = o.value();
    } else if (std::strcmp(argv[i], "--postgres") == 0 && has_value) {
      args.postgres = argv[++i];
    } else if (std::strcmp(argv[i], "--schema") == 0 && has_value) {
      args.postgres_schema = argv[++i];
    } else if (std::strcmp(argv[i], "--write-snapshot") == 0) {
      args.write_snapshot = true;
    } else if (std::strcmp(argv[i], "--help") == 0) {
      PrintReplayUsage(stdout);
      return 0;
    } else {
      PrintReplayUsage(stderr);
      return 2;
    }
  }
  if (args.dir.empty() || args.to.empty() || (args.until_offset && args.until_time)) {
    PrintReplayUsage(stderr);
    return 2;
  }
  return RunReplay(args);
}

}  // namespace isucoin::app
