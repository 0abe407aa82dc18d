#include "effects/settlement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "events/codec.h"
#include "events/time_format.h"

namespace isucoin::effects {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Settlement

namespace {

std::int64_t MicrosBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

bool Contains(const std::string& text, const char* word) {
  return text.find(word) != std::string::npos;
}

Status WriteFileDurably(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string tmp = dir + "/" + name + ".tmp";
  const std::string final_path = dir + "/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::IOError("write " + tmp + ": " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    Status s = Status::IOError("fdatasync " + tmp + ": " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return Status::IOError("rename " + tmp + ": " + std::strerror(errno));
  }
  // The rename is durable only once the directory is.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::IOError("open " + dir + ": " + std::strerror(errno));
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Status::IOError("fsync " + dir + ": " + std::strerror(errno));
  return Status::Ok();
}

constexpr const char* kCheckpointFile = "checkpoint.json";
constexpr std::size_t kReadBatch = 1024;
constexpr std::size_t kDispatchChunk = 16;

}  // namespace

Settlement::Settlement(events::Log& events, events::Log& commands, SettlementOptions options)
    : events_(events), commands_(commands), options_(std::move(options)) {
  options_.reserve_concurrency = std::max(1, options_.reserve_concurrency);
  options_.commit_concurrency = std::max(1, options_.commit_concurrency);
  options_.release_concurrency = std::max(1, options_.release_concurrency);
  options_.max_commit_batch = std::max<std::size_t>(1, options_.max_commit_batch);
}

Settlement::~Settlement() { Stop(); }

Micros Settlement::Now() const {
  if (options_.now) return options_.now();
  return events::WallClockMicros();
}

milliseconds Settlement::Backoff(int failures) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  long long cap = 50;
  for (int i = 1; i < failures && cap < options_.max_retry_backoff.count(); ++i) cap *= 2;
  cap = std::min<long long>(cap, options_.max_retry_backoff.count());
  // Half fixed, half jitter: spreads retries without ever retrying at once.
  return milliseconds(cap / 2 + std::uniform_int_distribution<long long>(0, cap / 2)(rng));
}

bool Settlement::SleepFor(milliseconds d) {
  std::unique_lock lock(stop_mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stop_.load(); });
}

void Settlement::SetFatal(Status s) {
  std::fprintf(stderr, "settlement: FATAL %s\n", s.ToString().c_str());
  std::lock_guard lock(mu_);
  if (fatal_.ok()) fatal_ = std::move(s);
}

Status Settlement::health() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

events::Offset Settlement::next_offset() const {
  std::lock_guard lock(mu_);
  return next_offset_;
}

bool Settlement::Quiescent(events::Offset offset) const {
  std::lock_guard lock(mu_);
  if (next_offset_ < offset || !ledger_.releases().empty()) return false;
  for (const auto& [id, m] : ledger_.matches()) {
    if (m.phase != SettlementLedger::MatchPhase::kReported) return false;
  }
  for (const auto& [id, t] : ledger_.trades()) {
    if (t.phase != SettlementLedger::TradePhase::kReported) return false;
  }
  return true;
}

std::shared_ptr<const BankClient> Settlement::bank() const {
  std::lock_guard lock(bank_mu_);
  return bank_;
}

