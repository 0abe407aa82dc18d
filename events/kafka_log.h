// KafkaLog: the Log interface on one Kafka topic-partition (librdkafka). See events/KAFKA.md.
//
// A Log offset IS the Kafka offset of partition 0. That holds only because the topic has one
// partition, is never compacted, and is written without transactions (commit markers would
// take offsets): then a fresh topic's offsets are dense and start at 0. Read() checks it and
// reports a gap as Corruption instead of silently renumbering.
//
// KafkaGroupConsumer is the other way to read: workers that share a topic through a consumer
// group (one active member gets partition 0; the others take over on its failure).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/log.h"
#include "events/status.h"

namespace isucoin::events {

// The two topics of an exchange, `<prefix>.commands` and `<prefix>.events`.
struct KafkaTopicNames {
  std::string commands;
  std::string events;
};
KafkaTopicNames KafkaTopicsFor(std::string_view prefix);

using KafkaConfig = std::vector<std::pair<std::string, std::string>>;

struct KafkaLogOptions {
  std::string bootstrap_servers;  // "host:port,host:port"
  std::string topic;              // see KafkaTopicsFor
  std::string client_id = "isucoin";

  // Open: reaching the cluster, checking (and creating) the topic.
  std::chrono::milliseconds open_timeout{10000};
  // One Append: from produce to the last delivery report. Also librdkafka's message.timeout.ms,
  // so a message that misses it is not retried behind our back afterwards.
  std::chrono::milliseconds append_timeout{10000};
  // One Read, End() or watermark query.
  std::chrono::milliseconds read_timeout{5000};
  // WaitFor asks the broker for the high watermark this often when nothing was appended
  // through this instance (appends made here wake waiters at once).
  std::chrono::milliseconds tail_poll_interval{5};

  // Create the topic (1 partition) when it is missing. librdkafka's mock cluster cannot
  // (no CreateTopics): create topics there up front (tools/devbroker --prefix).
  bool create_topic = true;
  int replication_factor = -1;  // -1: the broker's default.

  // Extra librdkafka properties, applied after ours (they win): to every client, then to the
  // producer or the reader only.
  KafkaConfig config;
  KafkaConfig producer_config;
  KafkaConfig consumer_config;
};

class KafkaLog final : public Log {
 public:
  // Connects, checks that `topic` exists with exactly one partition (creating it if allowed),
  // and starts an idempotent producer (acks=all) and a reader.
  static Result<std::unique_ptr<KafkaLog>> Open(KafkaLogOptions options);

  ~KafkaLog() override;
  KafkaLog(const KafkaLog&) = delete;
  KafkaLog& operator=(const KafkaLog&) = delete;

  // Returns once every delivery report of the batch succeeded; the batch occupies
  // consecutive offsets (concurrent appends through one KafkaLog never interleave their
  // batches). Thread-safe: concurrent appends share one produce round trip (group commit). On failure or timeout
  // some records of the batch may still have been written: retrying is safe because every
  // consumer dedupes by sequence (events/KAFKA.md).
  Result<Offset> Append(std::span<const std::string> payloads) override;
  // Kafka-specific errors: NotFound when `from` was deleted by retention (the mock keeps
  // ~5 MB per partition), Corruption when the partition's offsets are not dense.
  Result<std::vector<LogRecord>> Read(Offset from, std::size_t max_records) override;
  Offset WaitFor(Offset offset, std::chrono::milliseconds timeout) override;
  // A broker round trip (high watermark); on failure the last end this instance knew.
  Offset End() const override;
  Status Close() override;

  // The high watermark with its error, for callers that must tell "empty" from "unreachable".
  Result<Offset> QueryEnd() const;
  // The first offset still stored (0 unless retention deleted records).
  Result<Offset> Begin() const;
  const std::string& topic() const;

 private:
  struct Impl;
  explicit KafkaLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct KafkaGroupOptions {
  std::string bootstrap_servers;
  std::string topic;
  std::string group_id;
  std::string client_id = "isucoin";

  std::chrono::milliseconds open_timeout{10000};
  std::chrono::milliseconds commit_timeout{5000};
  // How long the group waits for a silent member before giving its partition to another.
  // Kafka's default is 45 s; tests lower it (the broker enforces group.min.session.timeout.ms).
  std::chrono::milliseconds session_timeout{10000};

  // Called on the polling thread when this member gets partition 0. Return where to resume
  // (the worker's own durable checkpoint), or nullopt to use the group's committed offset
  // (and the beginning of the topic if there is none). The mock cluster keeps no committed
  // offsets across restarts, so workers keep their own checkpoint and dedupe by sequence.
  std::function<std::optional<Offset>()> on_assigned;
  // Called on the polling thread when partition 0 is taken away (rebalance, close).
  std::function<void()> on_revoked;

  KafkaConfig config;
};

class KafkaGroupConsumer {
 public:
  // Joins the group (asynchronously: the first Poll calls drive the join, which takes a few
  // seconds on a fresh group). Fails if the topic is missing or has more than one partition.
  static Result<std::unique_ptr<KafkaGroupConsumer>> Open(KafkaGroupOptions options);

  ~KafkaGroupConsumer();
  KafkaGroupConsumer(const KafkaGroupConsumer&) = delete;
  KafkaGroupConsumer& operator=(const KafkaGroupConsumer&) = delete;

  // Up to `max_records` records, waiting at most `timeout` for the first one. Empty when
  // nothing arrived or this member holds no partition. Rebalance callbacks run in here.
  // Not thread-safe: one thread polls.
  Result<std::vector<LogRecord>> Poll(std::size_t max_records, std::chrono::milliseconds timeout);

  // True while this member holds partition 0 (is the active worker).
  bool assigned() const;

  // Synchronously commits `next`, the offset of the first record not yet processed.
  Status Commit(Offset next);

  // Leaves the group (its partition moves to another member without waiting for the session
  // timeout). Later calls fail with Closed.
  Status Close();

 private:
  struct Impl;
  explicit KafkaGroupConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isucoin::events
