// The shipper's decisions, apart from any I/O so they can be tested without sockets or
// clocks: how many queued records go in the next /send_bulk, when the next request may start
// under ISULOGGER's rate limit, how long to back off before a retry, and up to where in the
// events log everything is delivered (the checkpoint).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>

#include "events/log.h"
#include "events/records.h"

namespace isucoin::effects {

using SteadyClock = std::chrono::steady_clock;

// Where logs go: the base URL and app id of ISULOGGER (SPEC.md /initialize).
struct LoggerEndpoint {
  std::string url;
  std::string app_id;
  bool empty() const { return url.empty(); }
  bool operator==(const LoggerEndpoint&) const = default;
};

// A place in the stream of logger records: record `index` of the event at events-log `offset`
// (an event yields 0..n records, so the offset alone cannot say "half of this trade's records
// went out"). Totally ordered like the log.
struct RecordPosition {
  events::Offset offset = 0;
  std::uint32_t index = 0;
  auto operator<=>(const RecordPosition&) const = default;
};

// Everything needed to resume shipping at a position after a restart, i.e. the checkpoint:
// re-read the events log from `at.offset`, skip the first `at.index` records of that event,
// drop events whose sequence is not above `applied` (DESIGN.md exactly-once), and send to
// `endpoint` until an ExchangeReset says otherwise (empty: the one from the command line).
struct ResumePoint {
  RecordPosition at;
  std::optional<events::Sequence> applied;
  LoggerEndpoint endpoint;
  bool operator==(const ResumePoint&) const = default;
};

// Bytes of a /send_bulk body holding records of these serialized sizes: "[" a "," b "]".
inline std::size_t BulkBodyBytes(std::size_t records, std::size_t record_bytes_sum) {
  return records == 0 ? 2 : 2 + record_bytes_sum + (records - 1);
}

// How many records from the front of `sizes` (serialized bytes of each queued record) fit in
// one body of at most `max_body_bytes`, capped at `max_records`. 0 when the first record alone
// is too big (the caller must deal with it: it can never be sent).
template <typename Sizes>
std::size_t RecordsInNextBatch(const Sizes& sizes, std::size_t max_body_bytes,
                               std::size_t max_records) {
  std::size_t n = 0, sum = 0;
  for (std::size_t size : sizes) {
    if (n == max_records || BulkBodyBytes(n + 1, sum + size) > max_body_bytes) break;
    sum += size;
    ++n;
  }
  return n;
}

// At most `max_requests` request starts in any window of `window` (a sliding window over the
// start times of the last `max_requests` requests).
//
// Why a sliding window and not a token bucket: a bucket of capacity C refilled at R/s lets
// C + R requests through in the first second after a quiet spell, so it would have to be
// sized at half the service's limit to be safe; a sliding window spends the whole allowance
// and never more in any second, wherever the service puts its second boundaries. The shipper
// uses 18 of ISULOGGER's 20 per second: the service counts requests when they *arrive*, and
// arrival times jitter against our start times (connection set-up, scheduling), so two
// requests started 1.0 s apart may land 0.95 s apart; the 10 % margin absorbs that.
class RequestRateLimiter {
 public:
  RequestRateLimiter(int max_requests, SteadyClock::duration window)
      : max_requests_(max_requests < 1 ? 1 : max_requests), window_(window) {}

  // The earliest instant, not before `now`, at which a request may start.
  SteadyClock::time_point NextStart(SteadyClock::time_point now) const;
  // Records a start at `now` if allowed then; false (nothing recorded) otherwise.
  bool TryStart(SteadyClock::time_point now);
  // No start before `until` (after a 429: the service's count disagrees with ours).
  void PauseUntil(SteadyClock::time_point until) {
    if (until > paused_until_) paused_until_ = until;
  }

 private:
  int max_requests_;
  SteadyClock::duration window_;
  std::deque<SteadyClock::time_point> starts_;  // the last max_requests_ starts, oldest first
  SteadyClock::time_point paused_until_{};
};

// Exponential backoff with jitter for the `attempt`-th retry (1 = first): base·2^(attempt-1)
// capped at `max`, times a random factor in [0.75, 1.25] so that batches failing together do
// not retry together.
SteadyClock::duration RetryDelay(int attempt, SteadyClock::duration base,
                                 SteadyClock::duration max, std::mt19937_64& rng);

// Which batches are still unacknowledged, and so how far the checkpoint may go. Batches are
// keyed by the position of their first record; since records are batched in log order, every
// record below the smallest outstanding key (and below whatever is still queued) is
// acknowledged: the checkpoint only advances over a contiguous prefix of acknowledged batches,
// whatever order the (up to 10) concurrent requests complete in.
class DeliveryFrontier {
 public:
  // A batch starting at `resume.at` was formed and is not acknowledged yet.
  void Outstanding(const ResumePoint& resume) { outstanding_[resume.at] = resume; }
  // Its records were acknowledged (or given up on: see Shipper, rejected records).
  void Settled(const RecordPosition& first) { outstanding_.erase(first); }
  bool empty() const { return outstanding_.empty(); }
  std::size_t size() const { return outstanding_.size(); }

  // The checkpoint: the first outstanding batch if any, else the first record still queued
  // (not yet in a batch) if any, else `read_end` (everything read is delivered).
  ResumePoint Checkpoint(const ResumePoint* first_queued, const ResumePoint& read_end) const {
    if (!outstanding_.empty()) return outstanding_.begin()->second;
    return first_queued ? *first_queued : read_end;
  }

 private:
  std::map<RecordPosition, ResumePoint> outstanding_;
};

}  // namespace isucoin::effects