void Settlement::UpdateBankLocked() {
  if (auto current = bank(); current && current->options().endpoint == ledger_.bank_endpoint() &&
                             current->options().app_id == ledger_.bank_appid()) {
    return;
  }
  BankClientOptions o = options_.bank;
  o.endpoint = ledger_.bank_endpoint();
  o.app_id = ledger_.bank_appid();
  // Calls under way keep the client they started with (shared_ptr).
  auto client = std::make_shared<const BankClient>(http_, std::move(o));
  std::lock_guard lock(bank_mu_);
  bank_ = std::move(client);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint

Status Settlement::LoadCheckpoint() {
  std::lock_guard lock(mu_);
  ledger_ = SettlementLedger();
  ledger_.SetBank(options_.bank_endpoint, options_.bank_appid);
  next_offset_ = options_.start_offset;
  applied_ = events::AppliedSequence();
  if (options_.checkpoint_dir.empty()) return Status::Ok();

  std::error_code ec;
  std::filesystem::create_directories(options_.checkpoint_dir, ec);
  if (ec) return Status::IOError("create " + options_.checkpoint_dir + ": " + ec.message());
  const std::string path = options_.checkpoint_dir + "/" + kCheckpointFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (std::filesystem::exists(path)) return Status::IOError("cannot read " + path);
    return Status::Ok();  // first start
  }
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  // A damaged checkpoint is not guessed around: starting from scratch could pay twice for
  // nothing (no) but would forget reservations; an operator decides.
  if (j.is_discarded() || !j.is_object()) return Status::Corruption(path + ": not JSON");
  try {
    if (j.at("v").get<int>() != 1) return Status::Corruption(path + ": unknown version");
    Result<SettlementLedger> ledger = SettlementLedger::FromJson(j.at("ledger"));
    if (!ledger.ok()) return Status::Corruption(path + ": " + ledger.status().message());
    ledger_ = std::move(ledger).value();
    next_offset_ = j.at("next_offset").get<events::Offset>();
    if (!j.at("last_seq").is_null()) {
      applied_ = events::AppliedSequence(events::Sequence{
          j.at("last_seq").at(0).get<std::uint64_t>(), j.at("last_seq").at(1).get<std::uint32_t>()});
    }
  } catch (const json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  if (!ledger_.bank_from_log()) ledger_.SetBank(options_.bank_endpoint, options_.bank_appid);
  return Status::Ok();
}

Status Settlement::WriteCheckpoint() {
  if (options_.checkpoint_dir.empty()) return Status::Ok();
  std::lock_guard cp(checkpoint_mu_);
  std::uint64_t changes;
  json last = nullptr;
  events::Offset next_offset;
  SettlementLedger copy;
  {
    // Copied under the lock, serialized outside it: the follower and the commit lane must
    // not wait for JSON.
    std::lock_guard lock(mu_);
    changes = changes_;
    if (changes == checkpointed_changes_ && changes != 0) return Status::Ok();
    if (auto seq = applied_.last()) last = json::array({seq->cause, seq->index});
    next_offset = next_offset_;
    copy = ledger_;
  }
  const std::string data = json{{"v", 1}, {"next_offset", next_offset}, {"last_seq", last},
                                {"ledger", copy.ToJson()}}.dump();
  Status s = WriteFileDurably(options_.checkpoint_dir, kCheckpointFile, data);
  if (!s.ok()) {
    metrics_.checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "settlement: checkpoint failed: %s\n", s.ToString().c_str());
    return s;
  }
  checkpointed_changes_ = changes;
  metrics_.checkpoints_written.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void Settlement::CheckpointLoop() {
  while (SleepFor(options_.checkpoint_interval)) (void)WriteCheckpoint();
}

// ---------------------------------------------------------------------------------------------
// Start / stop

Status Settlement::Start() {
  if (started_.exchange(true)) return Status::Invalid("settlement already started");
  Status s = LoadCheckpoint();
  if (!s.ok()) return s;

  // Catch up with the log before acting, so that work the log already finished (a match that
  // traded, a trade that settled) is not started again.
  const events::Offset end = events_.End();
  {
    std::lock_guard lock(mu_);
    while (next_offset_ < end) {
      auto records = events_.Read(next_offset_, kReadBatch);
      if (!records.ok()) return records.status();
      if (records.value().empty()) break;
      for (const events::LogRecord& rec : records.value()) {
        auto event = events::DecodeEvent(rec.payload);
        if (event.ok() && applied_.Admit(event.value().seq)) {
          (void)ledger_.Apply(event.value());
          metrics_.events_applied.fetch_add(1, std::memory_order_relaxed);
        } else if (!event.ok()) {
          std::fprintf(stderr, "settlement: skipping undecodable event at %llu: %s\n",
                       static_cast<unsigned long long>(rec.offset),
                       event.status().ToString().c_str());
        }
        next_offset_ = rec.offset + 1;
      }
    }
    UpdateBankLocked();
    ++changes_;
  }
  SettlementActions resume;
  {
    std::lock_guard lock(mu_);
    resume = ledger_.Resume();
  }
  Dispatch(std::move(resume), Clock::now());

  for (int i = 0; i < options_.reserve_concurrency; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        LegToReserve leg;
        {
          std::unique_lock lock(reserve_mu_);
          reserve_cv_.wait(lock, [&] { return stop_.load() || !reserve_queue_.empty(); });
          if (stop_) return;
          leg = std::move(reserve_queue_.front());
          reserve_queue_.pop_front();
        }
        ReserveLeg(std::move(leg));
      }
    });
  }
  for (int i = 0; i < options_.commit_concurrency; ++i) {
    threads_.emplace_back([this] { LaneLoop(commit_lane_, /*commit=*/true); });
  }
  for (int i = 0; i < options_.release_concurrency; ++i) {
    threads_.emplace_back([this] { LaneLoop(release_lane_, /*commit=*/false); });
  }
  threads_.emplace_back([this] { ReporterLoop(); });
  threads_.emplace_back([this] { FollowLoop(); });
  if (!options_.checkpoint_dir.empty()) threads_.emplace_back([this] { CheckpointLoop(); });
  return Status::Ok();
}

