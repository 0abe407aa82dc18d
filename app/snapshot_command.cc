// isucoin snapshot --data DIR: writes a matcher snapshot and a read-model snapshot of DIR now,
// into DIR/snapshots. Offline: it takes the logs' writer locks, so it refuses to run while
// `serve` (or another writer) holds them. Like `serve` at start-up it lets the matcher catch
// up with every command first.
#include <cstdio>
#include <cstring>
#include <string>

#include "app/subcommands.h"
#include "events/file_log.h"
#include "replay/startup.h"

namespace isucoin::app {

int SnapshotCommand(int argc, char** argv) {
  std::string dir;
  int utc_offset = 9 * 3600;
  std::size_t keep = 3;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
      keep = static_cast<std::size_t>(std::stoul(argv[++i]));
    } else {
      std::fprintf(argc > 0 && std::strcmp(argv[i], "--help") == 0 ? stdout : stderr,
                   "usage: isucoin snapshot --data DIR [--keep N]\n\n"
                   "Writes DIR/snapshots/{matcher,readmodel}-OFFSET.snap now (serve must not be\n"
                   "running) and keeps the newest N (default 3) of each.\n");
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: isucoin snapshot --data DIR [--keep N]\n");
    return 2;
  }
  auto commands = events::FileLog::Open(dir + "/commands");
  if (!commands.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s (is serve running?)\n", commands.status().ToString().c_str());
    return 1;
  }
  auto events = events::FileLog::Open(dir + "/events");
  if (!events.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s (is serve running?)\n", events.status().ToString().c_str());
    return 1;
  }
  replay::SnapshotStore store(dir + "/snapshots", keep);
  auto matcher = replay::StartMatcher(*commands.value(), *events.value(), &store);
  if (!matcher.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s\n", matcher.status().ToString().c_str());
    return 1;
  }
  auto& m = *matcher.value().matcher;
  for (;;) {
    auto n = m.Step(4096);
    if (!n.ok()) {
      std::fprintf(stderr, "isucoin snapshot: %s\n", n.status().ToString().c_str());
      return 1;
    }
    if (n.value() == 0) break;
  }
  auto written = store.Write(replay::SnapshotKind::kMatcher, m.next_command(), m.exchange().Snapshot());
  if (!written.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s\n", written.status().ToString().c_str());
    return 1;
  }
  std::printf("matcher snapshot: %s\n", written.value().c_str());
  auto model = replay::StartReadModel(*events.value(), &store, utc_offset);
  if (!model.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s\n", model.status().ToString().c_str());
    return 1;
  }
  written = store.Write(replay::SnapshotKind::kReadModel, model.value().replay.next_offset,
                        model.value().replay.model.Serialize());
  if (!written.ok()) {
    std::fprintf(stderr, "isucoin snapshot: %s\n", written.status().ToString().c_str());
    return 1;
  }
  std::printf("read model snapshot: %s\n", written.value().c_str());
  (void)events.value()->Close();
  (void)commands.value()->Close();
  return 0;
}

}  // namespace isucoin::app
