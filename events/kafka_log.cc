#include "events/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <thread>

namespace isucoin::events {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int32_t kPartition = 0;
// A reader never joins this group: the high-level consumer needs a group.id for assign(),
// but without subscribe() it only fetches, and it never commits.
constexpr const char* kReaderGroup = "isucoin-log-reader";

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

Status::Code CodeFor(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return Status::Code::kTimeout;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
      return Status::Code::kUnavailable;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return Status::Code::kNotFound;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
      return Status::Code::kInvalid;
    default:
      return Status::Code::kIOError;
  }
}

Status MakeStatus(Status::Code code, std::string message) {
  switch (code) {
    case Status::Code::kOk: return Status::Ok();
    case Status::Code::kInvalid: return Status::Invalid(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kCorruption: return Status::Corruption(std::move(message));
    case Status::Code::kIOError: return Status::IOError(std::move(message));
    case Status::Code::kBusy: return Status::Busy(std::move(message));
    case Status::Code::kTimeout: return Status::Timeout(std::move(message));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Status::Code::kClosed: return Status::Closed(std::move(message));
  }
  return Status::IOError(std::move(message));
}

Status KafkaStatus(rd_kafka_resp_err_t err, const std::string& what,
                   const std::string& detail = {}) {
  std::string message = what + ": " + rd_kafka_err2str(err);
  if (!detail.empty()) message += " (" + detail + ")";
  return MakeStatus(CodeFor(err), std::move(message));
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

Status SetAll(rd_kafka_conf_t* conf, const KafkaConfig& kvs) {
  char err[512];
  for (const auto& [k, v] : kvs) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::Invalid("librdkafka property " + k + "=" + v + ": " + err);
    }
  }
  return Status::Ok();
}

Result<ConfPtr> MakeConf(std::initializer_list<const KafkaConfig*> layers) {
  ConfPtr conf(rd_kafka_conf_new());
  for (const KafkaConfig* layer : layers) {
    if (Status s = SetAll(conf.get(), *layer); !s.ok()) return s;
  }
  return conf;
}

// Topic handles and clients are destroyed without the consumer-close handshake: a reader has
// no group to leave, and a dead broker must not make a destructor hang.
void DestroyClient(rd_kafka_t* rk) {
  if (rk != nullptr) rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

// The partition count of `topic`, or nullopt when the cluster does not know it. Lists every
// topic on purpose: a metadata request naming a missing topic makes the mock cluster (and a
// broker with auto.create.topics.enable) create it with the default partition count.
Result<std::optional<int>> PartitionCount(rd_kafka_t* rk, const std::string& topic,
                                          Clock::time_point deadline) {
  const struct rd_kafka_metadata* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, RemainingMs(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(err, "cannot fetch cluster metadata");
  }
  std::optional<int> count;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR) count = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return count;
}

Status CreateTopic(rd_kafka_t* rk, const std::string& topic, int replication_factor,
                   Clock::time_point deadline) {
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), 1, replication_factor, err, sizeof err);
  if (nt == nullptr) return Status::Invalid("cannot create topic " + topic + ": " + err);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, std::max(1, RemainingMs(deadline)), err,
                                            sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(opts, std::max(1, RemainingMs(deadline)), err,
                                              sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  // The admin request carries the same timeout; the extra second lets its own timeout
  // event (with the better message) arrive first.
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, RemainingMs(deadline) + 1000);
  Status status;
  const std::string what = "cannot create topic " + topic;
  const std::string hint =
      "librdkafka's mock cluster cannot create topics: create them when starting it, "
      "e.g. devbroker --prefix";
  if (ev == nullptr) {
    status = Status::Timeout(what + ": no answer in time (" + hint + ")");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = KafkaStatus(rd_kafka_event_error(ev), what,
                         std::string(rd_kafka_event_error_string(ev)) + "; " + hint);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(results[i]);
      // Someone else created it meanwhile: the partition check that follows decides.
      if (terr == RD_KAFKA_RESP_ERR_NO_ERROR || terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        continue;
      }
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      status = KafkaStatus(terr, what, msg != nullptr ? msg : "");
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  return status;
}