void Settlement::Stop() {
  if (!started_.load() || stop_.exchange(true)) return;
  {
    std::lock_guard lock(stop_mu_);
    stop_cv_.notify_all();
  }
  for (std::mutex* m : {&reserve_mu_, &commit_lane_.mu, &release_lane_.mu, &report_mu_}) {
    std::lock_guard lock(*m);
  }
  reserve_cv_.notify_all();
  commit_lane_.cv.notify_all();
  release_lane_.cv.notify_all();
  report_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard lock(mu_);
    ++changes_;
  }
  (void)WriteCheckpoint();
}

// ---------------------------------------------------------------------------------------------
// Following the events log

void Settlement::FollowLoop() {
  while (!stop_) {
    events::Offset from = next_offset();
    if (events_.WaitFor(from, milliseconds(50)) <= from) continue;
    auto records = events_.Read(from, kReadBatch);
    if (!records.ok()) {
      if (records.status().code() == Status::Code::kClosed) {
        if (!stop_) SetFatal(records.status());
        return;
      }
      std::fprintf(stderr, "settlement: reading events: %s\n",
                   records.status().ToString().c_str());
      SleepFor(milliseconds(100));
      continue;
    }
    // Decoded outside the lock and acted on in small chunks, so that a TradeExecuted waits for
    // at most a few decodes, not for the whole read, before its commit is queued.
    const auto& recs = records.value();
    for (std::size_t begin = 0; begin < recs.size() && !stop_;) {
      const std::size_t end = std::min(recs.size(), begin + kDispatchChunk);
      std::vector<Result<events::Event>> decoded;
      decoded.reserve(end - begin);
      for (std::size_t i = begin; i < end; ++i) decoded.push_back(events::DecodeEvent(recs[i].payload));
      const auto read_at = Clock::now();
      SettlementActions actions;
      {
        std::lock_guard lock(mu_);
        for (std::size_t i = begin; i < end; ++i) {
          const events::LogRecord& rec = recs[i];
          if (rec.offset != next_offset_) continue;  // only Start and this thread move it
          next_offset_ = rec.offset + 1;
          ++changes_;
          const Result<events::Event>& event = decoded[i - begin];
          if (!event.ok()) {
            // Only the matcher writes this log, with the same codec; skipping keeps the rest
            // of the exchange paid while the bad record is investigated.
            std::fprintf(stderr, "settlement: skipping undecodable event at %llu: %s\n",
                         static_cast<unsigned long long>(rec.offset),
                         event.status().ToString().c_str());
            continue;
          }
          const events::Event& e = event.value();
          if (!applied_.Admit(e.seq)) continue;
          metrics_.events_applied.fetch_add(1, std::memory_order_relaxed);
          if (const auto* m = std::get_if<events::MatchProposed>(&e.body)) {
            metrics_.matches_proposed.fetch_add(1, std::memory_order_relaxed);
            match_read_at_[m->match_id] = read_at;
          } else if (const auto* t = std::get_if<events::TradeExecuted>(&e.body)) {
            metrics_.trades_executed.fetch_add(1, std::memory_order_relaxed);
            match_read_at_.erase(t->match_id);
          } else if (const auto* a = std::get_if<events::MatchAborted>(&e.body)) {
            match_read_at_.erase(a->match_id);
          }
          actions.Merge(ledger_.Apply(e));
          if (std::holds_alternative<events::ExchangeReset>(e.body)) UpdateBankLocked();
        }
      }
      Dispatch(std::move(actions), read_at);
      begin = end;
    }
  }
}

