// Shipper: follows the events log and delivers every ISULOGGER record of SPEC.md (mapping in
// log_records.h) with /send_bulk, within ISULOGGER's limits, from a durable checkpoint.
//
// Threads: a reader follows the log (decodes, drops duplicate sequences, maps to records,
// serializes each record once); a dispatcher owns every decision (batches, rate limit,
// retries, checkpoint); `max_in_flight` senders block on the HTTP calls. Decisions are the
// pure pieces of delivery_plan.h.
//
// Guarantees and limits (effects/README.md has the long version):
//  - Nothing lost: a record leaves the pending set only when ISULOGGER answered 200 for a
//    batch holding it. 429, 5xx, timeouts, transport errors and 401 are retried with
//    exponential backoff, forever. A 400 means we sent something the service refuses (a bug on
//    our side): the batch is split in halves until the offending record is alone; that record
//    is reported loudly (stderr + metrics.records_rejected) and given up on, so one bad
//    record never blocks the rest.
//  - Latency: a record is sent as soon as a request may start — no waiting to fill batches —
//    but new batches start at most every `linger` (50 ms), so a busy exchange sends fewer,
//    larger requests. At 18 requests/s with bodies up to 1 MB the pipe holds far more than
//    the exchange produces; in the steady state a record waits ≤ ~100 ms before it leaves.
//  - Limits: ≤ `max_in_flight` (10) requests at once, ≤ `max_requests_per_window` (18) starts
//    in any `rate_window` (1 s) — ISULOGGER allows 20; see RequestRateLimiter for the margin.
//    Bodies ≤ `max_body_bytes` (1,000,000: under 1 MB whichever way "MB" is counted).
//  - Checkpoint: after each 200 that advances the contiguous acknowledged prefix, the
//    ResumePoint is written durably (shipper_checkpoint.h). Batches in flight concurrently
//    may complete out of order; the checkpoint never passes an unacknowledged one.
//  - At-least-once across crashes: after kill -9, records acknowledged after the last
//    checkpoint write — and records of requests the service accepted but whose answer we never
//    saw — are sent again on restart. Duplicates are possible then; losses are not. In normal
//    operation (no crash, no timeout of a request the service actually accepted) every record
//    is delivered exactly once.
//  - Endpoint: records go to the endpoint in force when their action happened: the latest
//    ExchangeReset (/initialize) before it with a non-empty log_endpoint and log_appid, else
//    the one given in the options. Batches never mix endpoints.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "effects/delivery_plan.h"
#include "effects/latency_histogram.h"
#include "effects/logger_client.h"
#include "events/log.h"
#include "events/status.h"

namespace isucoin::effects {

// Counters for operators (exported by the api later). All monotonic.
struct ShipperMetrics {
  std::atomic<std::uint64_t> events_read{0};          // events decoded and admitted
  std::atomic<std::uint64_t> duplicate_events{0};     // dropped: sequence not above the last
  std::atomic<std::uint64_t> undecodable_events{0};   // skipped: payload failed to decode
  std::atomic<std::uint64_t> records_read{0};         // logger records produced
  std::atomic<std::uint64_t> records_delivered{0};    // in batches answered 200
  std::atomic<std::uint64_t> records_rejected{0};     // given up on: 400/413 when alone
  std::atomic<std::uint64_t> records_late{0};         // delivered > 10 s after their action
  std::atomic<std::uint64_t> requests_sent{0};
  std::atomic<std::uint64_t> batches_delivered{0};
  std::atomic<std::uint64_t> retries{0};              // requests re-sent after a failure
  std::atomic<std::uint64_t> rate_limited{0};         // 429 answers
  std::atomic<std::uint64_t> unavailable{0};          // 5xx, timeouts, transport errors
  std::atomic<std::uint64_t> bad_requests{0};         // 400 answers
  std::atomic<std::uint64_t> too_large{0};            // 413 answers
  std::atomic<std::uint64_t> unknown_app_id{0};       // 401 answers
  std::atomic<std::uint64_t> checkpoints_written{0};
  std::atomic<std::uint64_t> checkpoint_errors{0};
  LatencyHistogram delivery_latency;  // action time → 200 received, µs
};

struct ShipperOptions {
  LoggerEndpoint endpoint;  // until an ExchangeReset in the log names another
  int utc_offset_seconds = 9 * 3600;
  // Where the checkpoint lives. Empty: no checkpoint, ship from the start of the log (tests).
  std::string checkpoint_dir;
  std::chrono::milliseconds request_timeout{3000};
  std::size_t max_body_bytes = 1'000'000;
  std::size_t max_records_per_batch = 20'000;
  int max_in_flight = 10;
  int max_requests_per_window = 18;
  std::chrono::milliseconds rate_window{1000};
  std::chrono::milliseconds linger{50};
  std::chrono::milliseconds retry_base{100};
  std::chrono::milliseconds retry_max{2000};
  // The reader stops reading ahead when this many records wait to be batched (memory bound).
  std::size_t max_queued_records = 200'000;
  // Idle periods (events that log nothing) move the checkpoint at most this often.
  std::chrono::milliseconds idle_checkpoint_interval{200};
};

class Shipper {
 public:
  Shipper(events::Log& events, ShipperOptions options);
  ~Shipper();  // Stop()s
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Reads the checkpoint and starts the threads. Fails on an unreadable checkpoint.
  Status Start();
  // Stops reading and sending; waits for requests in flight (bounded by request_timeout),
  // writes the checkpoint. Records not yet acknowledged are sent by the next run.
  void Stop();