// Checks that `topic` has exactly one partition, creating it first if allowed.
Status EnsureTopic(rd_kafka_t* rk, const std::string& topic, bool create,
                   int replication_factor, Clock::time_point deadline) {
  bool created = false;
  for (;;) {
    auto count = PartitionCount(rk, topic, deadline);
    if (!count.ok()) return count.status();
    if (count.value().has_value()) {
      int n = *count.value();
      if (n != 1) {
        return Status::Invalid("topic " + topic + " has " + std::to_string(n) +
                               " partitions; a Log needs exactly 1 (one total order). "
                               "Recreate it with 1 partition or use another prefix");
      }
      return Status::Ok();
    }
    if (!create) return Status::NotFound("topic " + topic + " does not exist");
    if (!created) {
      if (Status s = CreateTopic(rk, topic, replication_factor, deadline); !s.ok()) return s;
      created = true;
    }
    // A created topic reaches every broker's metadata cache a moment later.
    if (RemainingMs(deadline) == 0) {
      return Status::Timeout("topic " + topic + " was created but is not visible yet");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// An empty record comes back with a null payload.
std::string Payload(const rd_kafka_message_t* m) {
  if (m->payload == nullptr) return {};
  return std::string(static_cast<const char*>(m->payload), m->len);
}

struct BatchState {
  explicit BatchState(size_t n) : offsets(n, -1), errors(n, RD_KAFKA_RESP_ERR_NO_ERROR) {}
  std::vector<int64_t> offsets;
  std::vector<rd_kafka_resp_err_t> errors;
  // Reports are served on the producer's poller thread; the appender waits for zero
  // (release/acquire: the offsets and errors written before are then visible to it). Each
  // batch has its own wake-up, so a report wakes its appender only, not every one waiting.
  std::atomic<size_t> pending{0};
  std::mutex mu;
  std::condition_variable delivered;
};

// The per-message opaque: a batch abandoned by a timed-out Append stays alive until its last
// delivery report, which may come during a later Append's poll.
// librdkafka hands a message's opaque to the delivery callback on another thread through its
// own queues, which TSan does not see (uninstrumented): declare that hand-off to it.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void TsanAcquire(void* p) { __tsan_acquire(p); }
inline void TsanRelease(void* p) { __tsan_release(p); }
#else
inline void TsanAcquire(void*) {}
inline void TsanRelease(void*) {}
#endif

struct Delivery {
  std::shared_ptr<BatchState> batch;
  size_t index;
};

}  // namespace

KafkaTopicNames KafkaTopicsFor(std::string_view prefix) {
  std::string p(prefix);
  return KafkaTopicNames{p + ".commands", p + ".events"};
}

// ---------------------------------------------------------------------------------------------
// KafkaLog

struct KafkaLog::Impl {
  KafkaLogOptions options;

  // Operations hold it shared while they use the clients; Close holds it exclusively to
  // destroy them.
  mutable std::shared_mutex life_mu;
  std::atomic<bool> closed{false};

  // Group commit: appenders queue up; one of them, the leader, hands every queued batch to
  // librdkafka in one produce_batch, waits for the reports and gives each appender its
  // offsets. So one batch is in flight at a time (batches of this process never interleave)
  // and concurrent appenders share a round trip. Measured on the mock (bench/kafka_bench.cc):
  // letting each appender produce on its own collapsed from 47k appends/s with one thread to
  // 3-6k with 8-32 threads (librdkafka's idempotent producer with many tiny requests).
  struct PendingAppend {
    std::span<const std::string> payloads;
    std::optional<Result<Offset>> result;
    std::condition_variable wake;  // its result came, or it leads the next group
  };
  std::mutex group_mu;
  std::vector<PendingAppend*> group_queue;
  bool group_leader = false;
  // The leader holds it shared while it uses the producer; recreating the producer after a
  // fatal error, and Close, hold it exclusively.
  std::shared_mutex producer_mu;
  rd_kafka_t* producer = nullptr;
  rd_kafka_topic_t* producer_topic = nullptr;
  std::atomic<bool> producer_failed{false};  // fatal error: recreate before the next append
  // Serves the producer's delivery reports and wakes the appenders waiting for them.
  std::thread producer_poller;
  std::atomic<bool> poller_stop{false};

  std::mutex read_mu;
  rd_kafka_t* reader = nullptr;
  rd_kafka_topic_t* reader_topic = nullptr;
  int64_t reader_next = -1;  // the offset the reader's fetch queue delivers next; -1: unknown
  // Records WaitFor took from the fetch queue while waiting for them: the next Read returns
  // them first. Contiguous, ending just before reader_next.
  std::deque<LogRecord> prefetched;

  std::atomic<Offset> known_end{0};
  std::mutex wait_mu;
  std::condition_variable wait_cv;

  // Watermark queries run on their own thread and client: librdkafka 2.0's
  // rd_kafka_query_watermark_offsets ignores its timeout while the leader is unreachable
  // (only the client's socket.timeout.ms ends it), and WaitFor/End/Read must keep theirs.
  rd_kafka_t* meta = nullptr;
  std::thread wm_thread;
  std::mutex wm_mu;
  std::condition_variable wm_cv;
  uint64_t wm_requested = 0;
  uint64_t wm_completed = 0;
  bool wm_stop = false;
  Result<Offset> wm_result = Status::Unavailable("no watermark query yet");

  std::mutex error_mu;
  std::string last_client_error;  // from error_cb: explains a timeout ("Connection refused")

  ~Impl() { DestroyClients(); }

  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    std::lock_guard lock(self->error_mu);
    self->last_client_error =
        std::string(rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
  }

  std::string LastClientError() {
    std::lock_guard lock(error_mu);
    return last_client_error.empty() ? "" : "last client error: " + last_client_error;
  }

  void AdvanceEnd(Offset end) {
    Offset cur = known_end.load();
    while (cur < end && !known_end.compare_exchange_weak(cur, end)) {
    }
  }

  Result<ConfPtr> CommonConf(const KafkaConfig& role_ours, const KafkaConfig& role_extra) {
    KafkaConfig ours = {
        {"bootstrap.servers", options.bootstrap_servers},
        {"client.id", options.client_id},
        // Never let a metadata request create a topic with the broker's default partition
        // count: EnsureTopic creates it with one. (The mock ignores this; see PartitionCount.)
        {"allow.auto.create.topics", "false"},
        {"log.connection.close", "false"},
    };
    auto conf = MakeConf({&ours, &role_ours, &options.config, &role_extra});
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_opaque(conf.value().get(), this);
    rd_kafka_conf_set_error_cb(conf.value().get(), &Impl::OnError);
    return conf;
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* d = static_cast<Delivery*>(m->_private);
    if (d == nullptr) return;
    TsanAcquire(d);
    std::shared_ptr<BatchState> batch = std::move(d->batch);
    batch->offsets[d->index] = m->offset;
    batch->errors[d->index] = m->err;
    delete d;
    if (batch->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      { std::lock_guard lock(batch->mu); }  // no wake-up lost between its check and its wait
      batch->delivered.notify_one();
    }
  }

  Status CreateProducer() {
    const std::string timeout_ms = std::to_string(std::max<long long>(1, options.append_timeout.count()));
    KafkaConfig ours = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", timeout_ms},
        {"request.timeout.ms", timeout_ms},
        // A batch is handed over in one produce_batch call; concurrent appends of one
        // process are in flight together, so waiting for more only adds latency.
        {"linger.ms", "0"},
    };
    auto conf = CommonConf(ours, options.producer_config);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(conf.value().get(), &OnDelivery);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.value().get(), err, sizeof err);
    if (rk == nullptr) return Status::Invalid(std::string("cannot create Kafka producer: ") + err);
    conf.value().release();  // owned by rk now
    producer = rk;
    producer_failed = false;
    poller_stop = false;
    producer_poller = std::thread([this, rk] {
      while (!poller_stop.load()) rd_kafka_poll(rk, 50);
    });
    return Status::Ok();
  }

  // Separate from CreateProducer because a topic handle makes the producer ask for the
  // topic's metadata, which auto-creates a missing topic on the mock: only after EnsureTopic.
  Status OpenProducerTopic() {
    producer_topic = rd_kafka_topic_new(producer, options.topic.c_str(), nullptr);
    if (producer_topic == nullptr) {
      return KafkaStatus(rd_kafka_last_error(), "cannot open topic " + options.topic);
    }
    return Status::Ok();
  }

  void DestroyProducer() {
    if (producer == nullptr) return;
    poller_stop = true;
    if (producer_poller.joinable()) producer_poller.join();
    // Whatever is still queued or in flight belongs to an Append that already returned an
    // error; purge it so its delivery reports (and Delivery objects) are served now.
    rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                 RD_KAFKA_PURGE_F_NON_BLOCKING);
    rd_kafka_flush(producer, 100);
    rd_kafka_poll(producer, 0);
    if (producer_topic != nullptr) rd_kafka_topic_destroy(producer_topic);
    rd_kafka_destroy(producer);
    producer = nullptr;
    producer_topic = nullptr;
  }

  Status CreateReader() {
    KafkaConfig ours = {
        {"group.id", kReaderGroup},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        // Reading a deleted offset is an error, never a silent jump to another offset.
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "false"},
        // A Read that moves the position waits for the outstanding long poll to return:
        // keep it short (an idle reader then asks ~100 times a second; raise it through
        // consumer_config for many idle readers on a real cluster).
        {"fetch.wait.max.ms", "10"},
        {"fetch.error.backoff.ms", "50"},
    };
    auto conf = CommonConf(ours, options.consumer_config);
    if (!conf.ok()) return conf.status();
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.value().get(), err, sizeof err);
    if (rk == nullptr) return Status::Invalid(std::string("cannot create Kafka reader: ") + err);
    conf.value().release();
    rd_kafka_poll_set_consumer(rk);
    reader = rk;
    // Learn the topic's leader now: otherwise the first assign() waits for librdkafka's 1 s
    // topic scan before it fetches anything. (The topic exists: no auto-creation here.)
    reader_topic = rd_kafka_topic_new(rk, options.topic.c_str(), nullptr);
    const struct rd_kafka_metadata* md = nullptr;
    if (reader_topic != nullptr &&
        rd_kafka_metadata(rk, 0, reader_topic, &md,
                          static_cast<int>(std::max<long long>(1, options.read_timeout.count()))) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(md);
    }
    return Status::Ok();
  }

  void DestroyClients() {
    StopMeta();
    DestroyProducer();
    if (reader_topic != nullptr) rd_kafka_topic_destroy(reader_topic);
    reader_topic = nullptr;
    DestroyClient(reader);
    reader = nullptr;
  }

  Status CreateMeta() {
    const long long socket_ms = std::clamp<long long>(options.read_timeout.count(), 10, 300000);
    KafkaConfig ours = {{"socket.timeout.ms", std::to_string(socket_ms)}};
    KafkaConfig none;
    auto conf = CommonConf(ours, none);
    if (!conf.ok()) return conf.status();
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.value().get(), err, sizeof err);
    if (rk == nullptr) return Status::Invalid(std::string("cannot create Kafka client: ") + err);
    conf.value().release();
    meta = rk;
    wm_thread = std::thread([this] { WatermarkLoop(); });
    return Status::Ok();
  }

  void StopMeta() {
    {
      std::lock_guard lock(wm_mu);
      wm_stop = true;
    }
    wm_cv.notify_all();
    if (wm_thread.joinable()) wm_thread.join();
    DestroyClient(meta);
    meta = nullptr;
  }

  // Runs the (blocking) watermark queries for every caller, one at a time; callers that ask
  // while a query is running share the next one.
  void WatermarkLoop() {
    std::unique_lock lock(wm_mu);
    for (;;) {
      wm_cv.wait(lock, [&] { return wm_stop || wm_requested > wm_completed; });
      if (wm_stop) return;
      const uint64_t generation = wm_requested;
      lock.unlock();
      Result<Offset> result = QueryOffset(meta, RD_KAFKA_OFFSET_END);
      if (result.ok()) {
        {
          std::lock_guard wait_lock(wait_mu);
          AdvanceEnd(result.value());
        }
        wait_cv.notify_all();
      }
      lock.lock();
      wm_result = std::move(result);
      wm_completed = generation;
      wm_cv.notify_all();
    }
  }

  // The high watermark (end) from a query started after this call, or Timeout at `deadline`.
  Result<Offset> Watermarks(Clock::time_point deadline) {
    std::unique_lock lock(wm_mu);
    const uint64_t target = ++wm_requested;
    wm_cv.notify_all();
    if (!wm_cv.wait_until(lock, deadline, [&] { return wm_stop || wm_completed >= target; })) {
      std::string detail = LastClientError();
      return Status::Timeout("no answer about the end of " + options.topic + " in time" +
                             (detail.empty() ? "" : " (" + detail + ")"));
    }
    if (wm_stop) return Closed();
    return wm_result;
  }

  Result<Offset> Watermarks() { return Watermarks(Clock::now() + options.read_timeout); }

  // ListOffsets for RD_KAFKA_OFFSET_END (the high watermark) or _BEGINNING. Not
  // rd_kafka_query_watermark_offsets: in librdkafka 2.0 it ignores its timeout while the
  // leader is unreachable; offsets_for_times (timestamp -1 / -2 mean latest / earliest) keeps it.
  Result<Offset> QueryOffset(rd_kafka_t* rk, int64_t which) {
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, options.topic.c_str(), kPartition)->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
        rk, parts, static_cast<int>(std::max<long long>(1, options.read_timeout.count())));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = parts->elems[0].err;
    const int64_t offset = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string detail = LastClientError();
      return KafkaStatus(err, std::string("cannot query the ") +
                                  (which == RD_KAFKA_OFFSET_END ? "end" : "beginning") + " of " +
                                  options.topic, detail);
    }
    if (offset < 0) return Status::IOError("no offset for " + options.topic);
    return static_cast<Offset>(offset);
  }

  Status Closed() const { return Status::Closed("Kafka log " + options.topic + " is closed"); }

  Result<Offset> Append(std::span<const std::string> payloads);
  // One group's records in one produce_batch: their offsets, once every report came back.
  Result<std::vector<int64_t>> Produce(const std::vector<std::string_view>& records);
  Result<std::vector<int64_t>> ProduceWithProducer(const std::vector<std::string_view>& records);
  Result<std::vector<LogRecord>> Read(Offset from, std::size_t max_records);
  // WaitFor's fast path: when the reader already fetches from `offset` (a follower that read
  // up to the end), wait on the fetch queue itself, so a new record wakes the follower as soon
  // as it is fetched instead of at the next watermark poll. True if it took a record.
  // Needs read_mu (taken with try_lock: a concurrent Read wins and the caller polls instead).
  bool WaitOnFetch(Offset offset, Clock::time_point deadline);
};