void Settlement::Dispatch(SettlementActions actions, Clock::time_point read_at) {
  if (!actions.reserve.empty()) {
    {
      std::lock_guard lock(reserve_mu_);
      for (auto& leg : actions.reserve) reserve_queue_.push_back(std::move(leg));
    }
    if (actions.reserve.size() == 1) {
      reserve_cv_.notify_one();
    } else {
      reserve_cv_.notify_all();
    }
  }
  if (!actions.commit.empty()) {
    {
      std::lock_guard lock(commit_lane_.mu);
      for (auto& c : actions.commit) {
        BatchItem item;
        item.trade_id = c.trade_id;
        item.reserve_ids = std::move(c.reserve_ids);
        item.ready_at = read_at;
        item.read_at = read_at;
        item.reserved_since = c.reserved_since;
        commit_lane_.items.push_back(std::move(item));
      }
      metrics_.trades_waiting.fetch_add(static_cast<std::int64_t>(actions.commit.size()),
                                        std::memory_order_relaxed);
    }
    // One idle worker takes everything waiting; a second wake-up only matters when the
    // first cannot take it all (batch limit).
    commit_lane_.cv.notify_one();
  }
  if (!actions.release.empty()) {
    {
      std::lock_guard lock(release_lane_.mu);
      BatchItem item;
      item.reserve_ids = std::move(actions.release);
      item.ready_at = read_at;
      item.read_at = Clock::now();
      release_lane_.items.push_back(std::move(item));
    }
    release_lane_.cv.notify_one();
  }
  if (!actions.report_reservations.empty() || !actions.report_commits.empty()) {
    {
      std::lock_guard lock(report_mu_);
      for (auto& r : actions.report_reservations) report_reservations_.push_back(std::move(r));
      report_commits_.insert(report_commits_.end(), actions.report_commits.begin(),
                             actions.report_commits.end());
    }
    report_cv_.notify_one();
  }
}

// ---------------------------------------------------------------------------------------------
// Reserving

void Settlement::ReserveLeg(LegToReserve leg) {
  metrics_.legs_in_flight.fetch_add(1, std::memory_order_relaxed);
  events::Reservation result;
  result.order_id = leg.order_id;
  bool decided = false;
  for (int failures = 0; !stop_;) {
    {
      std::lock_guard lock(mu_);
      // A match aborted by a reset while we retry needs no answer any more.
      if (!ledger_.IsMatchPending(leg.match_id)) break;
    }
    auto client = bank();
    BankReply reply = client->Reserve(leg.bank_id, leg.price);
    metrics_.bank_retries.fetch_add(static_cast<std::uint64_t>(std::max(0, reply.attempts - 1)),
                                    std::memory_order_relaxed);
    if (reply.ok()) {
      result.reserve_id = reply.reserve_id;
      metrics_.reservations_ok.fetch_add(1, std::memory_order_relaxed);
      decided = true;
      break;
    }
    if (reply.outcome == BankOutcome::kInsufficientCredit ||
        reply.outcome == BankOutcome::kNoSuchAccount) {
      result.error = reply.message;
      metrics_.reservations_refused.fetch_add(1, std::memory_order_relaxed);
      decided = true;
      break;
    }
    // 5xx and timeouts left after the client's own retries, a malformed answer, or 401: the
    // bank has not decided about this leg. 401 is a configuration problem an /initialize may
    // fix, so it is retried too, but loudly.
    if (reply.outcome == BankOutcome::kUnknownAppId) {
      metrics_.unknown_app_id.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "settlement: bank refuses app id (401) on /reserve: %s\n",
                   reply.message.c_str());
    }
    metrics_.reserve_attempts_failed.fetch_add(1, std::memory_order_relaxed);
    if (!SleepFor(Backoff(++failures))) break;
  }
  metrics_.legs_in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (!decided) {
    return;  // stopping or the match ended: the ledger still says what is missing
  }
  SettlementActions actions;
  {
    std::lock_guard lock(mu_);
    actions = ledger_.OnLegReserved(leg.match_id, leg.leg_index, std::move(result));
    ++changes_;
  }
  Dispatch(std::move(actions), Clock::now());
}

