// Settlement: the worker that pays for trades at ISUBANK (DESIGN.md "The matcher", settlement
// handshake; SPEC.md "Trading rules"). It follows the events log from its checkpoint and
// appends its outcomes to the commands log:
//   MatchProposed → /reserve every leg in parallel → ReservationsReported
//   TradeExecuted → /commit at once, asynchronously → CommitsReported
//   MatchAborted  → /cancel the reservations nobody will use
// The decisions live in SettlementLedger (pure, settlement_ledger.h); this class is the I/O.
//
// Concurrency. The bank is slow per call (reserve ≈ 70 ms, commit ≈ 300 ms) but fast in
// parallel, so every kind of call has its own pool of threads making blocking calls, each
// thread with its own keep-alive connection (HttpClient's handle pool):
//  - reserve: one task per leg, `reserve_concurrency` at once. A leg is retried (backoff
//    growing to `max_retry_backoff`) until the bank decides it (200, 400, 404), or its match
//    ends; many matches are at the bank at once while the matcher keeps matching.
//  - commit: `commit_concurrency` workers share one queue. An idle worker takes everything
//    waiting when it wakes up and sends it as one /commit: batches form only from what is
//    already waiting, nothing ever waits to fill one. A TradeExecuted is queued the moment
//    it is read, so the delay to its request leaving is a thread wake-up unless every worker
//    is busy (the metric commit_start_delay measures exactly that).
//  - cancel: same shape as commit, best effort (an unused reservation expires anyway).
//  - one reporter thread appends everything ready as one batch of commands.
//
// Commits are idempotent by interpretation. /commit is all-or-nothing at the bank; a batch it
// refuses (400/404) is split into one request per reserve id, and for a single id:
//  - 200 → committed;
//  - 400 "already committed" → committed (an earlier attempt whose answer was lost, or a run
//    before a restart, did it);
//  - 400 on a reservation younger than the TTL with another message → also committed: SPEC.md
//    guarantees a young reservation always commits, and this worker never cancels a
//    reservation of an executed trade, so "committed before" is the only explanation left;
//  - 400 "expired", any 400 on a reservation that may be older than the TTL, or 404 → an
//    incident: the trade cannot be paid. Logged on stderr, counted in commit_incidents, and
//    the trade is never reported as settled (clients never see an unpaid trade). Not retried.
// A commit that moved money is therefore never repeated with effect: the bank refuses a second
// commit of the same reserve id.
//
// Checkpoint (<checkpoint_dir>/checkpoint.json, written to a temp file, fsynced, renamed):
// the read position in the events log (next offset + last applied Sequence) and the ledger,
// i.e. every match not yet ended with its reservations so far, every trade not yet settled,
// every reservation still to release, and the bank endpoint. Written periodically and, before
// every append of reports, so that a reported reservation is durable in the checkpoint
// before the matcher can act on it. On start the worker loads it, re-reads the events after it
// (applying them to the ledger only), then resumes all outstanding work: legs without an
// answer are reserved (again), complete reports are appended again (the matcher ignores a
// second report), uncommitted trades are committed (see above: no double payment). A crash
// loses only reservations answered after the last checkpoint and never reported: they expire
// unused.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "effects/bank_client.h"
#include "effects/http_client.h"
#include "effects/latency_histogram.h"
#include "effects/settlement_ledger.h"
#include "events/applied_sequence.h"
#include "events/log.h"

namespace isucoin::effects {

// Plain counters for an exporter (the api exposes them).
struct SettlementMetrics {
  using Counter = std::atomic<std::uint64_t>;
  using Gauge = std::atomic<std::int64_t>;
  Counter events_applied{0};
  Counter matches_proposed{0};
  Counter reservations_ok{0};         // legs the bank reserved
  Counter reservations_refused{0};    // legs the bank refused (400/404)
  Counter reserve_attempts_failed{0}; // transient failures, retried
  Counter trades_executed{0};
  Counter commit_requests{0};         // /commit calls sent
  Counter reserve_ids_committed{0};
  Counter commits_already_done{0};    // 400 taken as "committed before"
  Counter commit_batch_splits{0};     // refused batches split per reserve id
  Counter commit_retries{0};          // transient failures, requeued
  Counter commit_incidents{0};        // refused for good: trade unpaid (see settlement.h)
  Counter release_requests{0};
  Counter reserve_ids_released{0};
  Counter release_failures{0};
  Counter bank_retries{0};            // retries inside BankClient (5xx, timeouts)
  Counter unknown_app_id{0};          // 401s: misconfiguration
  Counter reports_appended{0};        // commands appended
  Counter append_failures{0};
  Counter checkpoints_written{0};
  Counter checkpoint_failures{0};
  Gauge legs_in_flight{0};
  Gauge commits_in_flight{0};         // reserve ids at the bank right now
  Gauge trades_waiting{0};            // trades not yet committed
  // From a TradeExecuted being read to the /commit carrying it leaving (first attempt).
  LatencyHistogram commit_start_delay;
  // From a MatchProposed being read to its ReservationsReported being appended.
  LatencyHistogram match_report_delay;
};

struct SettlementOptions {
  // Used until the log says otherwise (ExchangeReset.endpoints, or the checkpoint).
  std::string bank_endpoint;
  std::string bank_appid;
  BankClientOptions bank;  // timeouts and retry policy (endpoint/app id are filled in)
  // Empty: no checkpoint (tests, benchmarks); the worker then starts at `start_offset`.
  std::string checkpoint_dir;
  events::Offset start_offset = 0;
  std::chrono::milliseconds checkpoint_interval{500};
  int reserve_concurrency = 128;
  int commit_concurrency = 128;
  int release_concurrency = 4;
  std::size_t max_commit_batch = 1000;  // reserve ids per /commit
  std::chrono::milliseconds max_retry_backoff{2000};
  std::chrono::microseconds reservation_ttl = std::chrono::minutes(5);
  // Write the checkpoint before every append of reports (see above). Off only to measure
  // what it costs.
  bool checkpoint_before_report = true;
  std::function<events::Micros()> now;  // wall clock, for command times; default system_clock
};

class Settlement {
 public:
  // `events` is followed; `commands` receives the reports. Both must outlive the worker.
  Settlement(events::Log& events, events::Log& commands, SettlementOptions options);
  ~Settlement();
  Settlement(const Settlement&) = delete;
  Settlement& operator=(const Settlement&) = delete;