bool KafkaLog::Impl::WaitOnFetch(Offset offset, Clock::time_point deadline) {
  std::unique_lock read_lock(read_mu, std::try_to_lock);
  // Close sets `closed` before it destroys the reader under read_mu.
  if (!read_lock.owns_lock() || closed || reader == nullptr ||
      reader_next != static_cast<int64_t>(offset) || !prefetched.empty()) {
    return false;
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(reader);
  rd_kafka_message_t* msgs[256];
  // A slice, so that appends through this instance and Close are noticed by the caller.
  // consume_batch waits for a full batch, so the first record is waited for alone and the
  // rest taken without waiting.
  ssize_t got = 0;
  if (rd_kafka_message_t* first = rd_kafka_consume_queue(queue, std::min(RemainingMs(deadline), 50))) {
    msgs[0] = first;
    got = 1 + std::max<ssize_t>(0, rd_kafka_consume_batch_queue(queue, 0, msgs + 1, std::size(msgs) - 1));
  }
  rd_kafka_queue_destroy(queue);
  bool took = false;
  for (ssize_t i = 0; i < got; ++i) {
    rd_kafka_message_t* m = msgs[i];
    if (reader_next >= 0 && m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset == reader_next) {
      // A fetched record is below the high watermark: committed, visible to every reader.
      prefetched.push_back(LogRecord{static_cast<Offset>(m->offset), Payload(m)});
      ++reader_next;
      took = true;
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // An error or an unexpected offset: let the next Read reassign and report it.
      prefetched.clear();
      reader_next = -1;
    }
    rd_kafka_message_destroy(m);
  }
  if (took && reader_next >= 0) {
    {
      std::lock_guard lock(wait_mu);
      AdvanceEnd(static_cast<Offset>(reader_next));
    }
    wait_cv.notify_all();
  }
  return took;
}

Result<Offset> KafkaLog::Impl::Append(std::span<const std::string> payloads) {
  PendingAppend me{payloads, std::nullopt, {}};
  std::unique_lock lock(group_mu);
  group_queue.push_back(&me);
  me.wake.wait(lock, [&] { return me.result.has_value() || !group_leader; });
  if (me.result) return std::move(*me.result);
  group_leader = true;
  std::vector<PendingAppend*> group;
  group.swap(group_queue);
  lock.unlock();

  std::vector<std::string_view> records;
  for (const PendingAppend* p : group) records.insert(records.end(), p->payloads.begin(), p->payloads.end());
  Result<std::vector<int64_t>> offsets = Produce(records);
  lock.lock();
  std::size_t at = 0;
  for (PendingAppend* p : group) {
    const std::size_t n = p->payloads.size();
    if (!offsets.ok()) {
      p->result = offsets.status();
    } else {
      const std::vector<int64_t>& o = offsets.value();
      p->result = static_cast<Offset>(o[at]);
      for (std::size_t i = 1; i < n; ++i) {
        if (o[at + i] != o[at] + static_cast<int64_t>(i)) {
          // Another process's records landed inside this batch (a group larger than one
          // MessageSet, appended concurrently from elsewhere).
          p->result = Status::IOError(
              "append to " + options.topic + ": batch written at offsets " +
              std::to_string(o[at]) + ".. is not contiguous (record " + std::to_string(i) +
              " at " + std::to_string(o[at + i]) + "): another producer interleaved");
          break;
        }
      }
    }
    at += n;
    if (p != &me) p->wake.notify_one();
  }
  group_leader = false;
  // Whoever queued meanwhile: the first of them leads the next group (the others wait on).
  if (!group_queue.empty()) group_queue.front()->wake.notify_one();
  return std::move(*me.result);
}

Result<std::vector<int64_t>> KafkaLog::Impl::Produce(const std::vector<std::string_view>& records) {
  for (;;) {
    {
      std::shared_lock use(producer_mu);
      if (closed) return Closed();
      if (!producer_failed && producer != nullptr) return ProduceWithProducer(records);
    }
    std::unique_lock recreate(producer_mu);
    if (closed) return Closed();
    if (producer_failed || producer == nullptr) {
      DestroyProducer();
      if (Status s = CreateProducer(); !s.ok()) return s;
      if (Status s = OpenProducerTopic(); !s.ok()) return s;
    }
  }
}

Result<std::vector<int64_t>> KafkaLog::Impl::ProduceWithProducer(
    const std::vector<std::string_view>& payloads) {
  const auto deadline = Clock::now() + options.append_timeout;
  const size_t n = payloads.size();
  if (n > static_cast<size_t>(INT_MAX)) return Status::Invalid("append batch too large");

  auto batch = std::make_shared<BatchState>(n);
  std::vector<rd_kafka_message_t> msgs(n);
  for (size_t i = 0; i < n; ++i) {
    msgs[i] = rd_kafka_message_t{};
    msgs[i].payload = const_cast<char*>(payloads[i].data());  // copied: RD_KAFKA_MSG_F_COPY
    msgs[i].len = payloads[i].size();
    msgs[i]._private = new Delivery{batch, i};
    TsanRelease(msgs[i]._private);
  }
  // Counted before the batch is handed over: its reports may come back at once.
  batch->pending.store(n);
  // produce_batch puts the whole batch on the partition queue at once, so librdkafka sends
  // it in as few MessageSets as its size limits allow and never splits it around another
  // batch of ours.
  const int enqueued = rd_kafka_produce_batch(producer_topic, kPartition, RD_KAFKA_MSG_F_COPY,
                                              msgs.data(), static_cast<int>(n));
  rd_kafka_resp_err_t enqueue_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (size_t i = 0; i < n; ++i) {
    if (msgs[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (enqueue_err == RD_KAFKA_RESP_ERR_NO_ERROR) enqueue_err = msgs[i].err;
      delete static_cast<Delivery*>(msgs[i]._private);
      batch->pending.fetch_sub(1);
    }
  }
  if (enqueue_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Take back what has not been sent yet; what is already in flight may still land.
    rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING);
    return KafkaStatus(enqueue_err, "cannot append to " + options.topic,
                       std::to_string(enqueued) + " of " + std::to_string(n) +
                           " records were queued");
  }

  {
    std::unique_lock lock(batch->mu);
    batch->delivered.wait_until(lock, deadline, [&] { return batch->pending.load() == 0; });
  }
  if (const size_t pending = batch->pending.load(); pending > 0) {
    rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING);
    std::string detail = std::to_string(pending) + " of " + std::to_string(n) +
                         " records unacknowledged; some may still be written";
    if (std::string e = LastClientError(); !e.empty()) detail += "; " + e;
    return Status::Timeout("append to " + options.topic + " not acknowledged within " +
                           std::to_string(options.append_timeout.count()) + " ms (" + detail +
                           ")");
  }
  for (size_t i = 0; i < n; ++i) {
    if (batch->errors[i] != RD_KAFKA_RESP_ERR_NO_ERROR) {
      char fatal[512];
      std::string detail = "record " + std::to_string(i) + " of " + std::to_string(n);
      if (rd_kafka_fatal_error(producer, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        producer_failed = true;
        detail += "; fatal producer error, the producer will be recreated: ";
        detail += fatal;
      } else if (std::string e = LastClientError(); !e.empty()) {
        detail += "; " + e;
      }
      return KafkaStatus(batch->errors[i], "append to " + options.topic + " failed", detail);
    }
  }
  {
    std::lock_guard lock(wait_mu);
    AdvanceEnd(static_cast<Offset>(*std::max_element(batch->offsets.begin(), batch->offsets.end())) + 1);
  }
  wait_cv.notify_all();
  return batch->offsets;
}

Result<std::vector<LogRecord>> KafkaLog::Impl::Read(Offset from, std::size_t max_records) {
  std::vector<LogRecord> out;
  if (max_records == 0) return out;
  std::lock_guard read_lock(read_mu);
  if (!prefetched.empty()) {
    if (prefetched.front().offset == from) {
      while (!prefetched.empty() && out.size() < max_records) {
        out.push_back(std::move(prefetched.front()));
        prefetched.pop_front();
      }
      return out;
    }
    prefetched.clear();  // another position: refetch from there
    reader_next = -1;
  }
  const auto deadline = Clock::now() + options.read_timeout;
  // Behind the end already known (a catch-up, or records this instance appended): no need to
  // ask the broker where the end is.
  Offset end = known_end.load();
  if (from >= end) {
    auto wm = Watermarks(deadline);
    if (!wm.ok()) return wm.status();
    end = wm.value();
  }
  if (from >= end) return out;
  const size_t want = static_cast<size_t>(std::min<Offset>(max_records, end - from));
  out.reserve(want);

  if (reader_next != static_cast<int64_t>(from)) {
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, options.topic.c_str(), kPartition)->offset =
        static_cast<int64_t>(from);
    rd_kafka_resp_err_t err = rd_kafka_assign(reader, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      reader_next = -1;
      return KafkaStatus(err, "cannot read " + options.topic + " from " + std::to_string(from));
    }
    reader_next = static_cast<int64_t>(from);
  }

  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(reader);
  std::vector<rd_kafka_message_t*> msgs(std::min<size_t>(want, 4096));
  Status status;
  int64_t expected = static_cast<int64_t>(from);
  while (out.size() < want && status.ok()) {
    int left = RemainingMs(deadline);
    if (left == 0) break;
    const size_t chunk = std::min(msgs.size(), want - out.size());
    ssize_t got = rd_kafka_consume_batch_queue(queue, left, msgs.data(), chunk);
    if (got < 0) {
      status = KafkaStatus(rd_kafka_last_error(), "cannot read " + options.topic);
      break;
    }
    for (ssize_t i = 0; i < got; ++i) {
      rd_kafka_message_t* m = msgs[i];
      if (!status.ok()) {
        // Drain the rest of this batch after an error.
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
          status = Status::NotFound("offset " + std::to_string(expected) + " of " +
                                    options.topic + " is no longer stored (retention; the "
                                    "mock cluster keeps only ~5 MB per partition)");
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          std::string detail;
          if (const char* e = rd_kafka_message_errstr(m); e != nullptr) detail = e;
          status = KafkaStatus(m->err, "cannot read " + options.topic + " at " +
                                           std::to_string(expected), detail);
        }
      } else if (m->offset < expected) {
        // Left over from before a reassignment: not ours.
      } else if (m->offset > expected) {
        status = Status::Corruption(
            "offsets of " + options.topic + " are not dense: expected " +
            std::to_string(expected) + ", got " + std::to_string(m->offset) +
            " (compacted or transactional topic?)");
      } else if (out.size() < want) {
        out.push_back(LogRecord{static_cast<Offset>(m->offset), Payload(m)});
        ++expected;
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_queue_destroy(queue);
  if (!status.ok()) {
    reader_next = -1;  // reassign next time: the fetch position is now unknown
    return status;
  }
  reader_next = expected;
  if (out.empty()) {
    reader_next = -1;
    std::string detail = LastClientError();
    return Status::Timeout("read of " + options.topic + " at " + std::to_string(from) +
                           " got nothing within " + std::to_string(options.read_timeout.count()) +
                           " ms" + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return out;
}

KafkaLog::KafkaLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaLog::~KafkaLog() { Close(); }

Result<std::unique_ptr<KafkaLog>> KafkaLog::Open(KafkaLogOptions options) {
  if (options.bootstrap_servers.empty()) return Status::Invalid("no Kafka bootstrap servers");
  if (options.topic.empty()) return Status::Invalid("no Kafka topic");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const auto deadline = Clock::now() + impl->options.open_timeout;
  if (Status s = impl->CreateMeta(); !s.ok()) return s;
  const KafkaLogOptions& o = impl->options;
  if (Status s = EnsureTopic(impl->meta, o.topic, o.create_topic, o.replication_factor,
                             deadline);
      !s.ok()) {
    return MakeStatus(s.code(), "Kafka log " + o.topic + " at " + o.bootstrap_servers + ": " +
                                    s.message());
  }
  if (Status s = impl->CreateProducer(); !s.ok()) return s;
  if (Status s = impl->OpenProducerTopic(); !s.ok()) return s;
  if (Status s = impl->CreateReader(); !s.ok()) return s;
  auto wm = impl->Watermarks(deadline);
  if (!wm.ok()) return wm.status();
  return std::unique_ptr<KafkaLog>(new KafkaLog(std::move(impl)));
}

Result<Offset> KafkaLog::Append(std::span<const std::string> payloads) {
  if (impl_->closed) return impl_->Closed();
  std::shared_lock life(impl_->life_mu);
  if (impl_->closed) return impl_->Closed();
  if (payloads.empty()) return impl_->known_end.load();
  return impl_->Append(payloads);
}

Result<std::vector<LogRecord>> KafkaLog::Read(Offset from, std::size_t max_records) {
  if (impl_->closed) return impl_->Closed();
  std::shared_lock life(impl_->life_mu);
  if (impl_->closed) return impl_->Closed();
  return impl_->Read(from, max_records);
}

Offset KafkaLog::WaitFor(Offset offset, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Impl& m = *impl_;
  for (;;) {
    if (m.known_end.load() > offset || m.closed || Clock::now() >= deadline) {
      return m.known_end.load();
    }
    if (m.WaitOnFetch(offset, deadline)) continue;
    (void)m.Watermarks(std::min(deadline, Clock::now() + m.options.read_timeout));
    if (m.known_end.load() > offset || Clock::now() >= deadline) return m.known_end.load();
    // Appends made through this instance wake us at once; others show up at the next query.
    std::unique_lock lock(m.wait_mu);
    m.wait_cv.wait_until(lock, std::min(deadline, Clock::now() + m.options.tail_poll_interval),
                         [&] { return m.known_end.load() > offset || m.closed.load(); });
  }
}

Offset KafkaLog::End() const {
  if (!impl_->closed) (void)impl_->Watermarks();
  return impl_->known_end.load();
}

Result<Offset> KafkaLog::QueryEnd() const {
  if (impl_->closed) return impl_->Closed();
  return impl_->Watermarks();
}

Result<Offset> KafkaLog::Begin() const {
  if (impl_->closed) return impl_->Closed();
  std::shared_lock life(impl_->life_mu);
  if (impl_->closed) return impl_->Closed();
  return impl_->QueryOffset(impl_->meta, RD_KAFKA_OFFSET_BEGINNING);
}

const std::string& KafkaLog::topic() const { return impl_->options.topic; }

Status KafkaLog::Close() {
  if (!impl_ || impl_->closed.exchange(true)) return Status::Ok();
  {
    std::lock_guard lock(impl_->wait_mu);
  }
  impl_->wait_cv.notify_all();
  std::unique_lock life(impl_->life_mu);
  std::unique_lock producer_lock(impl_->producer_mu);
  std::lock_guard read_lock(impl_->read_mu);
  impl_->DestroyClients();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// KafkaGroupConsumer

struct KafkaGroupConsumer::Impl {
  KafkaGroupOptions options;
  rd_kafka_t* rk = nullptr;
  std::atomic<bool> assigned{false};
  std::atomic<bool> closed{false};

  ~Impl() { DestroyClient(rk); }

  void Assign(rd_kafka_topic_partition_list_t* parts) {
    if (options.on_assigned) {
      if (std::optional<Offset> from = options.on_assigned()) {
        for (int i = 0; i < parts->cnt; ++i) {
          parts->elems[i].offset = static_cast<int64_t>(*from);
        }
      }
    }
    rd_kafka_assign(rk, parts);
    assigned = parts->cnt > 0;
  }

  void Revoke() {
    if (assigned.exchange(false) && options.on_revoked) options.on_revoked();
    rd_kafka_assign(rk, nullptr);
  }

  static void OnRebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->Assign(parts);
    } else {
      self->Revoke();
    }
  }
};

KafkaGroupConsumer::KafkaGroupConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaGroupConsumer::~KafkaGroupConsumer() { Close(); }

Result<std::unique_ptr<KafkaGroupConsumer>> KafkaGroupConsumer::Open(KafkaGroupOptions options) {
  if (options.bootstrap_servers.empty()) return Status::Invalid("no Kafka bootstrap servers");
  if (options.topic.empty()) return Status::Invalid("no Kafka topic");
  if (options.group_id.empty()) return Status::Invalid("no consumer group id");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const KafkaGroupOptions& o = impl->options;
  const auto deadline = Clock::now() + o.open_timeout;
  const long long session = std::max<long long>(1, o.session_timeout.count());
  KafkaConfig ours = {
      {"bootstrap.servers", o.bootstrap_servers},
      {"client.id", o.client_id},
      {"group.id", o.group_id},
      {"allow.auto.create.topics", "false"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // No committed offset and no checkpoint: a worker starts at the beginning of history.
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // Eager protocol: the rebalance callback gets whole assignments, which is what "the
      // active worker" means with one partition.
      {"partition.assignment.strategy", "range"},
      {"session.timeout.ms", std::to_string(session)},
      {"heartbeat.interval.ms", std::to_string(std::max<long long>(1, session / 3))},
      {"fetch.wait.max.ms", "100"},
      {"log.connection.close", "false"},
  };
  auto conf = MakeConf({&ours, &o.config});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf.value().get(), impl.get());
  rd_kafka_conf_set_rebalance_cb(conf.value().get(), &Impl::OnRebalance);
  char err[512];
  impl->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.value().get(), err, sizeof err);
  if (impl->rk == nullptr) {
    return Status::Invalid(std::string("cannot create Kafka group consumer: ") + err);
  }
  conf.value().release();
  rd_kafka_poll_set_consumer(impl->rk);
  if (Status s = EnsureTopic(impl->rk, o.topic, false, -1, deadline); !s.ok()) {
    return MakeStatus(s.code(), "group " + o.group_id + " on " + o.topic + ": " + s.message());
  }
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t serr = rd_kafka_subscribe(impl->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (serr != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(serr, "cannot subscribe to " + o.topic);
  }
  return std::unique_ptr<KafkaGroupConsumer>(new KafkaGroupConsumer(std::move(impl)));
}

Result<std::vector<LogRecord>> KafkaGroupConsumer::Poll(std::size_t max_records,
                                                        std::chrono::milliseconds timeout) {
  if (impl_->closed) return Status::Closed("group consumer is closed");
  std::vector<LogRecord> out;
  const auto deadline = Clock::now() + timeout;
  while (out.size() < max_records) {
    // Wait only for the first record; then take what is already buffered.
    rd_kafka_message_t* m =
        rd_kafka_consumer_poll(impl_->rk, out.empty() ? RemainingMs(deadline) : 0);
    if (m == nullptr) {
      if (!out.empty() || RemainingMs(deadline) == 0) break;
      continue;  // a rebalance callback ran; keep waiting
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_resp_err_t e = m->err;
      std::string detail;
      if (const char* s = rd_kafka_message_errstr(m); s != nullptr) detail = s;
      rd_kafka_message_destroy(m);
      if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (!out.empty()) break;  // deliver what we have; the error comes back next time
      return KafkaStatus(e, "group " + impl_->options.group_id + " on " + impl_->options.topic,
                         detail);
    }
    out.push_back(LogRecord{static_cast<Offset>(m->offset), Payload(m)});
    rd_kafka_message_destroy(m);
  }
  return out;
}

bool KafkaGroupConsumer::assigned() const { return impl_->assigned.load(); }

Status KafkaGroupConsumer::Commit(Offset next) {
  if (impl_->closed) return Status::Closed("group consumer is closed");
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, impl_->options.topic.c_str(), kPartition)->offset =
      static_cast<int64_t>(next);
  // The blocking rd_kafka_commit() has no timeout; a private result queue gives us one.
  rd_kafka_queue_t* q = rd_kafka_queue_new(impl_->rk);
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(impl_->rk, parts, q, nullptr, nullptr);
  rd_kafka_topic_partition_list_destroy(parts);
  Status status;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = KafkaStatus(err, "cannot commit offset " + std::to_string(next));
  } else {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(
        q, static_cast<int>(std::max<long long>(1, impl_->options.commit_timeout.count())));
    if (ev == nullptr) {
      status = Status::Timeout("commit of offset " + std::to_string(next) + " to group " +
                               impl_->options.group_id + " not confirmed in time");
    } else {
      rd_kafka_resp_err_t cerr = rd_kafka_event_error(ev);
      if (cerr == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const rd_kafka_topic_partition_list_t* r = rd_kafka_event_topic_partition_list(ev);
        for (int i = 0; r != nullptr && i < r->cnt; ++i) {
          if (r->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) cerr = r->elems[i].err;
        }
      }
      if (cerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = KafkaStatus(cerr, "cannot commit offset " + std::to_string(next) +
                                       " to group " + impl_->options.group_id);
      }
      rd_kafka_event_destroy(ev);
    }
  }
  rd_kafka_queue_destroy(q);
  return status;
}

Status KafkaGroupConsumer::Close() {
  if (!impl_ || impl_->closed.exchange(true)) return Status::Ok();
  // Leave the group so the partition moves on now rather than after session.timeout.ms;
  // bounded, because a dead coordinator must not hang shutdown.
  rd_kafka_queue_t* q = rd_kafka_queue_new(impl_->rk);
  Status status;
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(impl_->rk, q); e != nullptr) {
    status = Status::Unavailable(std::string("cannot leave group: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  } else {
    const auto deadline = Clock::now() + impl_->options.session_timeout;
    while (!rd_kafka_consumer_closed(impl_->rk)) {
      if (RemainingMs(deadline) == 0) {
        status = Status::Timeout("leaving group " + impl_->options.group_id + " timed out");
        break;
      }
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q, std::min(RemainingMs(deadline), 100));
      if (ev == nullptr) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) impl_->Revoke();
      rd_kafka_event_destroy(ev);
    }
  }
  if (impl_->assigned.exchange(false) && impl_->options.on_revoked) impl_->options.on_revoked();
  rd_kafka_queue_destroy(q);
  DestroyClient(impl_->rk);
  impl_->rk = nullptr;
  return status;
}

}  // namespace isucoin::events