// ---------------------------------------------------------------------------------------------
// Commit and release lanes

std::vector<Settlement::BatchItem> Settlement::TakeBatch(Lane& lane) {
  std::unique_lock lock(lane.mu);
  for (;;) {
    if (stop_) return {};
    const auto now = Clock::now();
    auto earliest = Clock::time_point::max();
    for (const BatchItem& item : lane.items) earliest = std::min(earliest, item.ready_at);
    if (earliest <= now) break;
    if (earliest == Clock::time_point::max()) {
      lane.cv.wait(lock);
    } else {
      lane.cv.wait_until(lock, earliest);
    }
  }
  const auto now = Clock::now();
  std::vector<BatchItem> batch;
  auto ready = [&](const BatchItem& i) { return i.ready_at <= now; };
  auto first = std::find_if(lane.items.begin(), lane.items.end(), ready);
  if (first->solo) {
    // Part of a refused batch: sent alone, so that the answer is about one reservation.
    batch.push_back(std::move(*first));
    lane.items.erase(first);
  } else {
    std::size_t ids = 0;
    for (auto it = first; it != lane.items.end();) {
      if (!ready(*it) || it->solo) {
        ++it;
        continue;
      }
      if (!batch.empty() && ids + it->reserve_ids.size() > options_.max_commit_batch) break;
      ids += it->reserve_ids.size();
      batch.push_back(std::move(*it));
      it = lane.items.erase(it);
    }
  }
  const bool more_ready = std::any_of(lane.items.begin(), lane.items.end(), ready);
  lock.unlock();
  if (more_ready) lane.cv.notify_one();
  return batch;
}

void Settlement::Requeue(Lane& lane, std::vector<BatchItem> items, bool failed) {
  {
    std::lock_guard lock(lane.mu);
    for (BatchItem& item : items) {
      if (failed) {
        ++item.failures;
        item.ready_at = Clock::now() + Backoff(item.failures);
      } else {
        item.ready_at = Clock::now();
      }
      lane.items.push_back(std::move(item));
    }
  }
  lane.cv.notify_all();
}

void Settlement::LaneLoop(Lane& lane, bool commit) {
  while (!stop_) {
    std::vector<BatchItem> batch = TakeBatch(lane);
    if (batch.empty()) continue;
    std::vector<ReserveId> ids;
    for (const BatchItem& item : batch) ids.insert(ids.end(), item.reserve_ids.begin(),
                                                   item.reserve_ids.end());
    auto client = bank();
    BankReply reply;
    if (commit) {
      const auto now = Clock::now();
      for (const BatchItem& item : batch) {
        if (item.failures == 0 && !item.solo) {
          metrics_.commit_start_delay.Record(MicrosBetween(item.read_at, now));
        }
      }
      metrics_.commit_requests.fetch_add(1, std::memory_order_relaxed);
      metrics_.commits_in_flight.fetch_add(static_cast<std::int64_t>(ids.size()),
                                           std::memory_order_relaxed);
      reply = client->Commit(ids);
      metrics_.commits_in_flight.fetch_sub(static_cast<std::int64_t>(ids.size()),
                                           std::memory_order_relaxed);
    } else {
      metrics_.release_requests.fetch_add(1, std::memory_order_relaxed);
      reply = client->Cancel(ids);
    }
    metrics_.bank_retries.fetch_add(static_cast<std::uint64_t>(std::max(0, reply.attempts - 1)),
                                    std::memory_order_relaxed);
    if (commit) {
      HandleCommitReply(reply, std::move(batch));
    } else {
      HandleReleaseReply(reply, std::move(batch));
    }
  }
}

