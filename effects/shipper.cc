#include "effects/shipper.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "effects/log_records.h"
#include "effects/shipper_checkpoint.h"
#include "events/applied_sequence.h"
#include "events/codec.h"
#include "events/time_format.h"

namespace isucoin::effects {
namespace {

constexpr std::int64_t kDeliveryBoundMicros = 10'000'000;  // SPEC.md: within 10 s
constexpr std::size_t kReadChunk = 1024;

std::string Shorten(const std::string& s, std::size_t max = 500) {
  return s.size() <= max ? s : s.substr(0, max) + "…";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shipper

// What every record of one event shares: where it sits in the log and how to resume there.
struct Shipper::EventContext {
  events::Offset offset = 0;
  std::optional<events::Sequence> applied_before;  // the AppliedSequence before this event
  LoggerEndpoint endpoint;  // from the log's latest ExchangeReset ("" = the options' one)
};

struct Shipper::QueuedRecord {
  std::shared_ptr<const EventContext> event;
  std::uint32_t index = 0;  // among the event's records
  std::string json;         // serialized once, when read
  events::Micros action_time = 0;

  RecordPosition position() const { return {event->offset, index}; }
  ResumePoint resume() const { return {position(), event->applied_before, event->endpoint}; }
};

struct Shipper::Batch {
  std::vector<QueuedRecord> records;  // in log order
  LoggerEndpoint endpoint;            // resolved: where this batch goes, retries included
  int attempts = 0;                   // requests made so far
  SteadyClock::time_point not_before{};
  RecordPosition first() const { return records.front().position(); }
};

struct Shipper::Completion {
  std::uint64_t batch_id = 0;
  LoggerReply reply;
};

struct Shipper::Job {
  std::uint64_t batch_id = 0;
  LoggerEndpoint endpoint;
  std::string body;
};

Shipper::Shipper(events::Log& events, ShipperOptions options)
    : log_(events),
      options_(std::move(options)),
      client_(LoggerClientOptions{options_.endpoint, options_.request_timeout}),
      limiter_(options_.max_requests_per_window, options_.rate_window),
      rng_(std::random_device{}()) {}

Shipper::~Shipper() { Stop(); }

Status Shipper::Start() {
  if (started_) return Status::Ok();
  if (!options_.checkpoint_dir.empty()) {
    auto cp = ReadShipperCheckpoint(options_.checkpoint_dir);
    if (!cp.ok()) return cp.status();
    if (cp.value()) {
      start_ = *cp.value();
      last_written_ = start_;
    }
  }
  read_end_ = delivered_ = dispatcher_read_end_ = start_;
  latest_endpoint_ = dispatcher_latest_endpoint_ = start_.endpoint;
  stop_reading_ = stop_dispatching_ = stop_sending_ = false;
  started_ = true;
  for (int i = 0; i < std::max(1, options_.max_in_flight); ++i) {
    senders_.emplace_back([this] { SendLoop(); });
  }
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
  return Status::Ok();
}

void Shipper::Stop() {
  if (!started_) return;
  {
    std::lock_guard lk(mu_);
    stop_reading_ = true;
  }
  reader_cv_.notify_all();
  reader_.join();
  {
    std::lock_guard lk(mu_);
    stop_dispatching_ = true;
  }
  dispatch_cv_.notify_all();
  dispatcher_.join();  // returns once nothing is in flight, after the last checkpoint
  {
    std::lock_guard lk(mu_);
    stop_sending_ = true;
  }
  send_cv_.notify_all();
  for (auto& t : senders_) t.join();
  senders_.clear();
  started_ = false;
}

bool Shipper::WaitDelivered(events::Offset end, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return delivered_cv_.wait_for(lk, timeout, [&] { return delivered_.at.offset >= end; });
}

ResumePoint Shipper::Delivered() const {
  std::lock_guard lk(mu_);
  return delivered_;
}

// --- reader ----------------------------------------------------------------------------------

void Shipper::ReadLoop() {
  events::AppliedSequence applied(start_.applied);
  LoggerEndpoint endpoint = start_.endpoint;
  events::Offset next = start_.at.offset;
  // The checkpoint may fall inside an event's records: those before it were delivered.
  const events::Offset partial_offset = start_.at.offset;
  const std::uint32_t partial_skip = start_.at.index;
  std::vector<LoggerRecord> records;

  for (;;) {
    {
      std::unique_lock lk(mu_);
      reader_cv_.wait(lk, [&] { return stop_reading_ || backlog_ < options_.max_queued_records; });
      if (stop_reading_) return;
    }
    // Bounded, so that Stop is noticed within 100 ms.
    if (log_.WaitFor(next, std::chrono::milliseconds(100)) <= next) continue;
    auto read = log_.Read(next, kReadChunk);
    if (!read.ok()) {
      if (read.status().code() == Status::Code::kClosed) return;
      std::fprintf(stderr, "shipper: reading the events log at %llu: %s (retrying)\n",
                   static_cast<unsigned long long>(next), read.status().ToString().c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::vector<QueuedRecord> out;
    for (const events::LogRecord& rec : read.value()) {
      next = rec.offset + 1;
      auto event = events::DecodeEvent(rec.payload);
      if (!event.ok()) {
        // The matcher is the only writer and encodes what it decodes: this is a bug or damage.
        // Stopping here would stop every log of the exchange; skip it and say so loudly.
        metrics_.undecodable_events.fetch_add(1);
        std::fprintf(stderr, "shipper: ERROR event at offset %llu does not decode, skipped: %s\n",
                     static_cast<unsigned long long>(rec.offset),
                     event.status().ToString().c_str());
        continue;
      }
      const events::Event& ev = event.value();
      if (!applied.ShouldApply(ev.seq)) {
        metrics_.duplicate_events.fetch_add(1);
        continue;
      }
      auto context = std::make_shared<EventContext>(EventContext{rec.offset, applied.last(), endpoint});
      applied.MarkApplied(ev.seq);
      metrics_.events_read.fetch_add(1);
      if (const auto* reset = std::get_if<events::ExchangeReset>(&ev.body)) {
        const auto& e = reset->endpoints;
        if (!e.log_endpoint.empty() && !e.log_appid.empty()) {
          endpoint = LoggerEndpoint{e.log_endpoint, e.log_appid};
        } else {
          std::fprintf(stderr,
                       "shipper: ExchangeReset at offset %llu names no logger endpoint/app id; "
                       "keeping %s\n",
                       static_cast<unsigned long long>(rec.offset),
                       endpoint.empty() ? "the configured one" : endpoint.url.c_str());
        }
      }
      records.clear();
      AppendLoggerRecords(ev, options_.utc_offset_seconds, &records);
      for (std::uint32_t i = 0; i < records.size(); ++i) {
        if (rec.offset == partial_offset && i < partial_skip) continue;
        out.push_back(QueuedRecord{context, i, Serialize(records[i]), ev.time});
      }
    }
    metrics_.records_read.fetch_add(out.size());
    {
      std::lock_guard lk(mu_);
      backlog_ += out.size();
      for (auto& r : out) inbox_.push_back(std::move(r));
      read_end_ = ResumePoint{{next, 0}, applied.last(), endpoint};
      latest_endpoint_ = endpoint;
    }
    dispatch_cv_.notify_one();
  }
}

// --- senders ---------------------------------------------------------------------------------

void Shipper::SendLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lk(mu_);
      send_cv_.wait(lk, [&] { return stop_sending_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    LoggerReply reply = client_.SendBulkBodyTo(job.endpoint, job.body);
    {
      std::lock_guard lk(mu_);
      completions_.push_back(Completion{job.batch_id, std::move(reply)});
    }
    dispatch_cv_.notify_one();
  }
}

// --- dispatcher ------------------------------------------------------------------------------

void Shipper::DispatchLoop() {
  for (;;) {
    std::vector<QueuedRecord> incoming;
    std::deque<Completion> done;
    bool stopping = false;
    {
      std::unique_lock lk(mu_);
      dispatch_cv_.wait_until(lk, NextWake(SteadyClock::now()), [&] {
        return stop_dispatching_ || !inbox_.empty() || !completions_.empty();
      });
      incoming.swap(inbox_);
      done.swap(completions_);
      dispatcher_read_end_ = read_end_;
      dispatcher_latest_endpoint_ = latest_endpoint_;
      stopping = stop_dispatching_;
    }
    const auto now = SteadyClock::now();
    bool acknowledged = false;
    for (Completion& c : done) acknowledged |= HandleCompletion(std::move(c), now);
    for (QueuedRecord& r : incoming) queue_.push_back(std::move(r));
    // Stopping: no new requests; the ones in flight are awaited so their outcome reaches the
    // checkpoint (each is bounded by the request timeout).
    if (!stopping) Dispatch(now);
    const bool finished = stopping && in_flight_.empty();
    UpdateCheckpoint(acknowledged, now, finished);
    if (finished) return;
  }
}

SteadyClock::time_point Shipper::NextWake(SteadyClock::time_point now) const {
  // Polls at least every 100 ms: cheap, and it bounds how late an idle checkpoint is written.
  SteadyClock::time_point wake = now + std::chrono::milliseconds(100);
  if (static_cast<int>(in_flight_.size()) >= options_.max_in_flight) return wake;
  for (const auto& [pos, batch] : retry_) {
    wake = std::min(wake, std::max(batch.not_before, limiter_.NextStart(now)));
  }
  if (!queue_.empty()) {
    wake = std::min(wake, std::max(last_new_batch_ + options_.linger, limiter_.NextStart(now)));
  }
  return std::max(wake, now);
}

LoggerEndpoint Shipper::ResolveEndpoint(const LoggerEndpoint& recorded) const {
  if (!recorded.empty()) return recorded;
  if (!options_.endpoint.empty()) return options_.endpoint;
  // No endpoint known when the action happened: the first one the log names gets it.
  return dispatcher_latest_endpoint_;
}

void Shipper::Dispatch(SteadyClock::time_point now) {
  std::size_t batched = 0;
  while (static_cast<int>(in_flight_.size()) < options_.max_in_flight) {
    // Retries first: they hold the oldest records, which are closest to the 10 s bound.
    auto ready = std::find_if(retry_.begin(), retry_.end(),
                              [&](const auto& kv) { return kv.second.not_before <= now; });
    if (ready != retry_.end()) {
      if (!limiter_.TryStart(now)) break;
      Batch batch = std::move(ready->second);
      retry_.erase(ready);
      metrics_.retries.fetch_add(1);
      StartRequest(std::move(batch));
      continue;
    }
    if (queue_.empty()) break;

    // The next batch: the longest prefix of the queue going to one endpoint that fits.
    const LoggerEndpoint& recorded = queue_.front().event->endpoint;
    std::vector<std::size_t> sizes;
    std::size_t sum = 0;
    bool endpoint_changes = false;
    for (const QueuedRecord& r : queue_) {
      if (r.event->endpoint != recorded) {
        endpoint_changes = true;
        break;
      }
      sizes.push_back(r.json.size());
      sum += r.json.size();
      if (sizes.size() > options_.max_records_per_batch || sum > options_.max_body_bytes) break;
    }
    const std::size_t n =
        RecordsInNextBatch(sizes, options_.max_body_bytes, options_.max_records_per_batch);
    if (n == 0) {  // a record that alone exceeds the body limit can never be sent
      Reject(queue_.front(), "record of " + std::to_string(sizes.front()) +
                                 " bytes exceeds the " + std::to_string(options_.max_body_bytes) +
                                 "-byte body limit");
      queue_.pop_front();
      ++batched;
      continue;
    }
    // Nothing more can join a full batch, so lingering would only add latency.
    const bool full = n < sizes.size() || endpoint_changes;
    if (!full && now < last_new_batch_ + options_.linger) break;
    const LoggerEndpoint endpoint = ResolveEndpoint(recorded);
    if (endpoint.empty()) break;  // held until the log names a logger (/initialize)
    if (!limiter_.TryStart(now)) break;

    Batch batch;
    batch.endpoint = endpoint;
    batch.records.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.records.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    batched += n;
    frontier_.Outstanding(batch.records.front().resume());
    last_new_batch_ = now;
    StartRequest(std::move(batch));
  }
  if (batched > 0) {
    {
      std::lock_guard lk(mu_);
      backlog_ -= std::min(backlog_, batched);
    }
    reader_cv_.notify_one();
  }
}

void Shipper::StartRequest(Batch batch) {
  Job job;
  job.batch_id = next_batch_id_++;
  job.endpoint = batch.endpoint;
  std::size_t bytes = 2;
  for (const auto& r : batch.records) bytes += r.json.size() + 1;
  job.body.reserve(bytes);
  job.body.push_back('[');
  for (const auto& r : batch.records) {
    if (job.body.size() > 1) job.body.push_back(',');
    job.body += r.json;
  }
  job.body.push_back(']');
  ++batch.attempts;
  metrics_.requests_sent.fetch_add(1);
  const std::uint64_t id = job.batch_id;
  in_flight_.emplace(id, std::move(batch));
  {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
  }
  send_cv_.notify_one();
}

bool Shipper::HandleCompletion(Completion c, SteadyClock::time_point now) {
  auto it = in_flight_.find(c.batch_id);
  if (it == in_flight_.end()) return false;  // cannot happen: every job is in flight
  Batch batch = std::move(it->second);
  in_flight_.erase(it);
  const LoggerReply& reply = c.reply;
  switch (reply.outcome) {
    case LoggerOutcome::kOk: {
      frontier_.Settled(batch.first());
      metrics_.batches_delivered.fetch_add(1);
      metrics_.records_delivered.fetch_add(batch.records.size());
      const events::Micros received = events::WallClockMicros();
      for (const auto& r : batch.records) {
        const std::int64_t latency = received - r.action_time;
        metrics_.delivery_latency.Record(latency);
        if (latency > kDeliveryBoundMicros) metrics_.records_late.fetch_add(1);
      }
      return true;
    }
    case LoggerOutcome::kRateLimited:
      metrics_.rate_limited.fetch_add(1);
      // The service counted more than we did (its clock, its window boundaries, another
      // client with our app id): let its window pass before anything else starts.
      limiter_.PauseUntil(now + std::chrono::milliseconds(250));
      ScheduleRetry(std::move(batch), now);
      return false;
    case LoggerOutcome::kUnavailable:
      metrics_.unavailable.fetch_add(1);
      ScheduleRetry(std::move(batch), now);
      return false;
    case LoggerOutcome::kUnknownAppId: {
      // A wrong app id is configuration, not data: the records are fine and will be accepted
      // once the id is right, so they are kept and retried (with the longest backoff).
      const auto n = metrics_.unknown_app_id.fetch_add(1);
      if (n % 100 == 0) {
        std::fprintf(stderr,
                     "shipper: ERROR ISULOGGER %s refuses app id '%s' (401); records are kept "
                     "and retried (%llu such answers so far)\n",
                     batch.endpoint.url.c_str(), batch.endpoint.app_id.c_str(),
                     static_cast<unsigned long long>(n + 1));
      }
      ScheduleRetry(std::move(batch), now);
      return false;
    }
    case LoggerOutcome::kTooLarge:
      metrics_.too_large.fetch_add(1);
      return SplitOrReject(std::move(batch), reply, now);
    case LoggerOutcome::kBadRequest:
      metrics_.bad_requests.fetch_add(1);
      return SplitOrReject(std::move(batch), reply, now);
  }
  return false;
}

void Shipper::ScheduleRetry(Batch batch, SteadyClock::time_point now) {
  batch.not_before = now + RetryDelay(batch.attempts, options_.retry_base, options_.retry_max, rng_);
  const RecordPosition first = batch.first();
  retry_.emplace(first, std::move(batch));
}

bool Shipper::SplitOrReject(Batch batch, const LoggerReply& reply, SteadyClock::time_point now) {
  const std::string why = "HTTP " + std::to_string(reply.http_status) + " " +
                          LoggerOutcomeName(reply.outcome) + ": " + Shorten(reply.detail);
  if (batch.records.size() == 1) {
    frontier_.Settled(batch.first());
    Reject(batch.records.front(), why);
    return true;
  }
  // Halving finds the refused record(s) in log2(n) rounds while the good ones get through.
  std::fprintf(stderr,
               "shipper: ERROR ISULOGGER refused a batch of %zu records (%s); splitting it to "
               "find the offending record\n",
               batch.records.size(), why.c_str());
  frontier_.Settled(batch.first());
  const std::size_t half = batch.records.size() / 2;
  Batch second;
  second.endpoint = batch.endpoint;
  second.records.assign(std::make_move_iterator(batch.records.begin() + half),
                        std::make_move_iterator(batch.records.end()));
  batch.records.resize(half);
  for (Batch* b : {&batch, &second}) {
    b->attempts = 0;
    b->not_before = now;
    frontier_.Outstanding(b->records.front().resume());
  }
  retry_.emplace(batch.first(), std::move(batch));
  retry_.emplace(second.first(), std::move(second));
  return false;
}

void Shipper::Reject(const QueuedRecord& record, const std::string& why) {
  metrics_.records_rejected.fetch_add(1);
  std::fprintf(stderr,
               "shipper: ERROR giving up on the logger record of event offset %llu (#%u): %s; "
               "record: %s\n",
               static_cast<unsigned long long>(record.event->offset), record.index, why.c_str(),
               Shorten(record.json, 300).c_str());
}

void Shipper::UpdateCheckpoint(bool acknowledged, SteadyClock::time_point now, bool force) {
  std::optional<ResumePoint> first_queued;
  if (!queue_.empty()) first_queued = queue_.front().resume();
  const ResumePoint point =
      frontier_.Checkpoint(first_queued ? &*first_queued : nullptr, dispatcher_read_end_);
  {
    std::lock_guard lk(mu_);
    if (!(delivered_ == point)) {
      delivered_ = point;
      delivered_cv_.notify_all();
    }
  }
  if (options_.checkpoint_dir.empty()) return;
  if (last_written_ && *last_written_ == point) return;
  // After a 200 the checkpoint is written at once (fewer duplicates after a crash); a
  // frontier moved only by events that log nothing can wait a little.
  if (!force && !acknowledged && now < last_checkpoint_write_ + options_.idle_checkpoint_interval) {
    return;
  }
  Status s = WriteShipperCheckpoint(options_.checkpoint_dir, point);
  last_checkpoint_write_ = now;
  if (!s.ok()) {
    // Nothing is lost: the old checkpoint stays valid (more duplicates after a crash). Retried
    // on the next change.
    metrics_.checkpoint_errors.fetch_add(1);
    std::fprintf(stderr, "shipper: ERROR writing the checkpoint: %s\n", s.ToString().c_str());
    return;
  }
  metrics_.checkpoints_written.fetch_add(1);
  last_written_ = point;
}

}  // namespace isucoin::effects