  // Blocks until every record of the events before `end` is delivered (or given up on), or
  // `timeout` passes. True when delivered.
  bool WaitDelivered(events::Offset end, std::chrono::milliseconds timeout);
  // The current delivered frontier (what the checkpoint holds or is about to).
  ResumePoint Delivered() const;

  const ShipperMetrics& metrics() const { return metrics_; }

 private:
  struct EventContext;
  struct QueuedRecord;
  struct Batch;
  struct Completion;
  struct Job;

  void ReadLoop();
  void DispatchLoop();
  void SendLoop();

  // Dispatcher steps; called with mu_ NOT held, on dispatcher-owned state.
  // True when records left the pending set (the checkpoint may move).
  bool HandleCompletion(Completion c, SteadyClock::time_point now);
  void Dispatch(SteadyClock::time_point now);
  void StartRequest(Batch batch);
  void ScheduleRetry(Batch batch, SteadyClock::time_point now);
  bool SplitOrReject(Batch batch, const LoggerReply& reply, SteadyClock::time_point now);
  void Reject(const QueuedRecord& record, const std::string& why);
  void UpdateCheckpoint(bool acknowledged, SteadyClock::time_point now, bool force);
  LoggerEndpoint ResolveEndpoint(const LoggerEndpoint& recorded) const;
  SteadyClock::time_point NextWake(SteadyClock::time_point now) const;

  events::Log& log_;
  const ShipperOptions options_;
  ShipperMetrics metrics_;
  LoggerClient client_;
  ResumePoint start_;
  bool started_ = false;

  // Shared between threads, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable dispatch_cv_;   // dispatcher: new records, completions, stop
  std::condition_variable send_cv_;       // senders: jobs, stop
  std::condition_variable delivered_cv_;  // WaitDelivered
  std::condition_variable reader_cv_;     // reader: queue drained below the bound, stop
  std::vector<QueuedRecord> inbox_;       // read, not yet taken by the dispatcher
  ResumePoint read_end_;                  // position after the last event read
  LoggerEndpoint latest_endpoint_;        // latest from an ExchangeReset ("" if none)
  std::deque<Job> jobs_;
  std::deque<Completion> completions_;
  ResumePoint delivered_;  // published by the dispatcher
  std::size_t backlog_ = 0;  // records read but not yet in a batch
  bool stop_reading_ = false;
  bool stop_dispatching_ = false;
  bool stop_sending_ = false;

  // Dispatcher-owned.
  std::deque<QueuedRecord> queue_;
  std::map<std::uint64_t, Batch> in_flight_;
  std::map<RecordPosition, Batch> retry_;  // waiting for their backoff, oldest records first
  DeliveryFrontier frontier_;
  RequestRateLimiter limiter_;
  std::mt19937_64 rng_;
  std::uint64_t next_batch_id_ = 1;
  SteadyClock::time_point last_new_batch_{};
  ResumePoint dispatcher_read_end_;
  LoggerEndpoint dispatcher_latest_endpoint_;
  std::optional<ResumePoint> last_written_;
  SteadyClock::time_point last_checkpoint_write_{};

  std::thread reader_;
  std::thread dispatcher_;
  std::vector<std::thread> senders_;
};

}  // namespace isucoin::effects