  // Loads the checkpoint, catches up with the events log, resumes outstanding work and starts
  // the threads.
  Status Start();
  // Stops every thread (calls at the bank are let finish) and writes a last checkpoint.
  void Stop();

  const SettlementMetrics& metrics() const { return metrics_; }
  // Offset of the next event to read.
  events::Offset next_offset() const;
  // True when the worker has read up to `offset` and holds no match, trade or release that is
  // still waiting for the bank or for a report (reported ones may await their outcome).
  bool Quiescent(events::Offset offset) const;
  // The first fatal error (a checkpoint that cannot be read, a log that failed), if any.
  Status health() const;

 private:
  struct BatchItem {
    Id trade_id = 0;  // commit lane only
    std::vector<ReserveId> reserve_ids;
    bool solo = false;  // part of a refused batch: sent alone
    int failures = 0;
    std::chrono::steady_clock::time_point ready_at;
    std::chrono::steady_clock::time_point read_at;  // when the event was read
    Micros reserved_since = 0;
  };
  struct Lane {  // one queue of commits or releases, worked by a few threads
    std::mutex mu;
    std::condition_variable cv;
    std::deque<BatchItem> items;
  };

  Status LoadCheckpoint();
  Status WriteCheckpoint();
  void FollowLoop();
  void Dispatch(SettlementActions actions, std::chrono::steady_clock::time_point read_at);
  void ReserveLeg(LegToReserve leg);
  void LaneLoop(Lane& lane, bool commit);
  std::vector<BatchItem> TakeBatch(Lane& lane);
  void Requeue(Lane& lane, std::vector<BatchItem> items, bool failed);
  void HandleCommitReply(const BankReply& reply, std::vector<BatchItem> items);
  void HandleReleaseReply(const BankReply& reply, std::vector<BatchItem> items);
  void ReporterLoop();
  void CheckpointLoop();
  std::shared_ptr<const BankClient> bank() const;
  void UpdateBankLocked();
  std::chrono::milliseconds Backoff(int failures) const;
  Micros Now() const;
  void SetFatal(Status s);
  // Sleeps `d` unless Stop() comes first; false when stopping.
  bool SleepFor(std::chrono::milliseconds d);

  events::Log& events_;
  events::Log& commands_;
  SettlementOptions options_;
  HttpClient http_;
  SettlementMetrics metrics_;

  // The ledger and the read position, always changed together.
  mutable std::mutex mu_;
  SettlementLedger ledger_;
  events::AppliedSequence applied_;
  events::Offset next_offset_ = 0;
  std::map<Id, std::chrono::steady_clock::time_point> match_read_at_;
  mutable std::mutex bank_mu_;  // not mu_: a commit must not wait for the ledger to get it
  std::shared_ptr<const BankClient> bank_;  // changed only with mu_ held too
  Status fatal_;

  // Reserve pool.
  std::mutex reserve_mu_;
  std::condition_variable reserve_cv_;
  std::deque<LegToReserve> reserve_queue_;
  Lane commit_lane_;
  Lane release_lane_;

  // Reports waiting for the reporter thread.
  std::mutex report_mu_;
  std::condition_variable report_cv_;
  std::vector<events::ReservationsReported> report_reservations_;
  std::vector<Id> report_commits_;
  int reports_in_progress_ = 0;

  std::mutex checkpoint_mu_;  // one checkpoint write at a time
  std::uint64_t changes_ = 0;           // guarded by mu_: bumped by every change of state
  std::uint64_t checkpointed_changes_ = 0;  // guarded by checkpoint_mu_
  std::mutex stop_mu_;  // for interruptible sleeps
  std::condition_variable stop_cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::vector<std::thread> threads_;
};

}  // namespace isucoin::effects