// Splits a batch the bank refused as a whole into one item per reserve id, so that each
// answer is about one reservation.
static std::vector<std::pair<Id, std::vector<ReserveId>>> PerReserveId(
    const std::vector<ReserveId>& ids, Id trade_id) {
  std::vector<std::pair<Id, std::vector<ReserveId>>> out;
  for (ReserveId id : ids) out.push_back({trade_id, {id}});
  return out;
}

void Settlement::HandleCommitReply(const BankReply& reply, std::vector<BatchItem> items) {
  std::size_t total_ids = 0;
  for (const BatchItem& item : items) total_ids += item.reserve_ids.size();

  auto committed = [&](const BatchItem& item) {
    SettlementActions actions;
    {
      std::lock_guard lock(mu_);
      actions = ledger_.OnCommitted(item.trade_id, item.reserve_ids);
      ++changes_;
    }
    if (!actions.report_commits.empty()) {
      metrics_.trades_waiting.fetch_sub(1, std::memory_order_relaxed);
    }
    Dispatch(std::move(actions), Clock::now());
  };

  if (reply.ok()) {
    metrics_.reserve_ids_committed.fetch_add(total_ids, std::memory_order_relaxed);
    for (const BatchItem& item : items) committed(item);
    return;
  }
  const bool refused = reply.outcome == BankOutcome::kRejected ||
                       reply.outcome == BankOutcome::kUnknownReservation;
  if (!refused) {
    if (reply.outcome == BankOutcome::kUnknownAppId) {
      metrics_.unknown_app_id.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "settlement: bank refuses app id (401) on /commit: %s\n",
                   reply.message.c_str());
    }
    metrics_.commit_retries.fetch_add(1, std::memory_order_relaxed);
    Requeue(commit_lane_, std::move(items), /*failed=*/true);
    return;
  }
  if (total_ids > 1) {
    // All or nothing at the bank: nothing of this batch was applied. Find out per reserve id.
    metrics_.commit_batch_splits.fetch_add(1, std::memory_order_relaxed);
    std::vector<BatchItem> solos;
    for (const BatchItem& item : items) {
      for (auto& [trade_id, one] : PerReserveId(item.reserve_ids, item.trade_id)) {
        BatchItem s = item;
        s.trade_id = trade_id;
        s.reserve_ids = std::move(one);
        s.solo = true;
        solos.push_back(std::move(s));
      }
    }
    Requeue(commit_lane_, std::move(solos), /*failed=*/false);
    return;
  }
  const BatchItem& item = items.front();
  const ReserveId id = item.reserve_ids.front();
  const bool young = std::chrono::microseconds(Now() - item.reserved_since) <
                     options_.reservation_ttl;
  const bool done_before =
      reply.outcome == BankOutcome::kRejected &&
      (Contains(reply.message, "already committed") ||
       (young && !Contains(reply.message, "expired") && !Contains(reply.message, "cancel")));
  if (done_before) {
    metrics_.commits_already_done.fetch_add(1, std::memory_order_relaxed);
    metrics_.reserve_ids_committed.fetch_add(1, std::memory_order_relaxed);
    committed(item);
    return;
  }
  metrics_.commit_incidents.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr,
               "settlement: INCIDENT trade %lld: the bank refuses to commit reserve_id %lld "
               "(HTTP %ld: %s); the trade stays unsettled\n",
               static_cast<long long>(item.trade_id), static_cast<long long>(id),
               reply.http_status, reply.message.c_str());
  bool ended;
  {
    std::lock_guard lock(mu_);
    ended = ledger_.OnCommitIncident(item.trade_id, id);
    ++changes_;
  }
  if (ended) metrics_.trades_waiting.fetch_sub(1, std::memory_order_relaxed);
}

