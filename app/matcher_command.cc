// isucoin matcher: the matcher as its own process (DESIGN.md "Process layout"). Follows the
// commands log and is the one writer of the events log; resumes exactly where the log says it
// stopped (commands/matcher.h).
//
// Many may run; one is active. The others stand by and take over when it dies:
//   - on Kafka, through a consumer group over the one-partition lease topic PREFIX.matcher
//     (app/exchange_logs.h): the group coordinator gives its partition to exactly one live
//     member, and to another once that member leaves or misses its session timeout;
//   - on FileLog, through the events log's writer lock (flock): a standby waits for it, and
//     the kernel releases it when the holder dies, however it dies.
// A new active matcher recovers from the logs before it appends anything. Why an overlap is
// harmless (a paused matcher that still thinks it is active, and writes) is in
// events/KAFKA.md "Exactly once, without transactions": the matcher is deterministic, so both
// write identical events for the same command, and every consumer drops an event whose
// sequence is not above the last it applied.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "app/exchange_logs.h"
#include "app/matcher_worker.h"
#include "app/settings.h"
#include "app/stop_signal.h"
#include "app/subcommands.h"
#include "commands/matcher.h"
#include "events/kafka_log.h"
#include "replay/snapshot_file.h"
#include "replay/startup.h"

namespace isucoin::app {
namespace {

using namespace std::chrono_literals;

const std::vector<SettingSpec> kMatcherSettings = {
    {"data", "", "directory of the logs (FileLog) and of DATA/snapshots; optional on Kafka"},
    {"log", "", "the logs: DIR, file:DIR or kafka://HOST:PORT[,...]/PREFIX (default: DATA)"},
    {"until-idle", "", "apply every command present, then exit (no standby, no snapshots)", true},
    {"failover-timeout", "10",
     "Kafka: seconds without a heartbeat before a standby takes over a silent active matcher"},
    {"snapshot-every", "200000", "snapshot the matcher every N commands (0 = never; needs DATA)"},
    {"snapshot-interval", "300", "... or every N seconds, whichever comes first"},
};

// Who may write the events log now. Hold() waits up to `timeout` for the lease and says
// whether this process holds it; it must be called regularly while active (it also renews).
class MatcherLease {
 public:
  virtual ~MatcherLease() = default;
  virtual Result<bool> Hold(std::chrono::milliseconds timeout) = 0;
};

class KafkaMatcherLease final : public MatcherLease {
 public:
  static Result<std::unique_ptr<MatcherLease>> Open(const LogLocation& where,
                                                    std::chrono::milliseconds session_timeout) {
    // A real cluster creates the lease topic here (one partition); the mock cannot, and
    // tools/devbroker --prefix creates it up front.
    {
      events::KafkaLogOptions topic;
      topic.bootstrap_servers = where.brokers;
      topic.topic = where.matcher_lease_topic();
      topic.config = where.kafka_config;
      auto created = events::KafkaLog::Open(std::move(topic));
      if (!created.ok()) return created.status();
      (void)created.value()->Close();
    }
    events::KafkaGroupOptions options;
    options.bootstrap_servers = where.brokers;
    options.topic = where.matcher_lease_topic();
    options.group_id = where.matcher_lease_topic();
    options.client_id = "isucoin-matcher";
    options.session_timeout = session_timeout;
    options.config = where.kafka_config;
    // Nothing is ever read from the lease topic: only the assignment matters.
    options.on_assigned = [] { return std::optional<events::Offset>(); };
    auto group = events::KafkaGroupConsumer::Open(std::move(options));
    if (!group.ok()) return group.status();
    return std::unique_ptr<MatcherLease>(new KafkaMatcherLease(std::move(group).value()));
  }

  Result<bool> Hold(std::chrono::milliseconds timeout) override {
    auto polled = group_->Poll(1, timeout);
    if (!polled.ok()) return polled.status();
    return group_->assigned();
  }

  ~KafkaMatcherLease() override { (void)group_->Close(); }  // hands the lease over at once

