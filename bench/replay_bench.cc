// ./scripts/bench replay — replay into memory, audit, and start-up with and without snapshots,
// on a generated history of >= 1,000,000 events (tools/historygen: the real Matcher over
// FileLogs, the command mix of bench/matcher_bench.cc; 1,000 users, 20,000 resting orders).
//
// The history is written in two parts: snapshots (matcher + read model) are taken after the
// first ~90 %, so start-up "with a snapshot" replays a tail of ~10 % of the events.
// Start-up = open both FileLogs (a CRC scan of every segment) + matcher recovery + read-model
// catch-up, as `isucoin serve` does before it answers anyone.
//
// Flags: --events N (default 1,000,000), --dir D (default a temporary directory, removed).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "events/file_log.h"
#include "replay/audit.h"
#include "replay/memory_replay.h"
#include "replay/startup.h"
#include "projections/postgres_sink.h"
#include "tools/historygen/historygen.h"

namespace {

using namespace isucoin;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "replay_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

struct Startup {
  double seconds;
  std::uint64_t matcher_hash;
  std::uint64_t model_digest;
  bool used_snapshots;
};

Startup StartUp(const std::string& dir, const replay::SnapshotStore* store) {
  const auto t0 = Clock::now();
  auto commands = Must(events::FileLog::Open(dir + "/commands"), "open commands");
  auto events = Must(events::FileLog::Open(dir + "/events"), "open events");
  auto matcher = Must(replay::StartMatcher(*commands, *events, store), "start matcher");
  for (;;) {
    if (Must(matcher.matcher->Step(4096), "step") == 0) break;
  }
  auto model = Must(replay::StartReadModel(*events, store, 9 * 3600), "start read model");
  const double seconds = Since(t0);
  Startup s{seconds, matcher.matcher->exchange().StateHash(), 0,
            matcher.snapshot_offset.has_value() && model.snapshot_offset.has_value()};
  s.model_digest = model.replay.model.StateDigest();
  (void)events->Close();
  (void)commands->Close();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t target = 1'000'000;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) target = std::strtoull(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
  }
  const bool temporary = dir.empty();
  if (temporary) {
    dir = (std::filesystem::temp_directory_path() / ("isucoin-replay-bench-" + std::to_string(::getpid()))).string();
  }
  std::filesystem::remove_all(dir);
  const std::string snapshot_dir = dir + "/snapshots";

  // ---- history
  auto t = Clock::now();
  {
    auto commands = Must(events::FileLog::Open(dir + "/commands"), "open commands");
    auto events = Must(events::FileLog::Open(dir + "/events"), "open events");
    tools::HistoryGenerator gen(*commands, *events);
    if (Status s = gen.Generate(target * 9 / 10, /*settle_all=*/false); !s.ok()) Die("generate", s);
    replay::SnapshotStore store(snapshot_dir);
    auto& m = gen.matcher();
    if (auto w = store.Write(replay::SnapshotKind::kMatcher, m.next_command(), m.exchange().Snapshot()); !w.ok()) Die("snapshot", w.status());
    auto head = Must(replay::ReplayIntoMemory(*events, {}), "replay head");
    if (auto w = store.Write(replay::SnapshotKind::kReadModel, head.next_offset, head.model.Serialize()); !w.ok()) Die("snapshot", w.status());
    if (Status s = gen.Generate(target); !s.ok()) Die("generate", s);
    std::printf("history: %llu commands, %llu events in %.1f s (snapshots at ~90 %%)\n",
                (unsigned long long)commands->End(), (unsigned long long)events->End(), Since(t));
    (void)events->Close();
    (void)commands->Close();
  }

  events::FileLogOptions ro;
  ro.read_only = true;

  // ---- replay into memory
  double replay_eps;
  {
    auto events = Must(events::FileLog::Open(dir + "/events", ro), "open events");
    t = Clock::now();
    auto r = Must(replay::ReplayIntoMemory(*events, {}), "replay");
    const double s = Since(t);
    replay_eps = r.events_read / s;
    std::printf("replay into memory: %llu events in %.2f s; %zu users, %zu orders, %zu trades\n",
                (unsigned long long)r.events_read, s, r.model.user_count(), r.model.order_count(),
                r.model.settled_trade_count());
  }

  // ---- audit
  double audit_cps;
  {
    auto commands = Must(events::FileLog::Open(dir + "/commands", ro), "open commands");
    auto events = Must(events::FileLog::Open(dir + "/events", ro), "open events");
    t = Clock::now();
    auto report = Must(replay::Audit(*commands, *events), "audit");
    const double s = Since(t);
    audit_cps = report.commands / s;
    std::printf("audit: %.2f s, %s", s, report.Summary().c_str());
    if (!report.clean()) std::printf("WARNING: the generated history is not clean\n");
  }

  // ---- replay into PostgreSQL (COPY into a fresh schema), when bench/replay_bench.sh
  // started a cluster
  double postgres_rows_per_sec = -1;
  if (const char* conninfo = std::getenv("ISUCOIN_BENCH_POSTGRES")) {
    auto events = Must(events::FileLog::Open(dir + "/events", ro), "open events");
    t = Clock::now();
    auto r = Must(projections::ReplayToPostgres(*events, conninfo, "isucoin_bench", std::nullopt),
                  "replay into postgres");
    const double s = Since(t);
    postgres_rows_per_sec = r.rows / s;
    std::printf("replay into PostgreSQL: %llu events, %llu rows COPYed in %.2f s\n",
                (unsigned long long)r.events_applied, (unsigned long long)r.rows, s);
  }

  // ---- start-up
  const Startup without = StartUp(dir, nullptr);
  replay::SnapshotStore store(snapshot_dir);
  const Startup with = StartUp(dir, &store);
  std::printf("start-up: %.0f ms without snapshots, %.0f ms with (snapshots used: %s; same "
              "matcher state: %s, same read model: %s)\n",
              without.seconds * 1000, with.seconds * 1000, with.used_snapshots ? "yes" : "NO",
              with.matcher_hash == without.matcher_hash ? "yes" : "NO",
              with.model_digest == without.model_digest ? "yes" : "NO");
  if (temporary) std::filesystem::remove_all(dir);

  std::printf("RESULT replay_memory_events_per_sec %.0f events/s\n", replay_eps);
  std::printf("RESULT audit_commands_per_sec %.0f commands/s\n", audit_cps);
  if (postgres_rows_per_sec >= 0) {
    std::printf("RESULT replay_postgres_rows_per_sec %.0f rows/s\n", postgres_rows_per_sec);
  }
  std::printf("RESULT startup_with_snapshot_ms %.0f ms\n", with.seconds * 1000);
  std::printf("RESULT startup_without_snapshot_ms %.0f ms\n", without.seconds * 1000);
  return with.matcher_hash == without.matcher_hash && with.model_digest == without.model_digest ? 0 : 1;
}