void Settlement::HandleReleaseReply(const BankReply& reply, std::vector<BatchItem> items) {
  std::vector<ReserveId> ids;
  for (const BatchItem& item : items) ids.insert(ids.end(), item.reserve_ids.begin(),
                                                 item.reserve_ids.end());
  auto released = [&](const std::vector<ReserveId>& done) {
    std::lock_guard lock(mu_);
    ledger_.OnReleased(done);
    ++changes_;
  };
  if (reply.ok()) {
    metrics_.reserve_ids_released.fetch_add(ids.size(), std::memory_order_relaxed);
    released(ids);
    return;
  }
  const bool refused = reply.outcome == BankOutcome::kRejected ||
                       reply.outcome == BankOutcome::kUnknownReservation;
  if (refused && ids.size() > 1) {
    std::vector<BatchItem> solos;
    for (ReserveId id : ids) {
      BatchItem s = items.front();
      s.reserve_ids = {id};
      s.solo = true;
      solos.push_back(std::move(s));
    }
    Requeue(release_lane_, std::move(solos), /*failed=*/false);
    return;
  }
  if (refused) {
    // Expired, already cancelled, committed or unknown: nothing is held any more.
    released(ids);
    return;
  }
  // The bank did not answer. A reservation older than the TTL has expired: stop trying.
  std::vector<BatchItem> again;
  for (BatchItem& item : items) {
    if (Clock::now() - item.read_at > options_.reservation_ttl) {
      metrics_.release_failures.fetch_add(1, std::memory_order_relaxed);
      released(item.reserve_ids);
    } else {
      again.push_back(std::move(item));
    }
  }
  if (!again.empty()) Requeue(release_lane_, std::move(again), /*failed=*/true);
}

// ---------------------------------------------------------------------------------------------
// Reporting

void Settlement::ReporterLoop() {
  for (;;) {
    std::vector<events::ReservationsReported> reservations;
    std::vector<Id> commits;
    {
      std::unique_lock lock(report_mu_);
      report_cv_.wait(lock, [&] {
        return stop_.load() || !report_reservations_.empty() || !report_commits_.empty();
      });
      if (stop_) return;  // what is unreported stays "reporting" in the ledger: Resume redoes it
      reservations.swap(report_reservations_);
      commits.swap(report_commits_);
    }
    // The checkpoint first: once the matcher has a report it may execute the trade, and the
    // reservations must then never be forgotten by a restart of this worker.
    if (options_.checkpoint_before_report) {
      {
        std::lock_guard lock(mu_);
        ++changes_;
      }
      (void)WriteCheckpoint();
    }
    std::vector<std::string> payloads;
    const Micros now = Now();
    for (const auto& r : reservations) {
      payloads.push_back(events::EncodeCommand(events::Command{0, now, r}));
    }
    if (!commits.empty()) {
      payloads.push_back(
          events::EncodeCommand(events::Command{0, now, events::CommitsReported{commits}}));
    }
    for (int failures = 0;;) {
      Result<events::Offset> appended = commands_.Append(payloads);
      if (appended.ok()) break;
      metrics_.append_failures.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "settlement: appending reports: %s\n",
                   appended.status().ToString().c_str());
      if (appended.status().code() == Status::Code::kClosed) {
        SetFatal(appended.status());
        return;
      }
      if (!SleepFor(Backoff(++failures))) return;
    }
    metrics_.reports_appended.fetch_add(payloads.size(), std::memory_order_relaxed);
    const auto done = Clock::now();
    std::vector<Id> match_ids;
    {
      std::lock_guard lock(mu_);
      for (const auto& r : reservations) {
        match_ids.push_back(r.match_id);
        auto it = match_read_at_.find(r.match_id);
        if (it != match_read_at_.end()) {
          metrics_.match_report_delay.Record(MicrosBetween(it->second, done));
          match_read_at_.erase(it);
        }
      }
      ledger_.OnReservationsReported(match_ids);
      ledger_.OnCommitsReported(commits);
      ++changes_;
    }
  }
}

}  // namespace isucoin::effects