 private:
  explicit KafkaMatcherLease(std::unique_ptr<events::KafkaGroupConsumer> group)
      : group_(std::move(group)) {}
  std::unique_ptr<events::KafkaGroupConsumer> group_;
};

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "isucoin matcher: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

// --until-idle: a catch-up run (tests, replays into a new log), no lease.
int RunUntilIdle(const LogLocation& where) {
  auto logs = OpenExchangeLogs(where, {.write_events = true});
  if (!logs.ok()) return Fail(where.ToString().c_str(), logs.status());
  commands::Matcher matcher(*logs.value().commands, *logs.value().events);
  if (Status s = matcher.Recover(); !s.ok()) return Fail("recovery", s);
  std::fprintf(stderr, "isucoin matcher: resuming at command %llu\n",
               static_cast<unsigned long long>(matcher.next_command()));
  for (;;) {
    auto applied = matcher.Step(4096);
    if (!applied.ok()) return Fail("step", applied.status());
    if (applied.value() == 0) break;
  }
  if (Status s = logs.value().Close(); !s.ok()) return Fail("close", s);
  std::fprintf(stderr, "isucoin matcher: stopped after command %llu, %zu open orders\n",
               static_cast<unsigned long long>(matcher.next_command()),
               matcher.exchange().open_order_count());
  return 0;
}

// FileLog: the events log's writer lock is the lease; wait for it while another holds it.
Result<ExchangeLogs> WaitForFileLogs(const LogLocation& where, const std::atomic<bool>& stop) {
  bool announced = false;
  for (;;) {
    auto logs = OpenExchangeLogs(where, {.write_events = true});
    if (logs.ok() || logs.status().code() != Status::Code::kBusy || stop.load()) return logs;
    if (!announced) {
      std::fprintf(stderr, "isucoin matcher: standing by: %s\n", logs.status().message().c_str());
      announced = true;
    }
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace

int MatcherCommand(int argc, char** argv) {
  int exit_code = 0;
  const auto settings = Settings::ParseCommandLine("matcher", kMatcherSettings, argc, argv, &exit_code);
  if (!settings) return exit_code;
  const Settings& s = *settings;
  auto failover = s.GetInt("failover-timeout", 1, 3600);
  auto every = s.GetInt("snapshot-every", 0, 1'000'000'000);
  auto interval = s.GetInt("snapshot-interval", 1, 7 * 24 * 3600);
  auto where = LogLocationFor(s.Get("data"), s.Get("log"));
  for (const Status& st : {failover.status(), every.status(), interval.status(), where.status()}) {
    if (!st.ok()) {
      std::fprintf(stderr, "isucoin matcher: %s\n", st.message().c_str());
      return 2;
    }
  }
  if (s.GetBool("until-idle")) return RunUntilIdle(where.value());

  const std::atomic<bool>& stop = StopRequested();
  std::unique_ptr<replay::SnapshotStore> snapshots;
  std::unique_ptr<replay::SnapshotWriter> writer;
  if (!s.Get("data").empty()) {
    snapshots = std::make_unique<replay::SnapshotStore>(s.Get("data") + "/snapshots", 3);
    if (every.value() > 0) writer = std::make_unique<replay::SnapshotWriter>(*snapshots);
  }
  MatcherWorkerOptions worker_options{.name = "matcher",
                                      .snapshots = snapshots.get(),
                                      .writer = writer.get(),
                                      .snapshot_every = static_cast<std::uint64_t>(every.value()),
                                      .snapshot_interval = std::chrono::seconds(interval.value())};

  std::unique_ptr<MatcherLease> lease;
  ExchangeLogs logs;
  if (where.value().is_kafka()) {
    auto opened = KafkaMatcherLease::Open(where.value(), std::chrono::seconds(failover.value()));
    if (!opened.ok()) return Fail("lease", opened.status());
    lease = std::move(opened).value();
    auto l = OpenExchangeLogs(where.value(), {.write_events = true});
    if (!l.ok()) return Fail(where.value().ToString().c_str(), l.status());
    logs = std::move(l).value();
    std::fprintf(stderr, "isucoin matcher: standing by for the lease %s\n",
                 where.value().matcher_lease_topic().c_str());
  } else {
    auto l = WaitForFileLogs(where.value(), stop);
    if (!l.ok()) return Fail(where.value().ToString().c_str(), l.status());
    logs = std::move(l).value();
  }

  // Active while the lease is held; back to standing by when it is lost.
  std::unique_ptr<MatcherWorker> worker;
  Status failure;
  while (!stop.load() && failure.ok()) {
    bool held = true;
    if (lease) {
      auto h = lease->Hold(worker ? 100ms : 500ms);
      if (!h.ok()) {
        failure = h.status();
        break;
      }
      held = h.value();
    }
    if (held && !worker) {
      auto started = MatcherWorker::Start(*logs.commands, *logs.events, worker_options);
      if (!started.ok()) {
        failure = started.status();
        break;
      }
      worker = std::move(started).value();
      std::fprintf(stderr, "isucoin matcher: active, caught up to command %llu\n",
                   static_cast<unsigned long long>(worker->next_command()));
    } else if (!held && worker) {
      worker->Stop();
      worker.reset();
      std::fprintf(stderr, "isucoin matcher: lease lost, standing by\n");
    }
    if (worker && !(failure = worker->health()).ok()) break;
    if (!lease) std::this_thread::sleep_for(100ms);
  }
  if (worker) worker->Stop();
  writer.reset();  // writes a pending snapshot
  lease.reset();   // leaves the group: a standby takes over at once
  Status closed = logs.Close();
  if (!failure.ok()) return Fail("stopped", failure);
  if (!closed.ok()) return Fail("close", closed);
  if (worker) {
    std::fprintf(stderr, "isucoin matcher: stopped cleanly after command %llu, %zu open orders\n",
                 static_cast<unsigned long long>(worker->next_command()), worker->open_orders());
  } else {
    std::fprintf(stderr, "isucoin matcher: stopped cleanly (standing by)\n");
  }
  return 0;
}

}  // namespace isucoin::app
